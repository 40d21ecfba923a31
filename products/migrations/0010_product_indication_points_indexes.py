from django.db import migrations, models


def analyze(apps, schema_editor):
    """Statistics of the new columns for the planner, where autovacuum is off or slow
    (formulary.common.statistics)."""
    table = apps.get_model("products", "ProductIndication")._meta.db_table
    schema_editor.execute(f"ANALYZE {schema_editor.quote_name(table)}")


class Migration(migrations.Migration):
    # Apart from 0009: PostgreSQL builds no index in the transaction that updated the table.
    dependencies = [
        ("products", "0009_product_indication_points"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="productindication",
            index=models.Index(fields=["indication", "-points_eu"], name="product_indication_eu_idx"),
        ),
        migrations.AddIndex(
            model_name="productindication",
            index=models.Index(fields=["indication", "-points_us"], name="product_indication_us_idx"),
        ),
        migrations.RunPython(analyze, migrations.RunPython.noop, elidable=True),
    ]
