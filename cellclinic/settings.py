"""CellClinic settings: one module, read from the environment (see README "Configuration")."""

import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from cellclinic.core.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("CELLCLINIC_VAR_DIR", str(BASE_DIR / "var")) or BASE_DIR / "var")

DEBUG = env_bool("DEBUG", False)


def _secret_key() -> str:
    """SECRET_KEY from the environment; on a single machine, a key generated once into var/."""
    key = env_str("SECRET_KEY")
    if key:
        return key
    if env_bool("CELLCLINIC_REQUIRE_SECRET_KEY", False):
        raise ImproperlyConfigured("SECRET_KEY (or SECRET_KEY_FILE) must be set in this deployment")
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "ninja",
    "axes",
    "django_ratelimit",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_tasks",
    "django_tasks_db",
    "cellclinic.core",
    "cellclinic.idempotency",
    "cellclinic.accounts",
    "cellclinic.audit",
    "cellclinic.notifications",
    "cellclinic.catalogue",
    "cellclinic.patients",
    "cellclinic.candidacy",
    "cellclinic.photos",
    "cellclinic.consultations",
    "cellclinic.consents",
    "cellclinic.treatment",
    "cellclinic.lab",
    # Last: loads the demo through every app above.
    "cellclinic.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Refuse a body larger than its address accepts, and a query string with a NUL or a bidi control,
    # before anything reads them (core/limits.py).
    "cellclinic.core.limits.RequestSizeLimitMiddleware",
    "cellclinic.core.limits.QueryTextMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "cellclinic.core.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Session lifetime, idle timeout, the second factor, and no-store on anything personal.
    "cellclinic.accounts.middleware.SessionPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
    "cellclinic.core.middleware.DomainErrorMiddleware",
    # Last, so a retried POST with the same Idempotency-Key gets the first answer (README "The API").
    "cellclinic.idempotency.middleware.IdempotencyMiddleware",
]

ROOT_URLCONF = "cellclinic.urls"
WSGI_APPLICATION = "cellclinic.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "cellclinic" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "cellclinic.accounts.context_processors.navigation",
            ],
        },
    },
]

