"""Reading settings from THIRDWAY_* variables: a bad value stops start-up with a message naming
the variable and what is allowed; production settings pass Django's deployment checks."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import pytest

from thirdway.environment import Environment, SettingError

DATABASE_ALLOWED = "a URL such as sqlite:////path/to/thirdway.sqlite3"


def _refused(call, name: str, allowed: str) -> SettingError:
    with pytest.raises(SettingError) as caught:
        call()
    assert caught.value.name == name
    assert str(caught.value).startswith(f"{name}=")
    assert allowed in str(caught.value)
    return caught.value


# --- booleans ----------------------------------------------------------------------------------


@pytest.mark.parametrize("word", ["1", "true", "True", "YES", "on", " on "])
def test_a_true_word_reads_as_true(word):
    assert Environment({"THIRDWAY_X": word}).bool("THIRDWAY_X", False) is True


@pytest.mark.parametrize("word", ["0", "false", "No", "OFF", ""])
def test_a_false_word_reads_as_false(word):
    assert Environment({"THIRDWAY_X": word}).bool("THIRDWAY_X", True) is False


def test_a_missing_bool_takes_its_default():
    assert Environment({}).bool("THIRDWAY_X", True) is True
    assert Environment({}).bool("THIRDWAY_X", False) is False


@pytest.mark.parametrize("word", ["maybe", "2", "yes please", "t"])
def test_a_bool_that_is_neither_true_nor_false_is_refused(word):
    error = _refused(
        lambda: Environment({"THIRDWAY_DEBUG": word}).bool("THIRDWAY_DEBUG", False),
        "THIRDWAY_DEBUG",
        "one of 1/0, true/false, yes/no, on/off",
    )
    assert repr(word) in str(error)


# --- whole numbers -----------------------------------------------------------------------------


def test_a_whole_number_is_read():
    env = Environment({"THIRDWAY_N": "42"})
    assert env.int("THIRDWAY_N", 7) == 42
    assert Environment({}).int("THIRDWAY_N", 7) == 7


@pytest.mark.parametrize("value", ["ten", "1.5", "", "0x10"])
def test_a_number_that_is_not_whole_is_refused(value):
    _refused(
        lambda: Environment({"THIRDWAY_API_PAGE_SIZE": value}).int(
            "THIRDWAY_API_PAGE_SIZE", 50, minimum=1
        ),
        "THIRDWAY_API_PAGE_SIZE",
        "a whole number of at least 1",
    )


@pytest.mark.parametrize(("value", "minimum"), [("0", 1), ("-1", 0), ("9", 10)])
def test_a_number_below_the_minimum_is_refused(value, minimum):
    _refused(
        lambda: Environment({"THIRDWAY_N": value}).int("THIRDWAY_N", 50, minimum=minimum),
        "THIRDWAY_N",
        f"a whole number of at least {minimum}",
    )


# --- choices and lists -------------------------------------------------------------------------


def test_a_choice_is_one_of_the_allowed_values():
    allowed = ("database", "immediate")
    assert Environment({"THIRDWAY_T": "immediate"}).choice("THIRDWAY_T", "database", allowed) == (
        "immediate"
    )
    assert Environment({}).choice("THIRDWAY_T", "database", allowed) == "database"


@pytest.mark.parametrize("value", ["redis", "Database", ""])
def test_a_value_outside_the_choices_is_refused(value):
    _refused(
        lambda: Environment({"THIRDWAY_TASK_BACKEND": value}).choice(
            "THIRDWAY_TASK_BACKEND", "database", ("database", "immediate")
        ),
        "THIRDWAY_TASK_BACKEND",
        "one of database, immediate",
    )


def test_a_list_is_split_on_commas_without_empty_items():
    env = Environment({"THIRDWAY_ALLOWED_HOSTS": " a.example, b.example,, "})
    assert env.list("THIRDWAY_ALLOWED_HOSTS", ["x"]) == ["a.example", "b.example"]
    assert Environment({}).list("THIRDWAY_ALLOWED_HOSTS", ["x"]) == ["x"]


# --- database URLs -----------------------------------------------------------------------------


def test_a_sqlite_url_gives_a_database_that_queues_its_writers(tmp_path):
    url = f"sqlite:///{tmp_path}/thirdway.sqlite3"
    config = Environment({"THIRDWAY_DATABASE_URL": url}).database("THIRDWAY_DATABASE_URL", "")
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == f"{tmp_path}/thirdway.sqlite3"
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in config["OPTIONS"]["init_command"]


@pytest.mark.parametrize("scheme", ["postgres", "postgresql"])
def test_a_postgres_url_gives_its_parts(scheme):
    url = f"{scheme}://tw:pw@db.example:6543/thirdway"
    config = Environment({"THIRDWAY_DATABASE_URL": url}).database("THIRDWAY_DATABASE_URL", "")
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["NAME"], config["USER"], config["PASSWORD"]) == ("thirdway", "tw", "pw")
    assert (config["HOST"], config["PORT"]) == ("db.example", 6543)


def test_postgresql_connections_compile_no_query_unless_the_url_says_so(db):
    """JIT is off on our connections (short queries priced high compiled for 300 ms); options
    in the URL are kept and, coming last, win."""
    from django.db import connection

    env = Environment({"URL": "postgres://tw@db.example/thirdway"})
    assert env.database("URL", "")["OPTIONS"]["options"] == "-c jit=off"
    env = Environment({"URL": "postgres://tw@db.example/thirdway?options=-c%20jit%3Don"})
    assert env.database("URL", "")["OPTIONS"]["options"] == "-c jit=off -c jit=on"
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW jit")
            assert cursor.fetchone()[0] == "off"


def test_the_default_database_url_is_used_when_none_is_set(tmp_path):
    config = Environment({}).database("THIRDWAY_DATABASE_URL", f"sqlite:///{tmp_path}/d.sqlite3")
    assert config["NAME"] == f"{tmp_path}/d.sqlite3"


@pytest.mark.parametrize(
    "url",
    [
        "mysql://root@db/thirdway",
        "thirdway.sqlite3",
        "postgres://tw@db:notaport/thirdway",
        "sqlite://",
        "sqlite:///",
        "postgres://db.example",
        "",
    ],
)
def test_a_database_url_thirdway_cannot_use_is_refused(url):
    _refused(
        lambda: Environment({"THIRDWAY_DATABASE_URL": url}).database(
            "THIRDWAY_DATABASE_URL", "sqlite:////tmp/x.sqlite3"
        ),
        "THIRDWAY_DATABASE_URL",
        DATABASE_ALLOWED,
    )


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("postgres://tw:hunter2@db:notaport/thirdway", "tw:***@db"),
        ("mysql://root:hunter2@db/thirdway", "root:***@db"),
    ],
)
def test_the_error_about_a_database_url_does_not_show_its_password(url, masked):
    error = _refused(
        lambda: Environment({"THIRDWAY_DATABASE_URL": url}).database("THIRDWAY_DATABASE_URL", ""),
        "THIRDWAY_DATABASE_URL",
        DATABASE_ALLOWED,
    )
    assert "hunter2" not in str(error)
    assert masked in str(error)
    assert error.__cause__ is None


# --- values from files -------------------------------------------------------------------------


def test_a_secret_may_come_from_a_file(tmp_path):
    path = tmp_path / "key"
    path.write_text("s3cret-value\n")
    env = Environment({"THIRDWAY_SECRET_KEY_FILE": str(path)})
    assert env.raw("THIRDWAY_SECRET_KEY") == "s3cret-value"
    assert env.str("THIRDWAY_SECRET_KEY", "default") == "s3cret-value"


def test_the_file_wins_over_the_plain_variable(tmp_path):
    path = tmp_path / "flag"
    path.write_text("on")
    env = Environment({"THIRDWAY_HTTPS": "0", "THIRDWAY_HTTPS_FILE": str(path)})
    assert env.bool("THIRDWAY_HTTPS", False) is True


def test_a_value_from_a_file_is_checked_like_any_other(tmp_path):
    path = tmp_path / "size"
    path.write_text("lots")
    _refused(
        lambda: Environment({"THIRDWAY_API_PAGE_SIZE_FILE": str(path)}).int(
            "THIRDWAY_API_PAGE_SIZE", 50, minimum=1
        ),
        "THIRDWAY_API_PAGE_SIZE",
        "a whole number of at least 1",
    )


def test_a_database_url_may_come_from_a_file(tmp_path):
    path = tmp_path / "url"
    path.write_text("postgres://tw:pw@db/thirdway\n")
    env = Environment({"THIRDWAY_DATABASE_URL_FILE": str(path)})
    assert env.database("THIRDWAY_DATABASE_URL", "sqlite:////x")["NAME"] == "thirdway"


@pytest.mark.parametrize("kind", ["missing", "directory"])
def test_a_file_that_cannot_be_read_is_an_error(tmp_path, kind):
    path = tmp_path / "nowhere" if kind == "missing" else tmp_path
    env = Environment({"THIRDWAY_SECRET_KEY_FILE": str(path), "THIRDWAY_SECRET_KEY": "x" * 60})
    error = _refused(
        lambda: env.raw("THIRDWAY_SECRET_KEY"),
        "THIRDWAY_SECRET_KEY_FILE",
        "the path of a readable file holding the value",
    )
    assert str(path) in str(error)


def test_an_empty_file_variable_falls_back_to_the_plain_one():
    env = Environment({"THIRDWAY_LOG_LEVEL_FILE": "", "THIRDWAY_LOG_LEVEL": "DEBUG"})
    assert env.str("THIRDWAY_LOG_LEVEL", "INFO") == "DEBUG"


def test_the_process_environment_is_read_by_default(monkeypatch):
    monkeypatch.setenv("THIRDWAY_SOMETHING", "yes")
    assert Environment().bool("THIRDWAY_SOMETHING", False) is True


# --- the settings module, started as a process would -------------------------------------------


def _environment(home, **variables) -> dict[str, str]:
    """The test's environment without any THIRDWAY_* variable, plus ``variables``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("THIRDWAY_")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env["THIRDWAY_HOME"] = str(home)
    env.update(variables)
    return env


