from django.db import migrations, models
from django.db.models import ExpressionWrapper, F, FloatField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Cast


def fill_points(apps, schema_editor):
    """The existing rows' points, from the values they store and their product's daily amount,
    with the weights and curves of products/matching/ when this migration was written."""
    from products.matching.ranking import headroom_sql

    ProductIndication = apps.get_model("products", "ProductIndication")
    Product = apps.get_model("products", "Product")
    ReferenceIntake = apps.get_model("formulary", "ReferenceIntake")
    adult = 18 * 12
    base = (
        Value(0.20) * F("dose_value")
        + Value(0.10) * F("price_value")
        + Value(0.15) * Cast("tolerability", FloatField())
    )
    for jurisdiction in ("eu", "us"):
        limit = (
            ReferenceIntake.objects.filter(
                kind="upper_limit",
                sex="any",
                life_stage="general",
                jurisdiction=jurisdiction,
                age_from_months__lte=adult,
            )
            .filter(Q(age_to_months__isnull=True) | Q(age_to_months__gt=adult))
            .values_list("amount_mg", flat=True)
            .first()
        )
        headroom = Product.objects.filter(pk=OuterRef("product_id")).annotate(
            value=ExpressionWrapper(headroom_sql(limit), output_field=FloatField())
        )
        ProductIndication.objects.update(
            **{
                f"points_{jurisdiction}": base
                + Value(0.15) * Subquery(headroom.values("value"), output_field=FloatField())
            }
        )


class Migration(migrations.Migration):
    dependencies = [
        ("products", "0008_shop_staff_spreadsheet_permissions"),
        ("formulary", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="productindication",
            name="points_eu",
            field=models.FloatField(
                default=0.0,
                help_text="The weighted dose, price, tolerability and EU headroom values (0-0.6).",
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="productindication",
            name="points_us",
            field=models.FloatField(
                default=0.0,
                help_text="The weighted dose, price, tolerability and US headroom values (0-0.6).",
            ),
            preserve_default=False,
        ),
        migrations.RunPython(fill_points, migrations.RunPython.noop, elidable=True),
    ]
