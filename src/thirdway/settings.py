"""The one settings module of Thirdway, read from THIRDWAY_* environment variables.

See docs/operations.md for every variable.  A bad value stops start-up with a message naming the
variable and what is allowed (``thirdway.environment``).
"""

from __future__ import annotations

import secrets
from pathlib import Path

from thirdway.environment import Environment, SettingError
from thirdway.mail import spool as mail_spool

env = Environment()

HOME = Path(env.str("THIRDWAY_HOME", str(Path.cwd() / "var"))).resolve()
HOME.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """The configured key, or one generated once and kept in THIRDWAY_HOME for a laptop install."""
    configured = env.raw("THIRDWAY_SECRET_KEY")
    if configured is not None:
        if len(configured) < 50 or len(set(configured)) < 5:
            raise SettingError(
                "THIRDWAY_SECRET_KEY", "<hidden>", "a random string of at least 50 characters"
            )
        return configured
    key_file = HOME / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(64))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env.bool("THIRDWAY_DEBUG", False)
ALLOWED_HOSTS = env.list("THIRDWAY_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
HTTPS = env.bool("THIRDWAY_HTTPS", False)
CSRF_TRUSTED_ORIGINS = env.list("THIRDWAY_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    # The API docs page renders Swagger UI from ninja's own static files, not from a CDN.
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "thirdway.web",
    "thirdway.audit",
    "thirdway.accounts",
    "thirdway.network",
    "thirdway.clients",
    "thirdway.sla",
    "thirdway.clock",
    "thirdway.backup",
    "thirdway.tickets",
    "thirdway.billing",
    "thirdway.monitoring",
    "thirdway.portal",
    "thirdway.mail",
    "thirdway.insights",
    "thirdway.vault",
    "thirdway.playbooks",
    "thirdway.sales",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Before any process_view reads the body (the CSRF check does): vault uploads stream
    # through a size limit (docs/vault.md, "Files").
    "thirdway.vault.uploads.FileUploadLimitMiddleware",
    "thirdway.web.middleware.PrivateAnswersMiddleware",
    "thirdway.accounts.middleware.SecondFactorMiddleware",
    "thirdway.accounts.middleware.UserTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "thirdway.urls"
WSGI_APPLICATION = "thirdway.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# A web process keeps its database connection between requests: opening one costs more than
# most requests (PostgreSQL starts a process per connection).
DATABASES = {
    "default": env.database(
        "THIRDWAY_DATABASE_URL",
        f"sqlite:///{HOME / 'thirdway.sqlite3'}",
        conn_max_age=env.int("THIRDWAY_DATABASE_CONN_MAX_AGE", 600),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# SQLite builds the queue indexes without their INCLUDE columns (PostgreSQL reads them).
SILENCED_SYSTEM_CHECKS = ["models.W040"]

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = HOME / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(HOME / "files")},
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

TASKS = {
    "default": {
        "BACKEND": {
            "database": "django_tasks_db.DatabaseBackend",
            "immediate": "django_tasks.backends.immediate.ImmediateBackend",
        }[env.choice("THIRDWAY_TASK_BACKEND", "database", ("database", "immediate"))]
    }
}

# Practice admins must enrol a TOTP second factor before they can work, when this is on.
REQUIRE_ADMIN_SECOND_FACTOR = env.bool("THIRDWAY_REQUIRE_ADMIN_2FA", False)
API_PAGE_SIZE = env.int("THIRDWAY_API_PAGE_SIZE", 50, minimum=1)
# Every paginated API list answers at most 500 rows a page (thirdway.payloads.Page).
NINJA_PAGINATION_CLASS = "thirdway.payloads.Page"
NINJA_PAGINATION_MAX_LIMIT = 500
# Service desk: attachment size limit, and how long a client's reply reopens a closed ticket.
ATTACHMENT_MAX_BYTES = env.int("THIRDWAY_ATTACHMENT_MAX_MB", 25, minimum=1) * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = ATTACHMENT_MAX_BYTES + 1024 * 1024
# Seconds another process may go on using SLA policies and webhooks it read before a change.
CONFIG_CACHE_SECONDS = env.int("THIRDWAY_CONFIG_CACHE_SECONDS", 5, minimum=0)
TICKET_REOPEN_DAYS = env.int("THIRDWAY_TICKET_REOPEN_DAYS", 14, minimum=0)


def _bounded(name: str, default: int, minimum: int, maximum: int) -> int:
    number = env.int(name, default, minimum=minimum)
    if number > maximum:
        raise SettingError(name, str(number), f"a whole number from {minimum} to {maximum}")
    return number


# Processes the month-end's run and approval use on PostgreSQL, each with its own connection,
# when the run page or the API names none (docs/billing.md, "The month-end at scale"); SQLite
# always uses one.
BILLING_WORKERS = _bounded("THIRDWAY_BILLING_WORKERS", 1, 1, 4)

# Monitoring agents' check-ins (docs/monitoring.md, "Agent check-ins at scale").
# The lean ingest path for heartbeats and results (before Django's router); off: Django's.
AGENT_LEAN_INGEST = env.bool("THIRDWAY_AGENT_LEAN_INGEST", True)
# How long a web process trusts an agent secret it checked: a revoked agent is refused by
# every process within this many seconds (at once by the one that revoked it).
AGENT_AUTH_CACHE_SECONDS = _bounded("THIRDWAY_AGENT_AUTH_CACHE_SECONDS", 10, 0, 30)
# Agents' last seen, coalesced in each web process, is written this often.
AGENT_SEEN_FLUSH_SECONDS = _bounded("THIRDWAY_AGENT_SEEN_FLUSH_SECONDS", 5, 1, 30)
# Check-ins one web process handles at once; more are answered 429 with Retry-After.
AGENT_INGEST_IN_FLIGHT = _bounded("THIRDWAY_AGENT_INGEST_IN_FLIGHT", 8, 1, 1_000)
AGENT_RETRY_AFTER_SECONDS = _bounded("THIRDWAY_AGENT_RETRY_AFTER_SECONDS", 5, 1, 300)
# Agents' results are committed, answered, then evaluated by the task worker; on: evaluated
# in the request before the answer, as before (for an installation that runs no worker).
AGENT_EVALUATE_INLINE = env.bool("THIRDWAY_AGENT_EVALUATE_INLINE", False)
# Check results and agents' batch ids older than this are deleted (daily).
MONITORING_RETENTION_DAYS = _bounded("THIRDWAY_MONITORING_RETENTION_DAYS", 90, 7, 3650)

# How many reverse proxies stand in front and append to X-Forwarded-For (0: none, use the peer).
PROXY_COUNT = env.int("THIRDWAY_PROXY_COUNT", 0, minimum=0)


def _dispatch_weights() -> dict[str, float]:
    """THIRDWAY_DISPATCH_WEIGHTS as "load=2,travel=0.5"; defaults in docs/simulator.md."""
    text = env.str("THIRDWAY_DISPATCH_WEIGHTS", "")
    if not text.strip():
        return {}  # without weights to check, settings need not load the engine (numpy)
    from thirdway.dispatch.engine import Weights

    allowed = f"name=number pairs separated by commas; names: {', '.join(Weights.names())}"
    try:
        pairs = dict(item.split("=", 1) for item in text.split(",") if item.strip())
        weights = {name.strip(): float(value) for name, value in pairs.items()}
        Weights.from_dict(weights)
    except ValueError:
        raise SettingError("THIRDWAY_DISPATCH_WEIGHTS", text, allowed) from None
    return weights


# Dispatch: cost weights over the engine's defaults, and how often the queue is re-optimised.
DISPATCH_WEIGHTS = _dispatch_weights()
DISPATCH_REOPTIMISE_SECONDS = env.int("THIRDWAY_DISPATCH_REOPTIMISE_SECONDS", 300, minimum=10)

# Outgoing mail (one-time sign-in links now; notifications later).
DEFAULT_FROM_EMAIL = env.str("THIRDWAY_MAIL_FROM", "Thirdway <desk@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_HOST = env.str("THIRDWAY_SMTP_HOST", "127.0.0.1")
EMAIL_PORT = env.int("THIRDWAY_SMTP_PORT", 25, minimum=1)
EMAIL_HOST_USER = env.str("THIRDWAY_SMTP_USER", "")
EMAIL_HOST_PASSWORD = env.str("THIRDWAY_SMTP_PASSWORD", "")
EMAIL_USE_TLS = env.bool("THIRDWAY_SMTP_STARTTLS", False)
EMAIL_USE_SSL = env.bool("THIRDWAY_SMTP_SSL", False)
EMAIL_TIMEOUT = 20
# The e-mail channel: message size limit, automatic replies per sender per hour, the domain of
# our Message-IDs (default: the domain of THIRDWAY_MAIL_FROM).
MAIL_MAX_BYTES = env.int("THIRDWAY_MAIL_MAX_MB", 25, minimum=1) * 1024 * 1024
MAIL_AUTO_REPLIES_PER_HOUR = env.int("THIRDWAY_MAIL_AUTO_REPLIES_PER_HOUR", 5, minimum=0)
MAIL_DOMAIN = env.str("THIRDWAY_MAIL_DOMAIN", "")
# The address the desk is reached at (https://desk.example.org): links in the network's
# notification e-mails start with it; without it they give the path alone.
SITE_URL = env.str("THIRDWAY_SITE_URL", "").rstrip("/")
# Processes that process a poll's or a spool drain's messages side by side, each taking whole
# conversations (PostgreSQL only: SQLite writes one transaction at a time).
MAIL_PROCESSES = env.int("THIRDWAY_MAIL_PROCESSES", 2, minimum=1)
# Undeclared 8-bit header bytes: each encoding tried in turn, a single-byte one kept only when
# it reads as text (see mail/parsing.py); UTF-8 first, as it is the one that checks itself.
MAIL_HEADER_CHARSETS = env.encodings(
    "THIRDWAY_MAIL_HEADER_CHARSETS", ["utf-8", "cp1252", "koi8-r", "cp1251"]
)
# Where `thirdway mail ingest` keeps messages for the worker (THIRDWAY_MAIL_SPOOL).
MAIL_SPOOL_DIR = mail_spool.directory()

# Backups (thirdway backup, the clock's scheduled one, the admin page): where they go, how often
# the clock takes one (0: never), how many the scheduled one keeps, and whether it writes the
# secret key beside each archive.
BACKUP_DIR = Path(env.str("THIRDWAY_BACKUP_DIR", str(HOME / "backups"))).resolve()
BACKUP_EVERY_HOURS = env.int("THIRDWAY_BACKUP_EVERY_HOURS", 24, minimum=0)
BACKUP_KEEP = env.int("THIRDWAY_BACKUP_KEEP", 7, minimum=1)
BACKUP_WITH_SECRETS = env.bool("THIRDWAY_BACKUP_WITH_SECRETS", False)

# The vault's master key (docs/vault.md): a file (systemd credentials), else the environment
# variable THIRDWAY_VAULT_MASTER_KEY, else a file generated once in THIRDWAY_HOME; files of
# previous master keys that still wrap data keys until ``thirdway keys rewrap``.
VAULT_MASTER_KEY_FILE = env.str("THIRDWAY_VAULT_MASTER_KEY_FILE", "")
VAULT_PREVIOUS_MASTER_KEY_FILES = env.list("THIRDWAY_VAULT_PREVIOUS_MASTER_KEY_FILES", [])
VAULT_GENERATED_MASTER_KEY_FILE = HOME / "vault_master_key"
# Vault files (docs/vault.md, "Files"): the largest file, each client's quota unless set on
# its page, and the clamd socket of the antivirus hook (empty: no scan).
VAULT_FILE_MAX_BYTES = env.int("THIRDWAY_VAULT_FILE_MAX_MB", 1024, minimum=1) * 1024 * 1024
VAULT_QUOTA_BYTES = env.int("THIRDWAY_VAULT_QUOTA_MB", 10240, minimum=0) * 1024 * 1024
VAULT_CLAMD_SOCKET = env.str("THIRDWAY_CLAMD_SOCKET", "")
VAULT_CLAMD_TIMEOUT = env.int("THIRDWAY_CLAMD_TIMEOUT", 60, minimum=1)
# Domain expiry dates from RDAP (docs/vault.md, "Expirations"): IANA's bootstrap list, read
# again after this many hours; host:port pairs the SSRF guard lets through although private
# (an internal RDAP mirror; empty: public addresses only); seconds per request.
VAULT_RDAP_BOOTSTRAP_URL = env.str(
    "THIRDWAY_RDAP_BOOTSTRAP_URL", "https://data.iana.org/rdap/dns.json"
)
VAULT_RDAP_BOOTSTRAP_HOURS = env.int("THIRDWAY_RDAP_BOOTSTRAP_HOURS", 24, minimum=1)
VAULT_RDAP_ALLOWED_HOSTS = env.list("THIRDWAY_RDAP_ALLOWED_HOSTS", [])
VAULT_RDAP_TIMEOUT = env.int("THIRDWAY_RDAP_TIMEOUT", 15, minimum=1)

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Every page, script, style, image and request comes from our own origin: no inline script or
# style, no eval, no plug-ins, no framing (docs/operations.md, "Security headers").  Images may
# also be data: URLs (icons of the API docs); attachments are served from our origin.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("THIRDWAY_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("THIRDWAY_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("THIRDWAY_LOG_LEVEL", "INFO")},
}
