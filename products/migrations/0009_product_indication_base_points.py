from django.db import migrations, models
from django.db.models import F, FloatField, Value
from django.db.models.functions import Cast


def fill_base_points(apps, schema_editor):
    """The existing rows' base points, from the values they already store.

    The weights are those of products/matching/weights.py when this migration was written; a
    later change of the weights is followed by ``manage.py refresh_matching``, as before.
    """
    ProductIndication = apps.get_model("products", "ProductIndication")
    ProductIndication.objects.update(
        base_points=Value(0.20) * F("dose_value")
        + Value(0.10) * F("price_value")
        + Value(0.15) * Cast("tolerability", FloatField())
    )


class Migration(migrations.Migration):
    dependencies = [
        ("products", "0008_shop_staff_spreadsheet_permissions"),
    ]

    operations = [
        migrations.AddField(
            model_name="productindication",
            name="base_points",
            field=models.FloatField(
                default=0.0,
                help_text="DOSE_WEIGHT * dose + PRICE_WEIGHT * price + TOLERABILITY_WEIGHT * "
                "tolerability (0-0.45).",
            ),
            preserve_default=False,
        ),
        migrations.RunPython(fill_base_points, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="productindication",
            index=models.Index(
                fields=["indication", "-base_points"], name="product_indication_top_idx"
            ),
        ),
    ]
