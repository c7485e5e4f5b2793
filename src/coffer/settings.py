"""Coffer settings: one module, every knob read from the environment.

The README's configuration table lists each variable; keep the two in step.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from coffer.ops import logconfig

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent.parent
VAR_DIR = Path(os.environ.get("COFFER_VAR_DIR", PROJECT_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEV_SECRET_KEY = "coffer-development-secret-key-not-for-production"  # noqa: S105


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


COFFER_ENV = os.environ.get("COFFER_ENV", "development").strip().lower()
if COFFER_ENV not in {"development", "production", "test"}:
    raise ImproperlyConfigured("COFFER_ENV must be development, production or test")
PRODUCTION = COFFER_ENV == "production"

SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
DEBUG = env_bool("DEBUG", not PRODUCTION)

if PRODUCTION:
    if SECRET_KEY == DEV_SECRET_KEY or len(SECRET_KEY) < 32:
        raise ImproperlyConfigured(
            "COFFER_ENV=production needs SECRET_KEY set to a random value of at least 32 characters"
        )
    if DEBUG:
        raise ImproperlyConfigured("COFFER_ENV=production refuses to start with DEBUG on")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver" if not PRODUCTION else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "coffer.tenancy",
    "coffer.ledger",
    "coffer.audit",
    "coffer.imports",
    "coffer.quality",
    "coffer.api",
    "coffer.web",
    "coffer.ops",
    "django_htmx",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "coffer.ops.middleware.RouteMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "coffer.web.preferences.UserPreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "coffer.web.middleware.ContentSecurityPolicyMiddleware",
]

FORM_RENDERER = "coffer.web.form_renderer.FormRenderer"  # <select> and <input> drawn without templates
ROOT_URLCONF = "coffer.urls"
ASGI_APPLICATION = "coffer.asgi.application"

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

# --- database -------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'coffer.sqlite3'}"


def _database(url: str) -> dict:
    _db = dj_database_url.parse(url)
    if _db["ENGINE"] == "django.db.backends.sqlite3":
        _db["OPTIONS"] = {
            # WAL lets readers go on while one writer writes; IMMEDIATE takes the write
            # lock at BEGIN so concurrent writers queue instead of failing mid-transaction.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
        _db["CONN_MAX_AGE"] = 0
        _db["TEST"] = {"NAME": str(VAR_DIR / "test-coffer.sqlite3")}
    elif _db["ENGINE"] in {"django.db.backends.postgresql", "django.db.backends.postgresql_psycopg2"}:
        _db["ENGINE"] = "django.db.backends.postgresql"
        _db["CONN_MAX_AGE"] = 0
        _db["OPTIONS"] = {
            "pool": {
                "min_size": env_int("DB_POOL_MIN_SIZE", 1),
                "max_size": env_int("DB_POOL_MAX_SIZE", 10),
                "timeout": env_int("DB_POOL_TIMEOUT", 10),
            },
        }
    return _db


DATABASES = {"default": _database(DATABASE_URL)}
# Requests (API and pages) one process works on at once; the rest queue (coffer.ops.concurrency). Each
# holds a database connection while it runs, so keep it below DB_POOL_MAX_SIZE.
REQUEST_CONCURRENCY = env_int("REQUEST_CONCURRENCY", 8)
# Optional read replica: dashboard aggregates and reports read from it (coffer.ops.replica). In tests it
# mirrors the default database, so the routing runs against the same data.
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "").strip()
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = {**_database(DATABASE_REPLICA_URL), "TEST": {"MIRROR": "default"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache ----------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
MEMCACHED_URL = os.environ.get("MEMCACHED_URL", "")  # host:port[,host:port]: memcached instead of Redis
if REDIS_URL and MEMCACHED_URL:
    raise ImproperlyConfigured("Set REDIS_URL or MEMCACHED_URL for the cache, not both")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "coffer.ops.cache.SharedPoolRedisCache",  # one Redis pool per process (see the module)
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "coffer"),
        }
    }
elif MEMCACHED_URL:
    CACHES = {
        "default": {
            "BACKEND": "coffer.ops.cache.SharedPoolMemcachedCache",  # one pooled client per process
            "LOCATION": [part.strip().removeprefix("memcached://") for part in MEMCACHED_URL.split(",")],
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "coffer"),
            "OPTIONS": {"use_pooling": True, "no_delay": True, "connect_timeout": 2, "timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "coffer"}}
SHARED_CACHE = bool(REDIS_URL or MEMCACHED_URL)

# --- people and passwords -------------------------------------------------
AUTH_USER_MODEL = "tenancy.User"
PASSWORD_HASH_CONCURRENCY = env_int("PASSWORD_HASH_CONCURRENCY", 2)  # Argon2 hashes at once per process
PASSWORD_HASHERS = [
    "coffer.tenancy.hashers.Argon2Hasher",  # Argon2id at OWASP's cost (see the module)
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# --- API auth -------------------------------------------------------------
JWT_SIGNING_KEY = os.environ.get("JWT_SIGNING_KEY", SECRET_KEY)
JWT_ACCESS_TTL_SECONDS = env_int("JWT_ACCESS_TTL_SECONDS", 900)
JWT_REFRESH_TTL_SECONDS = env_int("JWT_REFRESH_TTL_SECONDS", 30 * 24 * 3600)
LOGIN_FAILURES_PER_ACCOUNT = env_int("LOGIN_FAILURES_PER_ACCOUNT", 5)
LOGIN_FAILURES_PER_ADDRESS = env_int("LOGIN_FAILURES_PER_ADDRESS", 20)
LOGIN_FAILURE_WINDOW_SECONDS = env_int("LOGIN_FAILURE_WINDOW_SECONDS", 900)
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 1024 * 1024)
IDEMPOTENCY_TTL_SECONDS = env_int("IDEMPOTENCY_TTL_SECONDS", 24 * 3600)
INVITATION_TTL_DAYS = env_int("INVITATION_TTL_DAYS", 14)
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000")

# --- email ----------------------------------------------------------------
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Coffer <noreply@coffer.local>")

# --- i18n, time -----------------------------------------------------------
LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- static files ---------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Outside production WhiteNoise serves straight from the apps' static folders (no collectstatic needed).
WHITENOISE_USE_FINDERS = not PRODUCTION
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))

# --- imports and jobs -----------------------------------------------------
# Empty broker: import jobs run in a thread pool inside the serving process (nothing to install).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
if CELERY_BROKER_URL and not SHARED_CACHE:
    # Without a shared cache each process caches in its own memory: a worker's import commit would not drop
    # the figures and memberships the web processes hold (ops/tenant_cache.py).
    raise ImproperlyConfigured("CELERY_BROKER_URL needs REDIS_URL (or MEMCACHED_URL) too: Celery workers are "
                               "separate processes and must share the web's cache")
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True  # a killed worker's job is redelivered
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # workers log through LOGGING (JSON lines with tenant) like the web
IMPORT_WORKERS = env_int("IMPORT_WORKERS", 2)  # embedded runner threads
IMPORT_CHUNK_ROWS = env_int("IMPORT_CHUNK_ROWS", 5000)
IMPORT_MAX_FILE_BYTES = env_int("IMPORT_MAX_FILE_BYTES", 50 * 1024 * 1024)
IMPORT_MAX_ROWS = env_int("IMPORT_MAX_ROWS", 2_000_000)
IMPORT_MAX_COLUMNS = env_int("IMPORT_MAX_COLUMNS", 256)
IMPORT_MAX_CELL_CHARS = env_int("IMPORT_MAX_CELL_CHARS", 32_767)
IMPORT_MAX_DECOMPRESSED_BYTES = env_int("IMPORT_MAX_DECOMPRESSED_BYTES", 1024 * 1024 * 1024)
IMPORT_MAX_COMPRESSION_RATIO = env_int("IMPORT_MAX_COMPRESSION_RATIO", 100)

# --- data quality: optional LLM review (off per tenant until an admin turns it on) ---------
LLM_PROVIDER = os.environ.get("LLM_PROVIDER", "").strip().lower()  # "anthropic" | "openai-compatible" | ""
LLM_BASE_URL = os.environ.get("LLM_BASE_URL", "").strip()
LLM_API_KEY = os.environ.get("LLM_API_KEY", "")
LLM_MODEL = os.environ.get("LLM_MODEL", "").strip()
LLM_PRICE_INPUT_PER_MTOK = os.environ.get("LLM_PRICE_INPUT_PER_MTOK", "0").strip() or "0"
LLM_PRICE_OUTPUT_PER_MTOK = os.environ.get("LLM_PRICE_OUTPUT_PER_MTOK", "0").strip() or "0"
LLM_MONTHLY_SPEND_CAP = os.environ.get("LLM_MONTHLY_SPEND_CAP", "10").strip() or "0"
LLM_TIMEOUT_SECONDS = env_int("LLM_TIMEOUT_SECONDS", 60)
LLM_MAX_OUTPUT_TOKENS = env_int("LLM_MAX_OUTPUT_TOKENS", 4096)
LLM_RETRY_BASE_SECONDS = 1.0  # backoff after a 429/5xx/timeout: 1 s, 2 s (or the server's Retry-After)

# --- security headers -----------------------------------------------------
# Sessions are read from the cache and written through to the database: a cache flush or a Redis
# restart signs nobody out.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = PRODUCTION and env_bool("SECURE_COOKIES", True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY", False) else None

# --- demo -----------------------------------------------------------------
DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "coffer-demo")

# --- observability and protection (coffer.ops) -----------------------------
LOG_FORMAT = os.environ.get("LOG_FORMAT", "json" if PRODUCTION else "text").strip().lower()
LOGGING = logconfig.logging_config(log_format=LOG_FORMAT, level=os.environ.get("LOG_LEVEL", "INFO"))
SENTRY_DSN = os.environ.get("SENTRY_DSN", "")
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")  # empty: /metrics answers 404
SLOW_SQL_MS = env_int("SLOW_SQL_MS", 200)  # 0: no slow-statement log
READYZ_TIMEOUT_MS = env_int("READYZ_TIMEOUT_MS", 2000)
RATE_LIMIT_API = os.environ.get("RATE_LIMIT_API", "600/minute")  # per access token or user; empty: none
RATE_LIMIT_ANON = os.environ.get("RATE_LIMIT_ANON", "60/minute")  # per client address without a valid token
