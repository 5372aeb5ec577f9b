"""Settings for Undersigned: one module, configured only through environment variables.

Every variable is documented in the README with its default. A bad value stops
start-up with an ``ImproperlyConfigured`` error that names the variable, so a typo in
production fails loudly instead of running with a surprising default.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import json
import os
import re
import secrets
import zoneinfo
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from undersigned.core.proxies import parse_networks
from undersigned.core.rates import parse_rate

PACKAGE_DIR = Path(__file__).resolve().parent
# ./var/ beside where the command runs holds the embedded database, demo secrets and
# mail written to files; UNDERSIGNED_VAR_DIR moves it (tests point it at a temp dir).
VAR_DIR = Path(os.environ.get("UNDERSIGNED_VAR_DIR", "var")).resolve()


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false, yes/no), not {raw!r}.")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}.")
    return value


def env_url(name: str, default: str, *, schemes: tuple[str, ...]) -> str:
    raw = os.environ.get(name) or default
    parts = urlsplit(raw)
    if parts.scheme not in schemes or not parts.netloc:
        allowed = ", ".join(f"{s}://" for s in schemes)
        raise ImproperlyConfigured(f"{name} must be a URL starting with {allowed}, not {raw!r}.")
    return raw.rstrip("/")


# `undersigned demo` records the address it serves at in VAR_DIR/demo.json. With that
# record and no UNDERSIGNED_SECRET_KEY, a command run beside the demo (import, export,
# print, …, in a second terminal) is in demo mode too: it reads the demo's key, database
# and address instead of failing for want of a key and printing links to another port.
# Only the demo writes the record, and a deployment sets its key, so neither changes.
DEMO_RECORD = VAR_DIR / "demo.json"


def _demo_record() -> dict[str, str]:
    try:
        record = json.loads(DEMO_RECORD.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        message = f"{DEMO_RECORD} cannot be read ({exc}); delete it and run `undersigned demo`."
        raise ImproperlyConfigured(message) from None
    return record if isinstance(record, dict) else {}


DEMO_MODE = env_bool("UNDERSIGNED_DEMO", not os.environ.get("UNDERSIGNED_SECRET_KEY") and DEMO_RECORD.is_file())
DEBUG = env_bool("UNDERSIGNED_DEBUG", False)


SECRET_KEY_MIN_LENGTH = 50
SECRET_KEY_MIN_UNIQUE = 5


def _secret_key() -> str:
    key = os.environ.get("UNDERSIGNED_SECRET_KEY", "")
    if key:
        # The same bar as Django's `check --deploy` (security.W009), so a key accepted here
        # is never reported there.
        if len(key) < SECRET_KEY_MIN_LENGTH or len(set(key)) < SECRET_KEY_MIN_UNIQUE:
            raise ImproperlyConfigured(
                f"UNDERSIGNED_SECRET_KEY must be at least {SECRET_KEY_MIN_LENGTH} characters long, "
                f"with at least {SECRET_KEY_MIN_UNIQUE} different characters."
            )
        return key
    if not DEMO_MODE:
        raise ImproperlyConfigured(
            "UNDERSIGNED_SECRET_KEY is required (generate one with: "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))'). "
            "Only `undersigned demo` runs without it."
        )
    # Demo mode keeps a generated key in ./var/ so sessions and signed draft links
    # survive a restart of the demo.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()

_DEMO_BASE_URL = str(_demo_record().get("base_url", "")) if DEMO_MODE else ""
BASE_URL = env_url("UNDERSIGNED_BASE_URL", _DEMO_BASE_URL or "http://127.0.0.1:8000", schemes=("http", "https"))
_base = urlsplit(BASE_URL)
ALLOWED_HOSTS = [_base.hostname or "localhost", "127.0.0.1", "localhost", "[::1]"]
CSRF_TRUSTED_ORIGINS = [f"{_base.scheme}://{_base.netloc}"]
if _base.scheme == "https":
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
# Reverse proxies whose X-Forwarded-For/-Proto are believed (core/proxies.py); from any
# other peer those headers are dropped before Django reads them, so the header below
# can only come from a trusted proxy.
try:
    TRUSTED_PROXIES = parse_networks(os.environ.get("UNDERSIGNED_TRUSTED_PROXIES", ""))
except ValueError as _error:
    raise ImproperlyConfigured(f"UNDERSIGNED_TRUSTED_PROXIES: {_error}.") from None
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

INSTALLED_APPS = [
    "undersigned.organisations.apps.OperatorsAdminConfig",  # the admin, for operators only
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_tasks_db",
    # Only for its translations: country names in every language we offer (core/countries.py).
    "django_countries",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "undersigned.core",
    "undersigned.organisations",
    "undersigned.campaigns",
    "undersigned.supporters",
    "undersigned.letters",
    "undersigned.delivery",
    "undersigned.openletters",
    "undersigned.discussion",
    "undersigned.public",
    "undersigned.dashboard",
    "undersigned.ops",
]

MIDDLEWARE = [
    "undersigned.core.proxies.TrustedProxyMiddleware",  # first: all below see the real client
    # HEAD is answered as GET without the body wherever GET is (core/http.py).
    "undersigned.core.http.HeadAsGetMiddleware",
    # /health/live and /health/ready, before host checks, sessions and CSRF (public/health.py)
    "undersigned.public.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # A connection lost outside the view (a session saved after it): 503, not 500 (core/db_faults.py).
    "undersigned.core.db_faults.DatabaseFaultsEdgeMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Bodies over Django's limits: a page saying so (413), one WARNING line (core/http.py).
    "undersigned.core.http.BodyLimitsMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # A dropped database connection: GET runs again, a write answers 503 with what was typed.
    "undersigned.core.db_faults.DatabaseFaultsMiddleware",
    # A form shown again with errors answers 400, in allauth's and the admin's views too.
    "undersigned.core.http.FormErrorsMiddleware",
]

ROOT_URLCONF = "undersigned.urls"
WSGI_APPLICATION = "undersigned.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "undersigned.core.context_processors.site",
                "undersigned.organisations.context_processors.organiser",
            ],
            "builtins": [
                "django.templatetags.static",
                "django.contrib.humanize.templatetags.humanize",
                "undersigned.core.templatetags.machine_time",  # <time datetime> values HTML accepts
                "undersigned.core.templatetags.text_direction",  # dir= of content in its own language
            ],
        },
    }
]

# --- Database -------------------------------------------------------------------
_default_db = f"sqlite:///{VAR_DIR / 'undersigned.sqlite3'}"
_db_url = os.environ.get("DATABASE_URL") or _default_db
try:
    _db = dj_database_url.parse(_db_url, conn_max_age=60, conn_health_checks=True)
except (ValueError, KeyError) as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is not a database URL we understand: {exc}") from None
_prepared_statements = env_bool("UNDERSIGNED_DB_PREPARED_STATEMENTS", True)  # PostgreSQL only
if _db["ENGINE"] == "django.db.backends.sqlite3":
    if _db_url == _default_db:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
    # WAL plus IMMEDIATE transactions let the web server and the worker write to the
    # same file without "database is locked" errors (docs/decisions/0008-database-and-cache.md).
    # Persistent connections: opening the file and applying the PRAGMAs on each request
    # has a cost (docs/performance.md). gunicorn's sync workers use one thread each.
    _db["CONN_MAX_AGE"] = 600
    _db["CONN_HEALTH_CHECKS"] = True
    # Tests use a file, not memory, so worker processes they start see the same data.
    _db["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
    _db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
elif _db["ENGINE"] == "django.db.backends.postgresql":
    # Server-side parameters and prepared statements: a statement a connection has run
    # a few times is parsed and planned once, which cuts PostgreSQL's CPU on the hot
    # paths (docs/performance.md). A pooler in transaction mode that predates
    # protocol-level prepared statements (PgBouncer < 1.21) needs them off.
    if _prepared_statements:
        _db["OPTIONS"] = {"server_side_binding": True, "prepare_threshold": 5}
else:
    raise ImproperlyConfigured("DATABASE_URL must point to SQLite (sqlite://) or PostgreSQL (postgres://).")
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (rate limits need a cache shared by all web workers) -----------------------
_cache_url = os.environ.get("UNDERSIGNED_CACHE_URL", "")
if _cache_url.startswith(("redis://", "rediss://")):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _cache_url}}
elif _cache_url in ("", "db://"):
    CACHES = {
        "default": {
            "BACKEND": "undersigned.core.cache.DatabaseCache",  # one-statement add/incr (core/cache.py)
            "LOCATION": "undersigned_cache",
        }
    }
elif _cache_url == "locmem://":
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
else:
    raise ImproperlyConfigured("UNDERSIGNED_CACHE_URL must be redis://…, db:// or locmem://.")

# --- Tasks ----------------------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": os.environ.get("UNDERSIGNED_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}


# --- Email ----------------------------------------------------------------------
def _default_mail_domain(host: str) -> str:
    # An address at a bare IP ("letters@127.0.0.1") is not a valid mail address; the
    # demo on 127.0.0.1 writes mail as from "localhost" instead.
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return host or "localhost"
    return "localhost"


# A domain's label: letters, digits and inner hyphens; what may follow the @ of our addresses.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"


def env_domain(name: str, default: str) -> str:
    raw = os.environ.get(name) or default
    if not re.fullmatch(rf"{_LABEL}(?:\.{_LABEL})*", raw):
        raise ImproperlyConfigured(f"{name} must be a domain name such as letters.example.org, not {raw!r}.")
    return raw


MAIL_DOMAIN = env_domain("UNDERSIGNED_MAIL_DOMAIN", _default_mail_domain(_base.hostname or ""))
# Where copies (mailto BCC) and bounces come back to `undersigned inbound`.
INBOUND_DOMAIN = env_domain("UNDERSIGNED_INBOUND_DOMAIN", MAIL_DOMAIN)
DEFAULT_FROM_EMAIL = f"Undersigned <letters@{MAIL_DOMAIN}>"
SERVER_EMAIL = DEFAULT_FROM_EMAIL
MAIL_DIR = VAR_DIR / "mail"
# A delivery "sending" for longer than this is taken to belong to a worker that died,
# and goes back to the queue. Longer than any SMTP timeout; short in crash tests.
SEND_STALE_SECONDS = env_int("UNDERSIGNED_SEND_STALE_SECONDS", 300, minimum=1)
# Bulk-print PDFs hold supporters' names and home addresses; the worker's housekeeping
# deletes each one this many days after it was made.
PRINT_RETENTION_DAYS = env_int("UNDERSIGNED_PRINT_RETENTION_DAYS", 14, minimum=1)
# Letters keep their senders' names, addresses and words this many days after their
# campaign closed; then the worker's housekeeping erases them (privacy/retention.py).
LETTER_RETENTION_DAYS = env_int("UNDERSIGNED_LETTER_RETENTION_DAYS", 365, minimum=1)
# The "my data" link emailed to a person works once, for this many minutes.
MY_DATA_LINK_MINUTES = env_int("UNDERSIGNED_MY_DATA_LINK_MINUTES", 60, minimum=1)
# A member's hand-in pack (PDF and CSV) is attached to its email up to this size in all;
# above it, the email carries private links that expire with the batch's file.
HAND_IN_ATTACH_MAX_BYTES = env_int("UNDERSIGNED_HAND_IN_ATTACH_MAX_BYTES", 10_000_000, minimum=0)
# `undersigned serve` restarts each web worker after about this many requests (0: never),
# which bounds what a slow leak could cost; a restart costs the worker's start-up.
WEB_MAX_REQUESTS = env_int("UNDERSIGNED_WEB_MAX_REQUESTS", 5000)
# Defaults of `undersigned serve --bind/--workers` (0 workers: two per core).
WEB_BIND = os.environ.get("UNDERSIGNED_BIND") or "127.0.0.1:8000"
if not re.fullmatch(r"(?:[^\s:]+|\[[0-9A-Fa-f:.]+\]):\d{1,5}|unix:/\S+", WEB_BIND):
    raise ImproperlyConfigured(
        f"UNDERSIGNED_BIND must be host:port (e.g. 127.0.0.1:8000) or unix:/path, not {WEB_BIND!r}."
    )
WEB_WORKERS = env_int("UNDERSIGNED_WEB_WORKERS", 0)
# STARTTLS for `undersigned inbound`: both paths (PEM files) or neither.
INBOUND_TLS_CERT = os.environ.get("UNDERSIGNED_INBOUND_TLS_CERT", "")
INBOUND_TLS_KEY = os.environ.get("UNDERSIGNED_INBOUND_TLS_KEY", "")
if bool(INBOUND_TLS_CERT) != bool(INBOUND_TLS_KEY):
    _missing = "UNDERSIGNED_INBOUND_TLS_KEY" if INBOUND_TLS_CERT else "UNDERSIGNED_INBOUND_TLS_CERT"
    raise ImproperlyConfigured(
        f"{_missing} must be set too: STARTTLS for undersigned inbound needs both a certificate and its key."
    )


def _mailers() -> dict[str, dict[str, object]]:
    raw = os.environ.get("UNDERSIGNED_SMTP_URL", "")
    if not raw:
        # No SMTP server configured: write each message to a file in ./var/mail/,
        # which organisers can read on the demo mailbox page.
        return {
            "default": {
                "BACKEND": "undersigned.core.mailers.FileBackend",
                "OPTIONS": {"file_path": str(MAIL_DIR)},
            }
        }
    parts = urlsplit(raw)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ImproperlyConfigured(
            "UNDERSIGNED_SMTP_URL must look like smtp://user:pass@host:587?starttls=1 "
            f"or smtps://user:pass@host:465, not {raw!r}."
        )
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    try:
        port = parts.port or (465 if parts.scheme == "smtps" else 25)
    except ValueError:
        raise ImproperlyConfigured("UNDERSIGNED_SMTP_URL has an invalid port.") from None
    starttls = query.get("starttls", "0").lower() in {"1", "true", "yes"}
    return {
        "default": {
            "BACKEND": "undersigned.core.mailers.SmtpBackend",
            "OPTIONS": {
                "host": parts.hostname,
                "port": port,
                "username": unquote(parts.username or ""),
                "password": unquote(parts.password or ""),
                "use_tls": starttls,
                "use_ssl": parts.scheme == "smtps",
                "timeout": 30,
            },
        }
    }


MAILERS = _mailers()


def _dkim() -> tuple[str, str, str]:
    """DKIM signing (core.mailers): the key file, selector and domain, or three empty strings.

    Leave the key unset when a relay signs the platform's mail (docs/deliverability.md).
    """
    key_file = os.environ.get("UNDERSIGNED_DKIM_KEY_FILE", "")
    selector = os.environ.get("UNDERSIGNED_DKIM_SELECTOR", "")
    domain = os.environ.get("UNDERSIGNED_DKIM_DOMAIN", "") or MAIL_DOMAIN
    if not key_file:
        if selector or os.environ.get("UNDERSIGNED_DKIM_DOMAIN"):
            raise ImproperlyConfigured(
                "UNDERSIGNED_DKIM_KEY_FILE must be set too: DKIM signing needs the private key "
                "(or unset UNDERSIGNED_DKIM_SELECTOR and UNDERSIGNED_DKIM_DOMAIN when a relay signs)."
            )
        return "", "", ""
    if not selector:
        raise ImproperlyConfigured(
            "UNDERSIGNED_DKIM_SELECTOR must be set too: the key is published at <selector>._domainkey.<domain>."
        )
    label = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    if not re.fullmatch(rf"{label}(?:\.{label})*", selector):
        raise ImproperlyConfigured(f"UNDERSIGNED_DKIM_SELECTOR must be a DNS label such as mail2026, not {selector!r}.")
    if not re.fullmatch(rf"{label}(?:\.{label})+", domain):
        raise ImproperlyConfigured(
            f"UNDERSIGNED_DKIM_DOMAIN must be a domain name such as example.org, not {domain!r}."
        )
    try:
        pem = Path(key_file).read_bytes()
    except OSError as exc:
        raise ImproperlyConfigured(f"UNDERSIGNED_DKIM_KEY_FILE cannot be read: {exc.strerror} ({key_file}).") from None
    # Here, not at the top: dkim imports dnspython (about 3 MB), which no process needs
    # while no key is configured (bench/web_memory.py). With a key, every process holds
    # it, web workers included: the key is checked wherever the settings are read.
    import dkim.crypto  # noqa: PLC0415

    try:
        dkim.crypto.parse_pem_private_key(pem)
    except dkim.crypto.UnparsableKeyError:
        raise ImproperlyConfigured(
            f"UNDERSIGNED_DKIM_KEY_FILE must hold an RSA private key in PEM form (openssl genrsa), not {key_file}."
        ) from None
    return key_file, selector, domain


DKIM_KEY_FILE, DKIM_SELECTOR, DKIM_DOMAIN = _dkim()

# --- Security -------------------------------------------------------------------
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Salt for hashing IP addresses; only hashes are ever stored (privacy rule 5).
IP_HASH_SALT = os.environ.get("UNDERSIGNED_IP_SALT", "") or SECRET_KEY
PASSWORD_HASHERS = [
    # Argon2 is not installed on purpose: PBKDF2 keeps organiser logins cheap enough
    # for a small server, and supporters never log in to act.
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Everyone signs in at allauth's account pages (/accounts/login/): organisers for the
# dashboard, supporters who want an account (e.g. to comment without confirming their
# email each time). After signing in, members land on the dashboard, others on the home
# page, unless they came from somewhere (?next=); see dashboard/accounts.py.
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"
ACCOUNT_ADAPTER = "undersigned.dashboard.accounts.AccountAdapter"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_DEFAULT_HTTP_PROTOCOL = _base.scheme
ACCOUNT_EMAIL_SUBJECT_PREFIX = "Undersigned: "
# allauth keeps its own rate limits in the cache; ours (core.abuse) cover our forms.
# Two-factor (allauth.mfa): an authenticator app (TOTP) with recovery codes; an
# organisation's owner may require it of every member (organisations.access).
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Undersigned"
SOCIALACCOUNT_LOGIN_ON_GET = False
SOCIALACCOUNT_STORE_TOKENS = False


def _social_providers() -> list[str]:
    """Social and OpenID Connect providers come only from configuration, never from code.

    ``UNDERSIGNED_SOCIAL_PROVIDERS`` names allauth provider modules (``openid_connect``,
    ``github``, …); their client ids and secrets are SocialApp rows in the admin, or
    ``UNDERSIGNED_SOCIALACCOUNT_PROVIDERS`` (JSON in allauth's SOCIALACCOUNT_PROVIDERS form).
    """
    names = [n.strip() for n in os.environ.get("UNDERSIGNED_SOCIAL_PROVIDERS", "").split(",") if n.strip()]
    # Looked up as files, not imported: allauth's modules need the settings this builds.
    spec = importlib.util.find_spec("allauth")
    providers = Path(spec.origin).parent / "socialaccount" / "providers" if spec and spec.origin else Path()
    for name in names:
        if not name.replace("_", "").isalnum():
            raise ImproperlyConfigured(f"UNDERSIGNED_SOCIAL_PROVIDERS has an invalid provider name: {name!r}.")
        if not (providers / name / "provider.py").is_file():
            raise ImproperlyConfigured(f"UNDERSIGNED_SOCIAL_PROVIDERS: django-allauth has no provider {name!r}.")
    return [f"allauth.socialaccount.providers.{name}" for name in names]


def _social_provider_settings() -> dict[str, object]:
    raw = os.environ.get("UNDERSIGNED_SOCIALACCOUNT_PROVIDERS", "")
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        raise ImproperlyConfigured("UNDERSIGNED_SOCIALACCOUNT_PROVIDERS must be a JSON object.") from None
    if not isinstance(value, dict):
        raise ImproperlyConfigured("UNDERSIGNED_SOCIALACCOUNT_PROVIDERS must be a JSON object.")
    return value


INSTALLED_APPS += _social_providers()
SOCIALACCOUNT_PROVIDERS = _social_provider_settings()

# --- Internationalisation ---------------------------------------------------------
LANGUAGE_CODE = "en"
TIME_ZONE = os.environ.get("UNDERSIGNED_TIME_ZONE") or "UTC"
try:
    zoneinfo.ZoneInfo(TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError):
    raise ImproperlyConfigured(
        f"UNDERSIGNED_TIME_ZONE must be a time zone name such as Europe/Dublin, not {TIME_ZONE!r}."
    ) from None
USE_I18N = True
USE_TZ = True
# The interface's languages, each named in its own language (the switcher shows these
# names); a visitor's Accept-Language chooses among them until they pick one, which the
# language cookie then keeps (a preference, not a session: it carries nothing else).
# Adding one: README "Languages". Catalogues: locale/<code>/LC_MESSAGES/django.po with its
# compiled django.mo beside it (decision 0017).
LANGUAGES = [
    ("en", "English"),
    ("fr", "Français"),
    ("es", "Español"),
    ("de", "Deutsch"),
    ("ar", "العربية"),
]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "django_language"  # docs/deployment.md's nginx cache keys on it
LANGUAGE_COOKIE_AGE = 60 * 60 * 24 * 365
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_HTTPONLY = True  # no script reads it
LANGUAGE_COOKIE_SECURE = _base.scheme == "https"  # as the session and CSRF cookies
# Counts shown to people go through humanize's intcomma, which groups digits the active
# language's way ("1,234", "1 234", "1.234"). USE_THOUSAND_SEPARATOR stays off: it would
# group every number a template prints, ids in links and form values too.

# --- Static files -----------------------------------------------------------------
STATIC_URL = "/static/"
# The project package is not an installed app, so its static folder is named here.
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
# `undersigned serve` and `demo` collect the static files here with hashed names and
# gzip/brotli copies whenever they are missing or stale (core/static_build.py), so no
# collectstatic step is needed; UNDERSIGNED_STATIC_ROOT puts them elsewhere (e.g. for a CDN).
STATIC_BUILD_ROOT = Path(os.environ.get("UNDERSIGNED_STATIC_ROOT") or VAR_DIR / "static").resolve()
STATIC_BUILD_STORAGE = "whitenoise.storage.CompressedManifestStaticFilesStorage"
_static_built = (STATIC_BUILD_ROOT / "staticfiles.json").exists()
# Unset before the first build: whitenoise would warn about a folder that isn't there.
STATIC_ROOT = str(STATIC_BUILD_ROOT) if _static_built or os.environ.get("UNDERSIGNED_STATIC_ROOT") else None
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(VAR_DIR / "media")},
    },
    # With the build, pages name hashed files that whitenoise serves compressed with a
    # one-year, immutable max-age. Without it (the test run, a plain runserver) files are
    # served straight from the package, unhashed, with whitenoise's short max-age.
    "staticfiles": {
        "BACKEND": STATIC_BUILD_STORAGE if _static_built else "whitenoise.storage.CompressedStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not _static_built
WHITENOISE_AUTOREFRESH = DEBUG

# --- Logging: never personal data; only our own messages with ids -----------------------
_log_level = os.environ.get("UNDERSIGNED_LOG_LEVEL") or "INFO"
LOG_LEVEL = _log_level.upper()  # logging knows the names in capitals only
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise ImproperlyConfigured(
        f"UNDERSIGNED_LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not {_log_level!r}."
    )
# Paths carry private links and tokens (/l/<link>/, ?draft=…): RedactTokens rewrites them
# on every handler and on each logger that writes request paths, so the record is clean
# before any handler (ours or an operator's) sees it (core/log_redaction.py).
_REDACT = ["redact_tokens"]
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_tokens": {"()": "undersigned.core.log_redaction.RedactTokens"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": _REDACT}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Request logs would carry query strings (draft tokens); we log none of them.
        "django.request": {"level": "ERROR", "filters": _REDACT},
        "django.server": {"level": "WARNING", "filters": _REDACT},
        "django.security": {"filters": _REDACT},
        "django.security.csrf": {"filters": _REDACT},
        "django.security.DisallowedHost": {"filters": _REDACT},
        "django.security.RequestDataTooBig": {"filters": _REDACT},
        "django.security.TooManyFieldsSent": {"filters": _REDACT},
        "django.security.TooManyFilesSent": {"filters": _REDACT},
        # A web worker's own errors ("Error handling request /l/<link>/…", a response that
        # failed while streaming): gunicorn's handlers are replaced by ours, which redact.
        "gunicorn.error": {"handlers": ["console"], "propagate": False, "filters": _REDACT},
    },
}

# --- Caches in front (undersigned.core.shared_pages) ------------------------------------
# Pages that are the same for every visitor without a session may be kept this long by a
# shared cache (nginx, a CDN); live counters are at most this many seconds behind. 0: never.
PUBLIC_CACHE_SECONDS = env_int("UNDERSIGNED_PUBLIC_CACHE_SECONDS", 5)

# --- Abuse defences (undersigned.core.abuse) -----------------------------------------
# A form sent sooner than this after it was shown was not filled in by a person.
FORM_MIN_FILL_SECONDS = env_int("UNDERSIGNED_FORM_MIN_FILL_SECONDS", 3)
# Requests per salted IP hash (or per normalised email for *_email) in fixed windows.
# People behind one address (a library, a campus) share these, so they are generous;
# UNDERSIGNED_RATE_LIMITS overrides some of them: "endorse=20/10m,comment=5/m".
RATE_LIMITS = {
    "compose": "20/10m",
    "endorse": "10/10m",
    "comment": "10/10m",
    "comment_email": "5/10m",
    "report": "10/h",
    # "Get my link again" on a campaign page: per address (salted IP hash), and per
    # email address typed, which also makes a double submit send one email.
    "my_link": "10/10m",
    "my_link_email": "1/10m",
    # "My data": per salted IP hash, and per address typed (a double submit sends one email).
    "my_data": "10/10m",
    "my_data_email": "1/10m",
}


def _rate_limits(raw: str) -> dict[str, str]:
    limits = dict(RATE_LIMITS)
    for item in filter(None, (part.strip() for part in raw.split(","))):
        scope, _, rate = item.partition("=")
        scope = scope.strip()
        if scope not in limits:
            raise ImproperlyConfigured(
                f"UNDERSIGNED_RATE_LIMITS: unknown scope {scope!r}; known: {', '.join(sorted(limits))}."
            )
        try:
            parse_rate(rate)
        except ValueError as error:
            raise ImproperlyConfigured(f"UNDERSIGNED_RATE_LIMITS: {scope}: {error}") from None
        limits[scope] = rate.strip()
    return limits


RATE_LIMITS = _rate_limits(os.environ.get("UNDERSIGNED_RATE_LIMITS", ""))
# Work (PBKDF2 iterations) of one proof-of-work attempt when organisers switch it on:
# a phone solves it in a second or two; a spammer pays that for every message.
POW_COST = env_int("UNDERSIGNED_POW_COST", 5000, minimum=1)

# --- Product limits ---------------------------------------------------------------
LETTER_BODY_MAX_CHARS = 20_000
LETTER_SUBJECT_MAX_CHARS = 200
# How much one campaign or open letter may hold (docs/campaign-files.md): far above any
# real campaign (a council of 90 to 200 members is normal), low enough that the pages
# listing them stay usable. Campaign files and the services that import them enforce these.
CAMPAIGN_RECIPIENTS_MAX = 500  # also an open letter's own addressees
RECIPIENT_GROUP_MEMBERS_MAX = 500
CAMPAIGN_TAGS_MAX = 20  # also an open letter's
LETTER_PROMPTS_MAX = 20
OPEN_LETTER_AUTHORS_MAX = 50
# Languages a campaign's text exists in besides its own (a body of 90 national sections
# writes in a few dozen at most).
CAMPAIGN_TRANSLATIONS_MAX = 40
# Uploads in the workspace: a recipients CSV (an organisation's whole address book, far
# above a group of 90) and a campaign file; a bigger upload is refused unread.
RECIPIENT_CSV_MAX_BYTES = 1_000_000
RECIPIENT_CSV_MAX_ROWS = 5_000
CAMPAIGN_FILE_UPLOAD_MAX_BYTES = 1_000_000
DRAFT_LINK_MAX_AGE_DAYS = env_int("UNDERSIGNED_DRAFT_DAYS", 90, minimum=1)
# "Did you get a reply?": asked this many days after a letter was sent (delivery/replies.py).
REPLY_ASK_AFTER_DAYS = env_int("UNDERSIGNED_REPLY_ASK_DAYS", 14, minimum=1)
REPLY_TEXT_MAX_CHARS = 20_000
# A reply uploaded as a file (PDF, PNG or JPEG): refused above this many bytes.
REPLY_FILE_MAX_BYTES = env_int("UNDERSIGNED_REPLY_FILE_MAX_BYTES", 10 * 1024 * 1024, minimum=1)
# Open letters: how long an endorsement waits for its email to be confirmed.
ENDORSEMENT_CONFIRM_HOURS = env_int("UNDERSIGNED_ENDORSE_CONFIRM_HOURS", 72, minimum=1)
COMMENT_MAX_CHARS = 5_000
COMMENT_NAME_MAX_CHARS = 80
# Links to confirm a first comment stay valid this long.
COMMENT_CONFIRM_DAYS = env_int("UNDERSIGNED_COMMENT_CONFIRM_DAYS", 7, minimum=1)
