# Load the Celery app with Django, so `celery -A config` and @shared_task find it.
from .celery import app as celery_app

__all__ = ("celery_app",)
