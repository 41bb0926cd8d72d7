from django.db import models


class Product(models.Model):
    sku = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    price_cents = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)


class Heartbeat(models.Model):
    """One row per run of the beat-scheduled task: proves beat, broker, worker and database."""

    source = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
