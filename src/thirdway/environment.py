"""Typed readers for the THIRDWAY_* environment variables.

Every setting Thirdway reads from its environment goes through these helpers, so a bad value
stops start-up with a message that names the variable and says what is allowed, instead of
surfacing later as an obscure error.  Secrets may also come from a file: ``NAME_FILE`` holds the
path of a file whose contents are the value (the form Docker and systemd credentials use).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


class SettingError(ImproperlyConfigured):
    """A THIRDWAY_* variable holds a value Thirdway cannot use."""

    def __init__(self, name: str, value: str, allowed: str) -> None:
        self.name = name
        super().__init__(f"{name}={value!r} is not valid: {allowed}")


class Environment:
    """Reads settings from a mapping (``os.environ`` by default)."""

    def __init__(self, source: Mapping[str, str] | None = None) -> None:
        self.source = os.environ if source is None else source

    def raw(self, name: str) -> str | None:
        file_name = self.source.get(f"{name}_FILE")
        if file_name:
            path = Path(file_name)
            if not path.is_file():
                raise SettingError(
                    f"{name}_FILE", file_name, "the path of a readable file holding the value"
                )
            return path.read_text().strip()
        return self.source.get(name)

    def str(self, name: str, default: str) -> str:
        value = self.raw(name)
        return default if value is None else value

    def bool(self, name: str, default: bool) -> bool:
        value = self.raw(name)
        if value is None:
            return default
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise SettingError(name, value, "one of 1/0, true/false, yes/no, on/off")

    def int(self, name: str, default: int, minimum: int = 0) -> int:
        value = self.raw(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            number = None
        if number is None or number < minimum:
            raise SettingError(name, value, f"a whole number of at least {minimum}")
        return number

    def list(self, name: str, default: list[str]) -> list[str]:
        value = self.raw(name)
        if value is None:
            return default
        return [item.strip() for item in value.split(",") if item.strip()]

    def encodings(self, name: str, default: list[str]) -> list[str]:
        """A comma-separated list of text encodings Python knows (``koi8-r``, ``cp1252``...)."""
        import codecs

        names = self.list(name, default)
        for item in names:
            try:
                codecs.lookup(item)
            except LookupError:
                raise SettingError(
                    name, ",".join(names), f"{item!r} is not an encoding Python knows"
                ) from None
        if not names:
            raise SettingError(name, "", "at least one encoding, such as utf-8")
        return names

    def choice(self, name: str, default: str, allowed: tuple[str, ...]) -> str:
        value = self.str(name, default)
        if value not in allowed:
            raise SettingError(name, value, "one of " + ", ".join(allowed))
        return value

    def database(self, name: str, default: str, conn_max_age: int = 0) -> dict:
        """The database of URL ``name``; connections are kept ``conn_max_age`` seconds (0: one
        per request), checked before reuse."""
        import dj_database_url

        value = self.str(name, default)
        allowed = (
            "a URL such as sqlite:////path/to/thirdway.sqlite3 or postgres://user@host:5432/db"
        )
        shown = _without_password(value)
        if not value.startswith(("sqlite://", "postgres://", "postgresql://")):
            raise SettingError(name, shown, allowed)
        try:
            config = dj_database_url.parse(
                value, conn_max_age=conn_max_age, conn_health_checks=conn_max_age > 0
            )
        except ValueError:
            raise SettingError(name, shown, allowed) from None
        # Without a path dj_database_url gives SQLite ":memory:", a database each process would
        # have to itself and lose on exit; a PostgreSQL URL without a database name fails only at
        # the first query.  Both are refused here.
        if config.get("NAME") in (None, "", ":memory:"):
            raise SettingError(name, shown, allowed)
        if config["ENGINE"].endswith("sqlite3"):
            # WAL lets readers work while the worker writes; IMMEDIATE takes the write lock at
            # the start of a transaction so two writers queue instead of failing mid-way.
            config["OPTIONS"] = {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
                ),
            }
        else:
            # No JIT compilation: the queries here each read a few rows, but a search of a rare
            # word on ten million tickets is priced high enough to compile (about 300 ms, for a
            # query that then runs in 1 ms).  Options given in the URL come after, so win.
            options = config.setdefault("OPTIONS", {})
            options["options"] = " ".join(filter(None, ["-c jit=off", options.get("options")]))
        return config


def _without_password(url: str) -> str:
    """A database URL fit for an error message: its password, if any, replaced by ***."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return "<hidden>"
    if not password:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))
