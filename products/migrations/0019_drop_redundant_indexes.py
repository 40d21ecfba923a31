"""Drops the indexes whose columns begin another index of the same table: every write of a
product maintained them, and the longer index serves each read they did.

- product_status_form_idx (status, dosage_form): product_form_day_idx begins with both.
- The product keys of the ingredient, nutrient and match rows: each unique constraint's
  index begins with the product; the match rows' indication: product_indication_idx.
- product_gtin_prefix_idx (0006, PostgreSQL): Django's own ``_like`` index of the unique GTIN
  is the same index.
"""

import django.db.models.deletion
from django.db import migrations, models


# Django's names for the foreign keys' own indexes, the same on every database.
FOREIGN_KEY_INDEXES = [
    ("products_ingredientline_product_id_cda27f2e", "products_ingredientline", "product_id"),
    ("products_nutrientline_product_id_50255fc6", "products_nutrientline", "product_id"),
    (
        "products_productindication_indication_id_5cc37e27",
        "products_productindication",
        "indication_id",
    ),
    (
        "products_productindication_product_id_ef30d817",
        "products_productindication",
        "product_id",
    ),
]


def drop_gtin_prefix_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS product_gtin_prefix_idx")


def create_gtin_prefix_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS product_gtin_prefix_idx "
            "ON products_product (gtin varchar_pattern_ops)"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("formulary", "0007_populations_nutrient_limits_cautions"),
        ("products", "0018_fill_evidence_signatures"),
    ]

    operations = [
        migrations.RunPython(drop_gtin_prefix_index, create_gtin_prefix_index),
        migrations.RemoveIndex(
            model_name="product",
            name="product_status_form_idx",
        ),
        # Only the indexes: on SQLite, altering the fields would rebuild the tables, which the
        # change-log triggers (0009) on them refuse.
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f"DROP INDEX IF EXISTS {name}",
                    f"CREATE INDEX {name} ON {table} ({column})",
                )
                for name, table, column in FOREIGN_KEY_INDEXES
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="ingredientline",
                    name="product",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="ingredients",
                        to="products.product",
                        verbose_name="product",
                    ),
                ),
                migrations.AlterField(
                    model_name="nutrientline",
                    name="product",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="nutrients",
                        to="products.product",
                        verbose_name="product",
                    ),
                ),
                migrations.AlterField(
                    model_name="productindication",
                    name="indication",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="product_matches",
                        to="formulary.indication",
                        verbose_name="indication",
                    ),
                ),
                migrations.AlterField(
                    model_name="productindication",
                    name="product",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="indication_matches",
                        to="products.product",
                        verbose_name="product",
                    ),
                ),
            ],
        ),
    ]
