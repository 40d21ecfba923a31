from django.db import migrations, transaction


def fill(apps, schema_editor):
    """The links of the match rows that exist, as every later rebuild writes them; then the
    table vacuumed and analysed for the planner.

    The fill changes no answer (the API shows a product's indications from its compounds),
    but its UPDATE fires the change log's trigger for every published product: those rows
    are removed again, or every webshop that keeps a copy would fetch the whole catalogue.
    """
    from formulary.common.statistics import tables_vacuum_analyze
    from products.matching.index import linked_indications_fill

    alias = schema_editor.connection.alias
    log = apps.get_model("products", "CatalogueChange")
    with transaction.atomic(using=alias):
        # SQLite has one writer at a time: the rows after the last one are this fill's. On
        # PostgreSQL they carry this transaction's id.
        last = log.objects.using(alias).order_by("-id").values_list("id", flat=True).first()
        linked_indications_fill(alias)
        logged = log.objects.using(alias).filter(id__gt=last or 0)
        if schema_editor.connection.vendor == "postgresql":
            with schema_editor.connection.cursor() as cursor:
                cursor.execute("SELECT pg_current_xact_id()::text::bigint")
                logged = logged.filter(xact=cursor.fetchone()[0])
        logged.delete()
    # Every row was rewritten: VACUUM marks the pages all-visible again (outside a
    # transaction, so this migration is not atomic).
    tables_vacuum_analyze([apps.get_model("products", "Product")])


class Migration(migrations.Migration):
    atomic = False
    # Apart from 0020: PostgreSQL alters no table in the transaction that updated it.
    dependencies = [
        ("products", "0020_product_linked_indications"),
    ]

    operations = [
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
    ]
