"""Settings of the credential registry portal.

Every value that differs between environments comes from an environment variable (see
`.env.example`). Development defaults are safe: with DEBUG off the portal refuses to start
without a real SECRET_KEY and turns on every HTTPS protection.
"""

from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A developer's own .env wins over the file that the set-up scripts generate for this checkout.
# Neither overrides variables that are already set in the environment.
for candidate in (BASE_DIR / ".env", BASE_DIR / "var" / "local.env"):
    if candidate.exists():
        env.read_env(str(candidate), overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
TESTING = env.bool("TESTING", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
_INSECURE_PREFIXES = ("django-insecure", "change-me", "changeme")
if not DEBUG and (
    len(SECRET_KEY) < 50
    or len(set(SECRET_KEY)) < 5
    or SECRET_KEY.lower().startswith(_INSECURE_PREFIXES)
):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a random string of at least 50 characters when DEBUG is off."
    )
if DEBUG and not SECRET_KEY:
    SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # PostgreSQL's extras: trigram indexes (OpClass in an index needs this app's set-up).
    "django.contrib.postgres",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_filters",
    "simple_history",
    "core",
    "portal",
    "accounts",
    "notifications",
    "training",
    "registry",
    "credit",
    "overview",
    "disclosure",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.BureauStaffRequireMFAMiddleware",
    # Records who made each change in the audit trail (django-simple-history).
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "portal.context_processors.portal",
            ],
        },
    },
]

# --- Database: PostgreSQL only -------------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default="postgres://portal@127.0.0.1:5432/portal")
}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("DATABASE_URL must point to PostgreSQL (postgres://...).")
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# A database host that does not answer must not hold a web worker (nor /healthz) for minutes:
# connecting gives up after this many seconds (libpq's smallest is 2). DATABASE_URL's
# ?connect_timeout= wins.
DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
    "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=2)
)
# The reads on nearly every request (core.prepared: the session's user and roles, a manager's
# calendar and hours) run as server-side prepared statements: PostgreSQL plans them once per
# connection instead of on every request (planning cost more than running them). Turn off
# behind a pooler in transaction mode (PgBouncer's `pool_mode = transaction`), where a
# connection's prepared statements do not follow it.
PORTAL_PREPARED_STATEMENTS = env.bool("PORTAL_PREPARED_STATEMENTS", default=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache (rate limits hold across processes), Celery broker and results ---------------
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "core.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="portal"),
        "TIMEOUT": 300,
        # A Redis that is down or hung must not hold a web worker: each call gives up quickly
        # and the caller fails in its defined way (see core/ratelimit.py); after a failure the
        # process skips Redis for `retry_after` seconds instead of waiting again (core/cache.py).
        "OPTIONS": {
            "socket_connect_timeout": env.float("REDIS_CONNECT_TIMEOUT", default=0.5),
            "socket_timeout": env.float("REDIS_SOCKET_TIMEOUT", default=0.5),
            "retry_after": env.float("REDIS_RETRY_AFTER", default=5.0),
        },
    }
}

# --- Accounts ------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
# Behind a reverse proxy: how many proxies append to X-Forwarded-For. allauth's limits and ours
# (core/ratelimit.py) key on the address that many hops back; 0 means REMOTE_ADDR.
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("ALLAUTH_TRUSTED_PROXY_COUNT", default=0)
# Django's and allauth's backends, reading the user with its roles in one query (accounts/backends.py).
AUTHENTICATION_BACKENDS = [
    "accounts.backends.ModelBackend",
    "accounts.backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Bureau staff, administrators and is_staff users: at least 12 characters.
    {"NAME": "accounts.password_validation.StaffMinimumLengthValidator"},
]
# Staff sessions (bureau, administrators, is_staff) end after this many seconds without a request.
STAFF_SESSION_IDLE_SECONDS = env.int("STAFF_SESSION_IDLE_SECONDS", default=30 * 60)
if STAFF_SESSION_IDLE_SECONDS < 60:
    raise ImproperlyConfigured("STAFF_SESSION_IDLE_SECONDS must be at least 60.")
if TESTING:
    # Hashing cost is not what the tests test; real hashers stay in every other environment.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = env.str(
    "ACCOUNT_EMAIL_VERIFICATION", default="optional" if DEBUG else "mandatory"
)
if not DEBUG and ACCOUNT_EMAIL_VERIFICATION != "mandatory":
    raise ImproperlyConfigured("E-mail verification must be mandatory when DEBUG is off.")
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = env.str("EMAIL_SUBJECT_PREFIX", default="[物业管理员执业登记] ")
ACCOUNT_DEFAULT_HTTP_PROTOCOL = env.str(
    "ACCOUNT_DEFAULT_HTTP_PROTOCOL", default="http" if DEBUG else "https"
)
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env.str("MFA_TOTP_ISSUER", default="物业管理员执业登记")
# The code steps refuse a code with a message when Redis cannot record it as used (fail closed).
MFA_FORMS = {
    "authenticate": "accounts.forms.MFAAuthenticateForm",
    "reauthenticate": "accounts.forms.MFAReauthenticateForm",
}