def _python(home, *arguments, **variables) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, *arguments],
        env=_environment(home, **variables),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _key() -> str:
    return secrets.token_urlsafe(48)[:64]


def test_settings_start_with_no_variable_set(tmp_path):
    done = _python(
        tmp_path,
        "-c",
        "import thirdway.settings as s; print(s.DEBUG, s.HTTPS, s.DATABASES['default']['NAME'])",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "False", str(tmp_path / "thirdway.sqlite3")]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("THIRDWAY_DEBUG", "maybe"),
        ("THIRDWAY_HTTPS", "sure"),
        ("THIRDWAY_REQUIRE_ADMIN_2FA", "please"),
        ("THIRDWAY_API_PAGE_SIZE", "0"),
        ("THIRDWAY_MAIL_PROCESSES", "0"),
        ("THIRDWAY_MAIL_PROCESSES", "two"),
        ("THIRDWAY_TASK_BACKEND", "celery"),
        ("THIRDWAY_DATABASE_URL", "mysql://db/thirdway"),
        ("THIRDWAY_SECRET_KEY_FILE", "/nonexistent/thirdway/key"),
    ],
)
def test_settings_with_a_bad_value_stop_naming_the_variable(tmp_path, name, value):
    done = _python(tmp_path, "-c", "import thirdway.settings", **{name: value})
    assert done.returncode != 0
    assert "SettingError" in done.stderr
    assert f"{name}=" in done.stderr
    assert "is not valid:" in done.stderr