# Database: the embedded default is SQLite in WAL mode; PostgreSQL through DATABASE_URL.
DATABASE_URL = env_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'cellclinic.sqlite3'}"
_db = dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0))
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # Django's SQLite backend that also keeps the planner's statistics (cellclinic/core/sqlite).
    _db["ENGINE"] = "cellclinic.core.sqlite"
    if _db["NAME"] and _db["NAME"] != ":memory:":
        Path(_db["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    _db["OPTIONS"] = {
        # IMMEDIATE takes the write lock at BEGIN, so two writers queue instead of failing mid-way,
        # and the audit chain is extended by one writer at a time.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
    }
# Parallel test runs against one PostgreSQL server each need their own test database name.
_db["TEST"] = {"NAME": env_str("CELLCLINIC_TEST_DB_NAME") or None}
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# The patient registry's model, read by the audit trail (which sits below the registry) by name.
CELLCLINIC_PATIENT_MODEL = "patients.Patient"
AUTHENTICATION_BACKENDS = [
    "cellclinic.accounts.backends.AddressPauseBackend",  # refuses sign-in from an address that sprays
    "axes.backends.AxesStandaloneBackend",  # refuses sign-in while an account is locked out
    "django.contrib.auth.backends.ModelBackend",
]
# Repeated failed sign-ins for one username from one address lock that pair out for a while.
AXES_FAILURE_LIMIT = env_int("SIGN_IN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("SIGN_IN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Failed sign-ins from one address across every username (password spraying) pause that address.
SIGN_IN_ADDRESS_FAILURE_LIMIT = env_int("SIGN_IN_ADDRESS_FAILURE_LIMIT", 20)
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False
# Behind N trusted reverse proxies, the client address is read from X-Forwarded-For, the same way
# for sign-in lockouts and for the public rate limits (cellclinic/core/client.py).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "cellclinic.core.client.client_address"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "accounts:login"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", SESSION_COOKIE_SECURE)
# A session ends SESSION_MAX_HOURS after signing in, however busy; a staff session also ends after
# STAFF_IDLE_TIMEOUT_MINUTES without a request (cellclinic/accounts/middleware.py).
SESSION_MAX_HOURS = env_int("SESSION_MAX_HOURS", 12)
STAFF_IDLE_TIMEOUT_MINUTES = env_int("STAFF_IDLE_TIMEOUT_MINUTES", 15)
SESSION_COOKIE_AGE = SESSION_MAX_HOURS * 3600
# HTTPS: behind a TLS-terminating proxy set SECURE_PROXY_SSL_HEADER=X-Forwarded-Proto (the header the
# proxy overwrites), SECURE_SSL_REDIRECT=true and SECURE_HSTS_SECONDS=31536000.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
_proxy_ssl_header = env_str("SECURE_PROXY_SSL_HEADER", "") or ""
if _proxy_ssl_header:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https")
# Authenticator apps show this name beside the six-digit codes.
OTP_TOTP_ISSUER = "CellClinic"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Every asset is served by the app itself, so the policy can stay strict.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env_str("TIME_ZONE", "Europe/London") or "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "cellclinic" / "static"]
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns on every request when it is missing
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")) or VAR_DIR / "media")
MEDIA_URL = "/media/"
# Uploaded photos and signed consent copies are health records: never served from MEDIA_URL directly,
# only through views that check the reader's role and site (see consultations/views.py).
PHOTO_MAX_BYTES = env_int("PHOTO_MAX_BYTES", 15 * 1024 * 1024)
PHOTO_MAX_PIXELS = env_int("PHOTO_MAX_PIXELS", 40_000_000)
# The largest request body of any page or API call, but a photo upload (PHOTO_MAX_BYTES plus the form).
REQUEST_MAX_BYTES = env_int("REQUEST_MAX_BYTES", 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", REQUEST_MAX_BYTES)
FILE_UPLOAD_MAX_MEMORY_SIZE = env_int("FILE_UPLOAD_MAX_MEMORY_SIZE", 2_621_440)
DATA_UPLOAD_MAX_NUMBER_FIELDS = env_int("DATA_UPLOAD_MAX_NUMBER_FIELDS", 300)
DATA_UPLOAD_MAX_NUMBER_FILES = env_int("DATA_UPLOAD_MAX_NUMBER_FILES", 5)
# The app server's limits on the request line (method, path, query) and the headers (`cellclinic serve`).
REQUEST_LINE_MAX_BYTES = env_int("REQUEST_LINE_MAX_BYTES", 4094)
REQUEST_HEADERS_MAX = env_int("REQUEST_HEADERS_MAX", 50)
REQUEST_HEADER_MAX_BYTES = env_int("REQUEST_HEADER_MAX_BYTES", 8190)

# The cache holds rate-limit counters for the public pages. CACHE_URL=redis://host:6379/0 shares them
# between app processes (production); without it each process counts on its own, which is fine for
# the embedded single-machine default but multiplies the limit by the number of processes.
CACHE_URL = env_str("CACHE_URL", "") or ""
if CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}}
    # django-ratelimit lists only third-party Redis backends; Django's own increments atomically too.
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"]
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "cellclinic"}
    }
    # Per-process counters: accepted for the embedded default, documented in the README.
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]
RATELIMIT_USE_CACHE = "default"
RATELIMIT_VIEW = "cellclinic.core.views.rate_limited"
# Public endpoints, per client address: self-assessments and consultation requests.
PUBLIC_ASSESSMENT_RATE = env_str("PUBLIC_ASSESSMENT_RATE", "30/h") or "30/h"
PUBLIC_ENQUIRY_RATE = env_str("PUBLIC_ENQUIRY_RATE", "5/h") or "5/h"
# Redrawing the self-assessment's questions as concerns are ticked: many per assessment.
PUBLIC_QUESTIONS_RATE = env_str("PUBLIC_QUESTIONS_RATE", "240/h") or "240/h"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}

NINJA_PAGINATION_PER_PAGE = 50

# Extra folders of therapy protocol files, beside the ones shipped in cellclinic/catalogue/therapies.
CELLCLINIC_CATALOGUE_DIRS = env_list("CELLCLINIC_CATALOGUE_DIRS", [])

# How long the lab keeps (banks) a patient's cultured cells, in months from the skin sample; the consent
# tells the patient, and says that whatever is left then, at the end of treatment or on withdrawal is
# destroyed. Cells prepared at the bedside are never stored.
CELLCLINIC_CELL_BANKING_MONTHS = env_int("CELLCLINIC_CELL_BANKING_MONTHS", 12)
if not 1 <= CELLCLINIC_CELL_BANKING_MONTHS <= 120:
    raise ImproperlyConfigured("CELLCLINIC_CELL_BANKING_MONTHS: expected a number of months from 1 to 120")

# Notifications (README "Notifications and email"). Emails are sent in the background by the database
# task worker (`db_worker`, started by `cellclinic serve`), so a slow or failing mail server never holds
# up the action that caused them. Without EMAIL_HOST they are printed on the console.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
EMAIL_HOST = env_str("EMAIL_HOST", "") or ""
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "") or ""
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "") or ""
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    if env_str("EMAIL_USE_TLS") is None:
        EMAIL_USE_TLS = False  # SSL asked for alone: the STARTTLS default gives way
    else:
        raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL: choose one, not both")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "CellClinic <no-reply@localhost>") or ""
# The address links in emails start with: where patients and staff reach this installation.
CELLCLINIC_BASE_URL = (env_str("CELLCLINIC_BASE_URL", "") or "http://127.0.0.1:8000").rstrip("/")
