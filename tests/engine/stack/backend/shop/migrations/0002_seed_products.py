from django.db import migrations

PRODUCTS = [
    ("SKU-0001", "Espresso machine", 24900),
    ("SKU-0002", "Coffee grinder", 8900),
    ("SKU-0003", "Milk jug", 1500),
]


def seed(apps, schema_editor):
    Product = apps.get_model("shop", "Product")
    for sku, name, price in PRODUCTS:
        Product.objects.get_or_create(sku=sku, defaults={"name": name, "price_cents": price})


def unseed(apps, schema_editor):
    apps.get_model("shop", "Product").objects.filter(sku__in=[p[0] for p in PRODUCTS]).delete()


class Migration(migrations.Migration):

    dependencies = [("shop", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