# --- E-mail --------------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="物业管理员执业登记 <noreply@localhost>")
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)

# --- Text messages (SMS) ---------------------------------------------------------------------------
# The backend as a URL (core/sms.py): console:// prints, file:///path appends to a file, an
# http(s):// URL is the SMS gateway; empty: no text messages. Development prints them.
SMS_URL = env.str("SMS_URL", default="console://" if DEBUG else "")
SMS_API_KEY = env.str("SMS_API_KEY", default="")
SMS_SIGN = env.str("SMS_SIGN", default="物业管理员执业登记")
SMS_TIMEOUT = env.float("SMS_TIMEOUT", default=5.0)
# Text messages sent per minute, all workers together; beyond it they wait for the sweep.
SMS_RATE_PER_MINUTE = env.int("SMS_RATE_PER_MINUTE", default=60)

# --- Internationalisation ------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files -------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "var" / "staticfiles")
STORAGES = {
    # Uploaded proofs are private: stored outside anything the web server serves and handed out
    # only by views that check the viewer's right. MEDIA_URL is deliberately not routed.
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = env.path("PORTAL_MEDIA_ROOT", default=BASE_DIR / "var" / "media")
MEDIA_URL = "/private-files-are-not-served/"
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", default=10 * 1024 * 1024)

# --- Personal data: the national ID number -------------------------------------------------------
# Encrypted at rest (Fernet; keys derived from SECRET_KEY and each salt: the first salt encrypts,
# all of them decrypt, see README "Key rotation"), plus an HMAC blind index for exact lookup.
SALT_KEY = env.list("FIELD_ENCRYPTION_SALTS", default=["development-only-field-salt"])
if not DEBUG and not TESTING and SALT_KEY == ["development-only-field-salt"]:
    raise ImproperlyConfigured("FIELD_ENCRYPTION_SALTS must be set when DEBUG is off.")
ID_HASH_KEY = env.str("ID_HASH_KEY", default="development-only-id-hash-key")
if not DEBUG and not TESTING and ID_HASH_KEY == "development-only-id-hash-key":
    raise ImproperlyConfigured("ID_HASH_KEY must be set when DEBUG is off.")

# --- Celery --------------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=600)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=540)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_RESULT_EXPIRES = 3600
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# The queue tasks go to when none is named (workers listen to it with -Q); tests give their own.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
# The daily job of the filing cycle: close the windows whose deadline passed, then remind.
# Publishing a task from a web request: give up after this many seconds (connect and send), with
# no retry; the notices stay pending and the sweep below publishes them when the broker is back.
CELERY_PUBLISH_TIMEOUT = env.float("CELERY_PUBLISH_TIMEOUT", default=0.5)
# The sweeps publish again what a broker outage kept from the workers (notices' e-mails, large
# provider reports) every NOTICE_SWEEP_SECONDS.
SWEEP_SECONDS = env.int("NOTICE_SWEEP_SECONDS", default=180)
CELERY_BEAT_SCHEDULE: dict = {
    "notifications-sweep": {"task": "notifications.sweep", "schedule": SWEEP_SECONDS},
    # The log behind the kept pages' versions, folded (accounts/pagechanges.py).
    "accounts-compact-page-changes": {
        "task": "accounts.compact_page_changes",
        "schedule": env.int("PAGE_CHANGES_COMPACT_SECONDS", default=300),
    },
    "training-reports-sweep": {
        "task": "training.sweep_provider_reports",
        "schedule": SWEEP_SECONDS,
    },
    # The bureau dashboard's figures (overview/dashboard.py), each night after midnight.
    "overview-dashboard-refresh": {
        "task": "overview.dashboard_refresh",
        "schedule": crontab(
            hour=env.int("DASHBOARD_REFRESH_HOUR", default=0),
            minute=env.int("DASHBOARD_REFRESH_MINUTE", default=30),
        ),
    },
    # Sampled audits: reject what was not answered by its deadline, then the scheduled draws.
    "training-audits-daily": {
        "task": "training.run_audits",
        "schedule": crontab(
            hour=env.int("TRAINING_AUDIT_HOUR", default=8),
            minute=env.int("TRAINING_AUDIT_MINUTE", default=30),
        ),
    },
    "registry-daily": {
        "task": "registry.run_daily",
        "schedule": crontab(
            hour=env.int("REGISTRY_DAILY_HOUR", default=9),
            minute=env.int("REGISTRY_DAILY_MINUTE", default=0),
        ),
    },
    # The credit scores and the key-supervision list, after the registry's daily job.
    "credit-daily": {
        "task": "credit.recompute_daily",
        "schedule": crontab(
            hour=env.int("CREDIT_DAILY_HOUR", default=9),
            minute=env.int("CREDIT_DAILY_MINUTE", default=30),
        ),
    },
}

# --- The filing cycle ----------------------------------------------------------------------------
#: Reminders to managers who have not submitted go out when the window opens and this many days
#: before it closes.
REGISTRY_REMINDER_DAYS_BEFORE_CLOSE = env.list(
    "REGISTRY_REMINDER_DAYS_BEFORE_CLOSE", cast=int, default=[30, 14, 7, 3, 1]
)

#: During the study year, managers short of the year's hours are reminded on these days (MM-DD,
#: comma-separated) with the hours still needed and courses still open to them.
REGISTRY_STUDY_REMINDER_DATES = env.list(
    "REGISTRY_STUDY_REMINDER_DATES", default=["09-01", "11-01", "12-01"]
)
#: A manager may start the year's filing (a draft, its proofs uploaded) from this day of the
#: filing year (MM-DD), before the window opens; submitting still waits for the window.
REGISTRY_PREPARE_FROM = env.str("REGISTRY_PREPARE_FROM", default="10-01")
#: A return in the last days of the window (REGISTRY_LATE_RETURN_DAYS, or after the close, when
#: the filing was still under review) extends that manager's deadline by this many days; a filing
#: window of a jurisdiction (inherited down the tree) may set its own number.
REGISTRY_RETURN_GRACE_DAYS = env.int("REGISTRY_RETURN_GRACE_DAYS", default=7)
REGISTRY_LATE_RETURN_DAYS = env.int("REGISTRY_LATE_RETURN_DAYS", default=7)

# --- Look-ups by ID number and providers' reports ---------------------------------------------
#: Look-ups of a person by ID number (a firm's offer, the ID-number searches, the sign-up) allowed
#: per account in IDENTITY_LOOKUP_PERIOD seconds; refused when Redis cannot count them.
IDENTITY_LOOKUP_LIMIT = env.int("IDENTITY_LOOKUP_LIMIT", default=10)
IDENTITY_LOOKUP_PERIOD = env.int("IDENTITY_LOOKUP_PERIOD", default=3600)
#: Completions files a training provider's account may upload in that period.
IDENTITY_LOOKUP_IMPORT_LIMIT = env.int("IDENTITY_LOOKUP_IMPORT_LIMIT", default=30)
#: A completions file with more data rows than this is refused (the reader stops there).
PROVIDER_REPORT_MAX_ROWS = env.int("PROVIDER_REPORT_MAX_ROWS", default=50_000)
#: A file with more data rows than this is imported by a Celery task, not in the request.
PROVIDER_REPORT_BACKGROUND_ROWS = env.int("PROVIDER_REPORT_BACKGROUND_ROWS", default=500)

# --- UI ------------------------------------------------------------------------------------------
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"
PORTAL_NAME = _("Property Manager Credential Registry")
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")

# --- Public pages and the health check -----------------------------------------------------------
# The public look-ups are limited per client address (see core/throttle.py): COUNT/PERIOD with
# PERIOD s, m, h or d, several separated by commas. Over a limit: HTTP 429. When Redis is down
# the limits fail open (the pages stay up; the proxy's limit still holds).
PUBLIC_LOOKUP_RATE = env.str("PUBLIC_LOOKUP_RATE", default="20/m,200/d")
# The certificate check behind the QR code: many people behind one carrier NAT share an address.
PUBLIC_VERIFY_RATE = env.str("PUBLIC_VERIFY_RATE", default="60/m,1000/d")
# The public disclosure lists (/disclosure/…): every page counts, as browsing the lists does.
PUBLIC_DISCLOSURE_RATE = env.str("PUBLIC_DISCLOSURE_RATE", default="60/m,1000/d")
# /healthz checks the Celery workers only for staff or a request whose X-Health-Token header
# carries this token (empty: staff only).
HEALTHZ_TOKEN = env.str("HEALTHZ_TOKEN", default="")
# A bare template view at /__bare__/ (portal.views.bare), mounted only when set: the machine's
# limit that `make loadtest` and wrk compare the pages with. Never in a deployment.
PORTAL_BARE_VIEW = env.bool("PORTAL_BARE_VIEW", default=False)

# --- Security ------------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
# Django's database sessions, their read prepared once (core.sessions).
SESSION_ENGINE = "core.sessions"
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"  # proof previews opt in per view with xframe_options_sameorigin
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # Only a local run over plain http on 127.0.0.1 (scripts/run.sh, `make loadtest`) turns
    # these off; a deployment keeps the defaults and `check --deploy` stays clean.
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # pikepdf announces its C++ logger bridge at INFO on every start.
        "pikepdf": {"level": "WARNING"},
    },
}
