"""One settings module, driven by the environment (see .env.example for every variable)."""

from datetime import timedelta
from pathlib import Path

import environ
from corsheaders.defaults import default_headers as cors_default_headers
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
# The fallback key only serves local trials on the embedded SQLite database.
SECRET_KEY = env.str("SECRET_KEY", default="insecure-local-development-key-change-me")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "knox",
    "axes",
    "simple_history",
    "huey.contrib.djhuey",
    "formulary",
    "compounds",
    "products",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "config.middleware.RequestHygieneMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "config.middleware.QueryLanguageMiddleware",
    "config.middleware.CatalogueVersionMiddleware",
    "config.middleware.CacheControlMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.http.ConditionalGetMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "config.middleware.HistoryPathMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.middleware.DatabaseOutageMiddleware",
    # axes wants to be last: it turns a failed, locked-out login into the lockout answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # config's own pages (the admin's lockout answer); the apps keep theirs.
        "DIRS": [BASE_DIR / "config" / "templates"],
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

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Django's backend with a health check that asks the server only when it has said something.
POSTGRESQL_ENGINE = "config.postgresql"
# The few statements whose plan does not depend on their values (the versions, a product by its
# GTIN) are prepared once per connection (config/postgresql/). Off for a pooler that cannot keep
# a connection's prepared statements (PgBouncer in transaction mode before 1.21).
DATABASE_PREPARED_STATEMENTS = env.bool("DATABASE_PREPARED_STATEMENTS", default=True)


def own_engine(database: dict) -> dict:
    if database["ENGINE"] == "django.db.backends.postgresql":
        database["ENGINE"] = POSTGRESQL_ENGINE
    return database


own_engine(DATABASES["default"])

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "nl"
LANGUAGES = [("nl", "Nederlands"), ("en", "English")]
TIME_ZONE = "Europe/Amsterdam"
USE_I18N = True
USE_TZ = True
# The project's own translations (admin messages, actions, the import report).
LOCALE_PATHS = [BASE_DIR / "locale"]

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}


def env_rate(name: str, *, default: str) -> str | None:
    """A DRF throttle rate such as ``1200/min``; ``off`` switches that limit off."""
    value = env.str(name, default=default).strip()
    if value.lower() == "off":
        return None
    count, _, period = value.partition("/")
    if not count.isdigit() or period[:1] not in ("s", "m", "h", "d"):
        raise ImproperlyConfigured(f"{name} is a rate like 1200/min, or off; not {value!r}.")
    return value


REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["config.renderers.OrjsonRenderer"],
    "DEFAULT_PARSER_CLASSES": ["config.parsers.StrictJSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["config.filtering.StrictFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "config.pagination.CountlessPageNumberPagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.errors.api_exception_handler",
    # Reads are open; writes need a token (`Authorization: Token ...`, issued by
    # `manage.py api_token`) of a user whose role has the model permission.
    "DEFAULT_AUTHENTICATION_CLASSES": ["config.authentication.TokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_THROTTLE_CLASSES": [
        "config.throttling.AnonymousClientThrottle",
        "config.throttling.AccountThrottle",
        "config.throttling.ScopedWorkThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_rate("API_THROTTLE_ANON", default="1200/min"),
        "user": env_rate("API_THROTTLE_USER", default="6000/min"),
        # Per client, on match/, advice/ and the calculator: work no cache absorbs.
        "uncached": env_rate("API_THROTTLE_UNCACHED", default="300/min"),
        # Wrong tokens per client address.
        "failed_token": env_rate("API_THROTTLE_FAILED_TOKENS", default="30/min"),
    },
    # Without a count DRF trusts any X-Forwarded-For, so a client could name a new address
    # on every request and never be throttled. Behind one load balancer: API_NUM_PROXIES=1.
    "NUM_PROXIES": env.int("API_NUM_PROXIES", default=0),
}
# The one client-address rule (config/client_address.py) of the throttles and the lockout.
API_NUM_PROXIES = REST_FRAMEWORK["NUM_PROXIES"]

# API tokens are stored hashed (SHA-512) and shown once, when `manage.py api_token issue`
# makes them; this is their lifetime unless the command is given --expiry-days.
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=env.int("API_TOKEN_TTL_DAYS", default=90)),
    "AUTO_REFRESH": False,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Magnesium formulary API",
    "DESCRIPTION": (
        "Compound forms with elemental magnesium computed from salt and hydrate, graded "
        "evidence per indication, directional medication spacing, and a product catalogue "
        "filterable on elemental amounts. Texts in Dutch (default) or English: "
        "`Accept-Language` or `?lang=`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.schema.add_error_responses",
        "config.schema.describe_for_generated_clients",
    ],
}

CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/.*$"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# Admin login lockout (django-axes): AXES_FAILURE_LIMIT failed logins for one username from one
# address lock that pair out for AXES_COOLOFF_MINUTES. Pairing with the address keeps a
# stranger from locking staff out by guessing at their usernames.
AUTHENTICATION_BACKENDS = [
    "config.login_lockout.LoginLockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "config.login_lockout.locked_out_response"
# Behind API_NUM_PROXIES proxies the client, not the load balancer, is the address locked.
AXES_CLIENT_IP_CALLABLE = "config.client_address.client_address"

# Security headers for the admin and the docs (SecurityMiddleware, XFrameOptionsMiddleware,
# django-csp). Scripts only from our own static files: the docs use the Swagger UI view that
# serves its start-up script as a file. Inline styles remain: the admin and Swagger UI use them.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# ---- Cache: Redis when REDIS_URL is set (shared by every app server), else this process's
# memory. Either way the catalogue version lives in the database, so a write by any process is
# seen by the next read in every process (formulary.common.catalogue_version).
REDIS_URL = env.str("REDIS_URL", default="")
# A cache on the same network answers in a millisecond; one that does not answer within this
# is treated as down for that call, so a frozen Redis costs a read at most this, per call.
REDIS_TIMEOUT_SECONDS = env.float("REDIS_TIMEOUT_SECONDS", default=0.25)
# After a call that failed, this process leaves Redis alone this long (config/redis_cache.py).
REDIS_RETRY_SECONDS = env.float("REDIS_RETRY_SECONDS", default=5)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "config.redis_cache.RedisCacheWithBreaker",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="formulary"),
            "OPTIONS": {
                # A cache outage degrades to uncached reads instead of failing them.
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": REDIS_TIMEOUT_SECONDS,
                "SOCKET_TIMEOUT": REDIS_TIMEOUT_SECONDS,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Seconds a rendered read may stay cached (0: none). Writes make entries stale at once anyway.
API_CACHE_SECONDS = env.int("API_CACHE_SECONDS", default=600)
# Requests with this value in X-Cache-Bypass skip the response cache (the benchmark's
# uncached runs); unset, no request can.
API_CACHE_BYPASS_TOKEN = env.str("API_CACHE_BYPASS_TOKEN", default="")

# ---- Edge cache (config/varnish/default.vcl): where to PURGE by xkey when a write commits,
# comma-separated for several Varnish servers. Unset: no purges, and answers tell the edge to
# keep nothing (formulary.common.edge_cache).
VARNISH_PURGE_URL = env.str("VARNISH_PURGE_URL", default="")
# How long the edge may keep an anonymous read (purged at once on a write), and serve it
# while it asks again once that has run out.
EDGE_CACHE_SECONDS = env.int("EDGE_CACHE_SECONDS", default=600)
EDGE_STALE_SECONDS = env.int("EDGE_STALE_SECONDS", default=30)

# ---- Read replica: reads go there, writes and the admin to the primary (config/routers.py).
if env.str("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = own_engine(env.db("DATABASE_REPLICA_URL"))
    DATABASES["replica"]["CONN_MAX_AGE"] = DATABASES["default"]["CONN_MAX_AGE"]
    DATABASES["replica"]["CONN_HEALTH_CHECKS"] = True
    DATABASE_ROUTERS = ["config.routers.PrimaryReplicaRouter"]
    MIDDLEWARE.insert(0, "config.routers.PrimaryForWritesMiddleware")

# ---- Production profile: DJANGO_ENV=production. Passes `manage.py check --deploy`.
# (ensure_demo_staff reads it too: no demo logins on a production database.)
DJANGO_ENV = env.str("DJANGO_ENV", default="development")
if DJANGO_ENV == "production":
    DEBUG = False
    # No fallback: a production server without its own key must not start.
    SECRET_KEY = env.str("SECRET_KEY")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
    CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
    # TLS ends at the load balancer, which says so in X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    for database in DATABASES.values():
        database["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)
    # Probes come over plain HTTP from inside the network, not through the TLS redirect.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]

# ---- Hardening, round 2 (issue 18): bounds on bodies and spreadsheets, demo logins, CORS.
# No request body may be larger (413): a chunked one is read whole up to this size
# (config/request_body.py). The largest legitimate body is a spreadsheet upload.
SPREADSHEET_MAX_FILE_BYTES = env.int("SPREADSHEET_MAX_FILE_MB", default=256) * 1024 * 1024
MAX_REQUEST_BODY_BYTES = SPREADSHEET_MAX_FILE_BYTES + 1024 * 1024
# Spreadsheets are read in bounded time and memory (products/spreadsheet/reading.py).
SPREADSHEET_MAX_ROWS = env.int("SPREADSHEET_MAX_ROWS", default=2_000_000)
SPREADSHEET_MAX_CELL_CHARS = env.int("SPREADSHEET_MAX_CELL_CHARS", default=4096)
SPREADSHEET_MAX_UNPACKED_BYTES = env.int("SPREADSHEET_MAX_UNPACKED_MB", default=1024) * 1024 * 1024
SPREADSHEET_MAX_COMPRESSION_RATIO = env.int("SPREADSHEET_MAX_COMPRESSION_RATIO", default=100)
SPREADSHEET_MAX_SHARED_STRINGS = env.int("SPREADSHEET_MAX_SHARED_STRINGS", default=4_000_000)
# Browser clients write with If-Match and read the ETag they must send back (and when to retry).
CORS_ALLOW_HEADERS = (*cors_default_headers, "if-match", "if-none-match")
CORS_EXPOSE_HEADERS = ["ETag", "Retry-After"]

# ---- Background jobs (issue 18): spreadsheet imports from the admin run on Huey
# (products/spreadsheet/jobs.py). With REDIS_URL on the deployment's Redis, worked by
# `python manage.py run_huey`; without it (the embedded default) in Huey's immediate mode,
# inside the request, so `make demo` needs no broker. HUEY_IMMEDIATE overrides either way.
HUEY = {
    "name": env.str("CACHE_KEY_PREFIX", default="formulary"),
    "immediate": env.bool("HUEY_IMMEDIATE", default=not REDIS_URL),
    "huey_class": "huey.RedisHuey",
    "connection": {"url": REDIS_URL or "redis://127.0.0.1:6379/0"},
    "results": False,
    "consumer": {"workers": env.int("HUEY_WORKERS", default=1), "worker_type": "thread"},
}
# Uploads nobody confirmed are removed after this many hours.
IMPORT_UPLOAD_MAX_AGE_HOURS = env.int("IMPORT_UPLOAD_MAX_AGE_HOURS", default=24)
