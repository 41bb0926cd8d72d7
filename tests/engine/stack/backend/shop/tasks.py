import socket

from celery import shared_task


@shared_task
def record_heartbeat():
    from shop.models import Heartbeat

    row = Heartbeat.objects.create(source=socket.gethostname())
    return row.pk


@shared_task
def add(x, y):
    return x + y
