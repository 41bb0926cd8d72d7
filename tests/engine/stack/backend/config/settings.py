"""Settings of the shop backend, all from the environment (the catalogue's `env` and `.env`)."""
import os


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_or_file(name, default=""):
    """NAME, or the content of the file NAME_FILE names (a Compose secret, as muster writes one
    for `env = { NAME = { secret = ... } }`), as the official images read their own."""
    path = os.environ.get(name + "_FILE")
    if path:
        with open(path) as f:
            return f.read().rstrip("\n")
    return os.environ.get(name, default)


SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
DEBUG = os.environ.get("DJANGO_DEBUG", "") in ("1", "true", "True")
# The healthchecks call 127.0.0.1: Django answers 400 to a host not listed here.
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "shop",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        # The backend reaches PostgreSQL through PgBouncer (DATABASE_HOST=pgbouncer, 6432);
        # the migrations job and Celery connect directly (.env: postgres, 5432).
        "HOST": os.environ.get("DATABASE_HOST", "postgres"),
        "PORT": os.environ.get("DATABASE_PORT", "5432"),
        "NAME": os.environ.get("POSTGRES_DB", "shop"),
        "USER": os.environ.get("POSTGRES_USER", "shop"),
        "PASSWORD": env_or_file("POSTGRES_PASSWORD"),
        # A connection per request: PgBouncer's transaction pooling does the reuse.
        "CONN_MAX_AGE": 0,
        # Server-side cursors do not survive transaction pooling.
        "DISABLE_SERVER_SIDE_CURSORS": True,
        # An unreachable host fails within seconds (and `migrate` exits non-zero), not after
        # the kernel's TCP timeout.
        "OPTIONS": {"connect_timeout": 5},
    }
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en-us"
USE_I18N = False

REDIS_URL = os.environ.get("REDIS_URL", "")

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "amqp://guest:guest@rabbitmq:5672//")
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    "record-heartbeat": {
        "task": "shop.tasks.record_heartbeat",
        "schedule": 30.0,
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "INFO"},
}
