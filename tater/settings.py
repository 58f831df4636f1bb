"""Tater settings: everything that varies per deployment comes from the environment.

With nothing set, Tater runs on the embedded default: a SQLite file under ``var/`` and
an in-process cache. ``DATABASE_URL`` and ``REDIS_URL`` switch to PostgreSQL and Redis.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from tater.env import LOG_LEVELS, env_bool, env_choice, env_database_url, env_list, env_number, env_redis_url, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("TATER_VAR_DIR", str(BASE_DIR / "var")))


# --- Core -------------------------------------------------------------------------
DEV_SECRET_KEY = "dev-insecure-secret-key-do-not-use-in-production-0123456789abcdef"
# Unset: development. Set but empty (``DJANGO_DEBUG: ${DJANGO_DEBUG}`` in a compose file) is
# off: an empty value must not turn a production deployment into a development one.
DEBUG = env_bool("DJANGO_DEBUG", True, empty=False)
SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
# Earlier keys, still accepted where Django signed with them (sessions, resets) and where the
# audit chain was signed with them (audit.chain): comma-separated.
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS")
# The audit chain's signing secret (audit.chain); empty: derived from SECRET_KEY.
TATER_AUDIT_CHAIN_KEY = os.environ.get("TATER_AUDIT_CHAIN_KEY", "")
# Retired secrets the audit chain still verifies the entries of, newest first, which Django no
# longer trusts (a leaked SECRET_KEY): comma-separated.
TATER_AUDIT_CHAIN_KEY_FALLBACKS = env_list("TATER_AUDIT_CHAIN_KEY_FALLBACKS")
TESTING = "pytest" in sys.modules or os.environ.get("TATER_TESTING") == "1"
if not DEBUG and SECRET_KEY == DEV_SECRET_KEY:
    # Refuse to start a production configuration with the published development key.
    raise ImproperlyConfigured("SECRET_KEY must be set when DJANGO_DEBUG is off.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "accounts.cli",  # before django.contrib.auth: its `changepassword`, audited
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_otp",
    "django_otp.plugins.otp_totp",
    # Not django_otp's static-token plugin: recovery codes are accounts.RecoveryCodeDevice (hashed),
    # and its `addstatictoken` made a factor no sign-in accepts, locking its person out unaudited.
    "django_otp_webauthn",  # passkeys as a second factor (accounts/passkeys.py)
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.socialaccount.providers.saml",
    # Global "Sign in with Google / Microsoft": shown only once an operator adds the app.
    "allauth.socialaccount.providers.google",
    "allauth.socialaccount.providers.microsoft",
    "tater",
    "orgs",
    "accounts",
    "audit",
    "apikeys",
    "scans",
    "scim",
    "leaks",
    "surfaces",
    "outbox",
    "portal",  # the dashboard and bootstrap_demo: above the apps they read
]

MIDDLEWARE = [
    "tater.middleware.RequestContextMiddleware",
    # /healthz, /readyz, /metrics answered here (ahead of host checks and the HTTPS redirect:
    # probes address nodes by IP); every request counted, timed, access-logged (tater.operations).
    "tater.operations.middleware.OperationsMiddleware",
    # /api/, /v1/, /auth/: oversized bodies refused unread (413), errors always JSON, no-store.
    "tater.middleware.JsonErrorsMiddleware",
    # Redis: a key request's one round trip starts here and runs while the rest does.
    "apikeys.middleware.SendKeyCheckAheadMiddleware",
    "tater.faults.ServiceFaultMiddleware",  # database/cache outage → 503, not 500
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Cross-site SSO returns re-issued same-origin (Strict session cookie); answers before
    # anything below can load or set a session. See accounts/sso_bounce.py.
    "accounts.sso_bounce.SSOBounceMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tater.middleware.ContextUserMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.Require2FAMiddleware",
    "tater.middleware.SecurityHeadersMiddleware",
    # Last: an API path missing (or adding) its trailing slash is served under its other form.
    "tater.middleware.TrailingSlashMiddleware",
]

ROOT_URLCONF = "tater.urls"
WSGI_APPLICATION = "tater.wsgi.application"

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
                "orgs.context_processors.current_org",
            ],
        },
    },
]

# --- Database and cache -----------------------------------------------------------
DATABASE = env_database_url("DATABASE_URL", conn_max_age=60, conn_health_checks=True)
if DATABASE:
    DATABASES = {"default": DATABASE}
    if DATABASES["default"]["ENGINE"].endswith("postgresql"):
        # Server-side parameter binding and psycopg's prepared statements (Django turns
        # them off by default: prepare_threshold None): a statement run 5 times on a
        # connection is prepared, so hot queries (the cold key lookup) are planned once per
        # connection, not on every request. Planning cost 1.4 ms of the lookup's 1.7 ms and
        # grew with the table's statistics (bench flatness). Behind a pooler in transaction
        # mode that cannot keep prepared statements (pgbouncer < 1.21), set
        # PG_SERVER_SIDE_BINDING=0.
        if env_bool("PG_SERVER_SIDE_BINDING", True):
            DATABASES["default"].setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=5)
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH", str(VAR_DIR / "tater.sqlite3")),
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
            # Persistent connection: reopening SQLite per request costs more than the
            # request itself (bench finding 8).
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_redis_url("REDIS_URL")
# Direct Redis clients (tater.redis_client: the rate limiter): REDIS_CLUSTER=1 reads REDIS_URL as
# any node of a Redis Cluster. rediss:// verifies the server against REDIS_TLS_CA_FILE (system
# CAs when empty) and presents REDIS_TLS_CERT_FILE/KEY_FILE if set. Timeouts in seconds; retries
# without backoff, so an outage costs a request at most (1 + REDIS_RETRIES) timeouts.
REDIS_CLUSTER = env_bool("REDIS_CLUSTER", False)
REDIS_TLS_CA_FILE = os.environ.get("REDIS_TLS_CA_FILE", "")
REDIS_TLS_CERT_FILE = os.environ.get("REDIS_TLS_CERT_FILE", "")
REDIS_TLS_KEY_FILE = os.environ.get("REDIS_TLS_KEY_FILE", "")
REDIS_SOCKET_TIMEOUT = env_number("REDIS_SOCKET_TIMEOUT", 0.5, float, minimum=0.001)
REDIS_SOCKET_CONNECT_TIMEOUT = env_number("REDIS_SOCKET_CONNECT_TIMEOUT", REDIS_SOCKET_TIMEOUT, float, minimum=0.001)
REDIS_RETRIES = env_number("REDIS_RETRIES", 1)
CACHE_FAIL_SOFT = env_bool("CACHE_FAIL_SOFT", True)
if REDIS_URL:
    # tater.cache.RedisCache: Django's RedisCache on the shared client of tater.redis_client, so
    # the cache follows REDIS_URL / REDIS_CLUSTER / TLS / timeouts like everything else that
    # keeps state in Redis (standalone, rediss:// and Cluster alike; LOCATION is not used).
    CACHES = {
        "default": {
            "BACKEND": "tater.cache.RedisCache",
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "tater"),
            "OPTIONS": {
                # CACHE_FAIL_SOFT (default on): during a Redis outage cache reads miss and fills
                # are dropped, so API keys verify against the database; invalidations stay
                # strict (see tater/cache.py). Off: every cache error is a 503.
                "fail_soft": CACHE_FAIL_SOFT,
            },
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "tater-default",
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }

# --- Auth, accounts, sessions -------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "account_login"

ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = env_choice("ACCOUNT_EMAIL_VERIFICATION", "optional", ("mandatory", "optional", "none"))
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    # Per address only: an account's failed sign-ins are tater.lockout's (SPEC §6, settable,
    # 429 LOCKED_OUT); a per-account limit here locked the form sooner, answering 200.
    "login_failed": "10/m/ip",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "change_password": "5/m/user",
}
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False  # never link an account by an unverified email claim
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
# allauth's mail (resets, confirmations) names the product, as Tater's own does, not the Host
# the request named ("[127.0.0.1:8000] Password Reset Email"); templates/account/email/.
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Tater] "
ACCOUNT_FORMS = {"signup": "accounts.forms.SignupForm", "add_email": "accounts.forms.AddEmailForm"}
SOCIALACCOUNT_ADAPTER = "accounts.adapter.SocialAccountAdapter"
ACCOUNT_REAUTHENTICATION_REQUIRED = True  # changing email asks for the password again
SOCIALACCOUNT_STORE_TOKENS = False
OTP_TOTP_ISSUER = "Tater"
# Passkeys (django-otp-webauthn; accounts/passkeys.py, docs/accounts.md): a second factor only,
# never a passwordless sign-in. The RP ID defaults to the request's host name; production sets
# it to the site's domain (passkeys are bound to it for good). Allowed origins default to the
# request's own origin (its Host is checked against ALLOWED_HOSTS), hence E030 is silenced.
OTP_WEBAUTHN_RP_ID = os.environ.get("OTP_WEBAUTHN_RP_ID", "")
OTP_WEBAUTHN_RP_ID_CALLABLE = "accounts.passkeys.relying_party_id"
OTP_WEBAUTHN_RP_NAME = env_str("OTP_WEBAUTHN_RP_NAME", "Tater")
OTP_WEBAUTHN_ALLOWED_ORIGINS = env_list("OTP_WEBAUTHN_ALLOWED_ORIGINS")
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False
OTP_WEBAUTHN_HELPER_CLASS = "accounts.passkeys.PasskeyHelper"
SILENCED_SYSTEM_CHECKS = ["otp_webauthn.E030"]

SESSION_ENGINE = "django.contrib.sessions.backends.db"  # server-side sessions
SESSION_COOKIE_AGE = 7 * 24 * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Strict"
CSRF_COOKIE_SAMESITE = "Strict"
CSRF_COOKIE_HTTPONLY = False  # the UI's fetch() reads it; the session cookie stays HttpOnly

# --- Security headers (production) --------------------------------------------------
# TATER_LOCAL_HTTP (set by `./run serve`): production settings served over plain http on this
# machine, so cookies lose Secure and there is no HTTPS redirect or HSTS. Never behind a domain.
TATER_LOCAL_HTTP = env_bool("TATER_LOCAL_HTTP", False)
SECURE = not DEBUG and not TATER_LOCAL_HTTP
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SECURE_SSL_REDIRECT = SECURE and env_bool("SECURE_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("TRUST_X_FORWARDED_PROTO", False) else None
SECURE_HSTS_SECONDS = env_number("SECURE_HSTS_SECONDS", 31_536_000) if SECURE else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE
SECURE_HSTS_PRELOAD = SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- Internationalisation, static ---------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "/static/"
# Where collectstatic writes (and whitenoise serves from).
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Email ----------------------------------------------------------------------------
# SMTP when EMAIL_HOST is set. Without it, nothing leaves the machine (outbox.backends): mail
# about a tenant is kept in its outbox, which its owners read in the app; the log gets every
# message in full with DEBUG on, else recipients and subject only (invitation and reset links
# must not land in production logs; check --deploy refuses the console backend, tater.E020).
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if os.environ.get("EMAIL_HOST")
    else "outbox.backends.OutboxMailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_number("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
# Seconds before a mail server that stops answering fails the send (Django waits forever by
# default: a hung server would hold the request, or the expiry-notice run, until killed).
EMAIL_TIMEOUT = env_number("EMAIL_TIMEOUT", 10, float, minimum=0.001)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Tater <no-reply@tater.local>")

# --- REST framework ------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Bearer JWTs of a tenant's OIDC identity provider; anything else goes on to the key.
        "accounts.idp_tokens.IdPTokenAuthentication",
        "apikeys.authentication.ApiKeyAuthentication",
        "tater.api.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["orgs.permissions.ScopedPermission"],
    # Per key / per session user limits by plan (apikeys.throttling); runs after ScopedPermission.
    "DEFAULT_THROTTLE_CLASSES": ["apikeys.throttling.ApiRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # DRF's JSON parser, refusing too-deep nesting, NUL and lone surrogates with a 400.
    "DEFAULT_PARSER_CLASSES": ["tater.api.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "tater.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "tater.api.schema.TaterAutoSchema",
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_VERSIONING_CLASS": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Tater API",
    "DESCRIPTION": "Secure programmatic access: API keys, organizations, audit log and scans.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Tags and operation ids from the resource: /api/v1/scans/… and the /api/scans/upload alias.
    "SCHEMA_PATH_PREFIX": r"/api(/v1)?",
    "COMPONENT_SPLIT_REQUEST": True,
    # The core's hook, then each app's documentation of its unannotated views.
    "PREPROCESSING_HOOKS": [
        "tater.api.schema.preprocess_endpoints",
        "apikeys.api.schema.preprocess_endpoints",
        "accounts.api.schema.preprocess_endpoints",
    ],
}


# --- Tater ------------------------------------------------------------------------
# Key types and their prefixes (SPEC §2); deployments may change the prefixes
# (TATER_KEY_PREFIX_STANDARD=taapit_, say): keys issued under an earlier prefix keep working.
def env_key_prefix(name: str, default: str) -> str:
    value = os.environ.get(name, default)
    # The shape apikeys.keygen recognises as a key prefix, so no key ever issued is refused.
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]{0,15}", value):
        raise ImproperlyConfigured(f"{name} must be 1-16 letters, digits, '_' or '-', starting with a letter.")
    if set(value) <= set("abcdef0123456789"):
        # Keys are the prefix and 32 lowercase hex: with a prefix of hex alone a key would look
        # like a digest or a request id, which the logs keep (tater.operations.logs.redact).
        raise ImproperlyConfigured(f"{name} needs a character other than 0-9 and a-f (e.g. end it with '_').")
    return value


TATER_KEY_PREFIX_STANDARD = env_key_prefix("TATER_KEY_PREFIX_STANDARD", "tater_")
TATER_KEY_PREFIX_AGENT = env_key_prefix("TATER_KEY_PREFIX_AGENT", "ak_")
TATER_KEY_PREFIX_PUBLIC = env_key_prefix("TATER_KEY_PREFIX_PUBLIC", "ck_")
TATER_KEY_PREFIXES = {
    "standard": TATER_KEY_PREFIX_STANDARD,
    "agent": TATER_KEY_PREFIX_AGENT,
    "public": TATER_KEY_PREFIX_PUBLIC,
}
# Identity-provider tokens (accounts.idp_tokens): seconds between two forced refreshes of an
# IdP's signing keys when a token names an unknown key id (PyJWT's cooldown).
TATER_IDP_JWKS_REFRESH_COOLDOWN = env_number("TATER_IDP_JWKS_REFRESH_COOLDOWN", 30, float)
# Whether the server may fetch an identity provider's discovery document and keys from a
# loopback, private or link-local address (tater.outbound): the URLs are a tenant owner's
# choice, so off in production; on in development and tests (loopback identity providers).
TATER_IDP_FETCH_PRIVATE_ADDRESSES = env_bool("TATER_IDP_FETCH_PRIVATE_ADDRESSES", DEBUG or TESTING)
# Where GitHub publishes the keys that sign its secret-scanning alerts (leaks.app_settings).
TATER_GITHUB_SECRET_SCANNING_KEYS_URL = env_str(
    "TATER_GITHUB_SECRET_SCANNING_KEYS_URL", "https://api.github.com/meta/public_keys/secret_scanning"
)
# Admit `Authorization: Bearer <key>` for clients that cannot send X-API-Key.
TATER_ALLOW_BEARER_KEYS = env_bool("TATER_ALLOW_BEARER_KEYS", False)
# Requests per window by tenant plan: (per minute, per hour).
TATER_PLAN_RATE_LIMITS = {"free": (60, 1_000), "pro": (300, 10_000), "enterprise": (1_000, 50_000)}
# Origins sign-in pages may send forms to (starting SSO redirects to the IdP): https only,
# plus plain http in development and tests (loopback identity providers).
TATER_SSO_FORM_ACTION = os.environ.get("TATER_SSO_FORM_ACTION", "https: http:" if DEBUG or TESTING else "https:")
# Nameservers for SSO domain verification (TXT lookups), e.g. "10.0.0.2,127.0.0.1:5353";
# empty: the system resolver. TATER_DNS_TIMEOUT: seconds per lookup, retries included.
TATER_DNS_NAMESERVERS = env_list("TATER_DNS_NAMESERVERS")
TATER_DNS_TIMEOUT = env_number("TATER_DNS_TIMEOUT", 5, float, minimum=0.001)
# Maximum request body for uploads, in bytes.
TATER_MAX_UPLOAD_BYTES = env_number("TATER_MAX_UPLOAD_BYTES", 5 * 1024 * 1024, minimum=1)
DATA_UPLOAD_MAX_MEMORY_SIZE = TATER_MAX_UPLOAD_BYTES + 1024
# Under /api/ and the seed systems' paths a CSRF refusal is a JSON catalog error.
CSRF_FAILURE_VIEW = "tater.api.errors.csrf_failure"
# Number of reverse proxies in front of the app whose X-Forwarded-For entries are trusted.
TATER_TRUSTED_PROXY_COUNT = env_number("TATER_TRUSTED_PROXY_COUNT", 0)
# Failed-authentication lockout (tater.lockout): N failures within WINDOW seconds lock the
# client address (or the account's password/OTP sign-in) for DURATION seconds.
# With the rate-limit store (Redis) unreachable: admit API requests without limits (True,
# the default: keys keep working on the database) or answer 503 (False). Lockout counters
# always fail closed.
TATER_RATELIMIT_FAIL_OPEN = env_bool("TATER_RATELIMIT_FAIL_OPEN", True)
# Seconds the rate-limit store is not asked after a call to it waited and failed (a hung Redis:
# each ask would wait out the timeout); meanwhile every call meets the outage at once, as above.
# 0: ask on every call.
TATER_RATELIMIT_OUTAGE_BACKOFF_SECONDS = env_number("TATER_RATELIMIT_OUTAGE_BACKOFF_SECONDS", 5, float)
# The first part of every limiter key in Redis (deployments sharing a Redis keep apart by it).
TATER_RATELIMIT_KEY_PREFIX = os.environ.get("TATER_RATELIMIT_KEY_PREFIX", "") or (
    env_str("CACHE_KEY_PREFIX", "tater") + ":rl"
)
# Seconds between two looks for key invalidations another node left in the database while
# Redis was down (apikeys.keycheck; a node that saw the outage applies them at once).
TATER_KEYCHECK_SWEEP_SECONDS = env_number("TATER_KEYCHECK_SWEEP_SECONDS", 30, float)  # 0: never
# Run on every API response (tater.api.views.TaterAPIView): rate-limit headers, key usage; a
# usage-limited key's use given back after a 5xx.
TATER_API_RESPONSE_HOOKS = ["apikeys.throttling.finish_response", "apikeys.uses.give_back_on_server_error"]
# tater.limiter: where counts live ("redis", "cache" = the Django cache TATER_RATELIMIT_CACHE,
# "inprocess"; empty: redis with REDIS_URL, else inprocess), and the longest rule (seconds)
# counted in a rolling window (longer rules use fixed windows).
TATER_RATELIMIT_BACKEND = env_choice("TATER_RATELIMIT_BACKEND", "", ("redis", "cache", "inprocess"), lower=True)
if TATER_RATELIMIT_BACKEND == "redis" and not REDIS_URL:
    raise ImproperlyConfigured("TATER_RATELIMIT_BACKEND is redis but REDIS_URL is not set.")
TATER_RATELIMIT_CACHE = env_str("TATER_RATELIMIT_CACHE", "default")
TATER_RATELIMIT_ROLLING_MAX_SECONDS = env_number("TATER_RATELIMIT_ROLLING_MAX_SECONDS", 60, minimum=1)
TATER_LOCKOUT_CLIENT_FAILURES = env_number("TATER_LOCKOUT_CLIENT_FAILURES", 20, minimum=1)
TATER_LOCKOUT_CLIENT_WINDOW = env_number("TATER_LOCKOUT_CLIENT_WINDOW", 600, minimum=1)
TATER_LOCKOUT_CLIENT_DURATION = env_number("TATER_LOCKOUT_CLIENT_DURATION", 900, minimum=1)
TATER_LOCKOUT_ACCOUNT_FAILURES = env_number("TATER_LOCKOUT_ACCOUNT_FAILURES", 10, minimum=1)
TATER_LOCKOUT_ACCOUNT_WINDOW = env_number("TATER_LOCKOUT_ACCOUNT_WINDOW", 900, minimum=1)
TATER_LOCKOUT_ACCOUNT_DURATION = env_number("TATER_LOCKOUT_ACCOUNT_DURATION", 900, minimum=1)
# Per-key hourly usage (apikeys.usage): days kept, and how often (seconds) a request may
# flush the process's counters into the database (0: only at exit and by `manage.py flush_key_usage`).
TATER_USAGE_RETENTION_DAYS = env_number("TATER_USAGE_RETENTION_DAYS", 90, minimum=1)
TATER_USAGE_FLUSH_INTERVAL = env_number("TATER_USAGE_FLUSH_INTERVAL", 60)

# --- Operations: probes, metrics, logs (tater.operations, docs/operations.md) -----------
# /metrics: readable from these networks (CIDRs; empty: none) or with this bearer token;
# anyone else gets the 404 of an unknown path.
TATER_METRICS_ALLOWED_IPS = env_list("TATER_METRICS_ALLOWED_IPS", "127.0.0.1/32,::1/128")
# Stripped: a token read from a secret file ends with a newline that the scraper does not send.
TATER_METRICS_TOKEN = os.environ.get("TATER_METRICS_TOKEN", "").strip()
# /readyz: seconds to wait for the database and Redis (asked concurrently).
TATER_READY_TIMEOUT = env_number("TATER_READY_TIMEOUT", 1, float, minimum=0.001)
# /readyz: the last checks' result stands this long (a flood: one DB connection a second).
TATER_READY_MIN_INTERVAL = env_number("TATER_READY_MIN_INTERVAL", 1, float)
# Log lines: "json" (one object per line; the default with DEBUG off) or "text". Both carry
# the request id and redact secrets. TATER_ACCESS_LOG: one line per request (tater.access).
TATER_LOG_FORMAT = env_choice("TATER_LOG_FORMAT", "text" if DEBUG else "json", ("json", "text"), lower=True)
TATER_ACCESS_LOG = env_bool("TATER_ACCESS_LOG", True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "tater.operations.logs.JsonFormatter"},
        "text": {"()": "tater.operations.logs.TextFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": TATER_LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env_choice("LOG_LEVEL", "INFO", LOG_LEVELS, upper=True)},
    "loggers": {
        # No handler of its own: Django's default one printed every django.* line a second
        # time with debug on, as bare text with the raw path and an unredacted traceback.
        "django": {"handlers": [], "level": "INFO"},
        "django.request": {"level": "ERROR"},
        # Its DEBUG lines dump whole template contexts: reset and invitation links, forms.
        "django.template": {"level": "INFO"},
        "django.db.backends": {"level": "INFO"},  # DEBUG: every SQL parameter (session keys, seeds)
        "tater.access": {"level": "INFO" if TATER_ACCESS_LOG else "WARNING"},
    },
}

if TESTING:
    # Fast tests: a cheap hasher (never used outside the test suite).
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # No opportunistic usage flush mid-test (query-count assertions); tests flush explicitly.
    TATER_USAGE_FLUSH_INTERVAL = 0
    # No periodic look for invalidations other nodes left pending (a query mid-test); a
    # process that saw an outage still applies them at once.
    TATER_KEYCHECK_SWEEP_SECONDS = 0
    TATER_READY_MIN_INTERVAL = 0  # every /readyz of a test asks again (tests change what is up)
