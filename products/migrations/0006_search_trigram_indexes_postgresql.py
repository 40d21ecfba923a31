"""Indexes that make ``search`` use an index on PostgreSQL; other databases skip them.

Django's ``icontains`` is ``UPPER(col::text) LIKE UPPER('%...%')`` on PostgreSQL, so the
trigram indexes are on those same expressions; ``startswith`` on the GTIN needs pattern ops
unless the database collation is C.
"""

from django.db import migrations

INDEXES = {
    "product_name_trgm_idx":
        "ON products_product USING gin ((UPPER(name::text)) gin_trgm_ops)",
    "brand_name_trgm_idx":
        "ON products_brand USING gin ((UPPER(name::text)) gin_trgm_ops)",
    "product_gtin_prefix_idx":
        "ON products_product (gtin varchar_pattern_ops)",
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, definition in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} {definition}")


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("products", "0005_catalogue_read_indexes")]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
