from django.db import migrations


def fill(apps, schema_editor):
    """The signatures of the rows that exist, as every later rebuild writes them; then the
    statistics of the new column for the planner."""
    from formulary.common.statistics import tables_analyze
    from products.matching.index import evidence_signatures_fill

    evidence_signatures_fill(schema_editor.connection.alias)
    tables_analyze([apps.get_model("products", "ProductIndication")])


class Migration(migrations.Migration):
    # Apart from 0017: PostgreSQL alters no table in the transaction that updated it.
    dependencies = [
        ("products", "0017_product_indication_evidence_signature"),
    ]

    operations = [
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
    ]