@pytest.mark.parametrize("key", ["too-short", "a" * 60, "ab" * 40])
def test_a_secret_key_that_is_short_or_not_random_is_refused_without_being_shown(tmp_path, key):
    done = _python(tmp_path, "-c", "import thirdway.settings", THIRDWAY_SECRET_KEY=key)
    assert done.returncode != 0
    assert "THIRDWAY_SECRET_KEY=" in done.stderr
    assert "a random string of at least 50 characters" in done.stderr
    assert key not in done.stderr


def test_a_secret_key_of_50_characters_is_accepted(tmp_path):
    key = _key()[:50]
    done = _python(
        tmp_path,
        "-c",
        "import thirdway.settings as s; print(s.SECRET_KEY)",
        THIRDWAY_SECRET_KEY=key,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == key


def test_the_secret_key_may_come_from_a_file(tmp_path):
    key = _key()
    path = tmp_path / "key"
    path.write_text(key + "\n")
    done = _python(
        tmp_path,
        "-c",
        "import thirdway.settings as s; print(s.SECRET_KEY)",
        THIRDWAY_SECRET_KEY_FILE=str(path),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == key


def test_without_a_configured_key_one_is_made_once_and_kept_private(tmp_path):
    code = "import thirdway.settings as s; print(s.SECRET_KEY)"
    first = _python(tmp_path, "-c", code)
    second = _python(tmp_path, "-c", code)
    assert first.returncode == second.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    assert len(first.stdout.strip()) >= 50
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


# --- production settings pass Django's deployment checks ---------------------------------------

DEPLOY_CHECK = ("-m", "django", "check", "--deploy", "--fail-level", "WARNING")
PRODUCTION = {"THIRDWAY_HTTPS": "1", "THIRDWAY_ALLOWED_HOSTS": "desk.example.com"}


def test_production_settings_pass_the_deployment_checks(tmp_path):
    done = _python(
        tmp_path,
        *DEPLOY_CHECK,
        "--settings=thirdway.settings",
        THIRDWAY_SECRET_KEY=_key(),
        **PRODUCTION,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout


def test_production_settings_read_from_files_pass_the_deployment_checks(tmp_path):
    (tmp_path / "key").write_text(_key())
    done = _python(
        tmp_path,
        *DEPLOY_CHECK,
        "--settings=thirdway.settings",
        THIRDWAY_SECRET_KEY_FILE=str(tmp_path / "key"),
        **PRODUCTION,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_deployment_checks_do_complain_without_https(tmp_path):
    done = _python(
        tmp_path,
        *DEPLOY_CHECK,
        "--settings=thirdway.settings",
        THIRDWAY_SECRET_KEY=_key(),
        THIRDWAY_ALLOWED_HOSTS="desk.example.com",
    )
    assert done.returncode != 0
    assert "security.W004" in done.stderr + done.stdout  # no HSTS


def test_production_settings_protect_cookies_and_trust_the_proxy(tmp_path):
    code = (
        "import thirdway.settings as s; print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
        "s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SECURE_PROXY_SSL_HEADER[0], s.DEBUG)"
    )
    done = _python(tmp_path, "-c", code, THIRDWAY_SECRET_KEY=_key(), **PRODUCTION)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [
        "True",
        "True",
        "True",
        "31536000",
        "HTTP_X_FORWARDED_PROTO",
        "False",
    ]


def test_database_connections_are_kept_between_requests_when_asked():
    env = Environment({"THIRDWAY_DATABASE_URL": "postgres://tw@db/thirdway"})
    kept = env.database("THIRDWAY_DATABASE_URL", "sqlite:////x", conn_max_age=600)
    assert kept["CONN_MAX_AGE"] == 600 and kept["CONN_HEALTH_CHECKS"] is True
    each = env.database("THIRDWAY_DATABASE_URL", "sqlite:////x")
    assert each["CONN_MAX_AGE"] == 0 and each["CONN_HEALTH_CHECKS"] is False
