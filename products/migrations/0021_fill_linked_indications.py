from django.db import migrations


def fill(apps, schema_editor):
    """The links of the match rows that exist, as every later rebuild writes them; then the
    statistics of the new column for the planner."""
    from formulary.common.statistics import tables_analyze
    from products.matching.index import linked_indications_fill

    linked_indications_fill(schema_editor.connection.alias)
    tables_analyze([apps.get_model("products", "Product")])


class Migration(migrations.Migration):
    # Apart from 0020: PostgreSQL alters no table in the transaction that updated it.
    dependencies = [
        ("products", "0020_product_linked_indications"),
    ]

    operations = [
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
    ]
