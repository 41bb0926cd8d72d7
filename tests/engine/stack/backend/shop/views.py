from django.db import connection
from django.http import JsonResponse

from shop.models import Heartbeat


def live(request):
    """Liveness: the process answers; nothing else is checked."""
    return JsonResponse({"status": "ok"})


def ready(request):
    """Readiness: 200 only when the database answers (through PgBouncer for the backend)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure to reach the database means not ready
        return JsonResponse({"status": "unavailable", "database": str(exc).strip()}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


def heartbeats(request):
    return JsonResponse({"count": Heartbeat.objects.count()})


def index(request):
    return JsonResponse({"service": "shop-backend"})
