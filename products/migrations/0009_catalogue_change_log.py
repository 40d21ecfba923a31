"""The change log of the catalogue feed, written by database triggers.

Every write that may change what the feed shows of a product leaves a row with the product's
GTIN: its own row (when it is or was published), its ingredient and nutrient lines, and the
knowledge base it shows (a compound's names, formula and elemental %, evidence links, the
names of indications and nutrients, reference intakes). Triggers rather than calls from the
services, so bulk updates, raw SQL and the admin's bulk actions cannot bypass the log.

On PostgreSQL each row carries the writing transaction's id (``pg_current_xact_id()``); the
change feed (products/feed.py) hands out only rows of transactions older than its snapshot's
xmin, so a transaction that commits late can never be skipped. SQLite has one writer at a
time, so its rows commit in id order and carry 0.

The triggers on the knowledge base log every product that contains the changed data, whatever
its status: filtering on status there could miss a concurrent publish.
"""

from django.db import migrations, models

LOG = "products_cataloguechange"
PRODUCT_OF_NEW_LINE = "SELECT gtin FROM products_product WHERE id = NEW.product_id"
PRODUCT_OF_OLD_LINE = "SELECT gtin FROM products_product WHERE id = OLD.product_id"
WITH_COMPOUND = (
    "SELECT gtin FROM products_product WHERE id IN "
    "(SELECT product_id FROM products_ingredientline WHERE compound_id IN ({compounds}))"
)
COMPOUND_FIELDS = ("slug", "name_nl", "name_en", "formula", "elemental_magnesium_percent")
EVIDENCE_FIELDS = ("compound_id", "indication_id", "grade")
INDICATION_FIELDS = ("slug", "name_nl", "name_en")
NUTRIENT_FIELDS = ("slug", "name_nl", "name_en", "unit")
INTAKE_FIELDS = (
    "jurisdiction", "kind", "sex", "life_stage", "age_from_months", "age_to_months", "amount_mg"
)


def changed(fields):
    """A condition true when any field differs; ``{differs}`` is the vendor's null-safe <>."""
    return " OR ".join(f"OLD.{name} {{differs}} NEW.{name}" for name in fields)


def line_triggers(prefix, table):
    return [
        (f"{prefix}_insert", table, "INSERT", None, PRODUCT_OF_NEW_LINE),
        (f"{prefix}_update_old", table, "UPDATE", None, PRODUCT_OF_OLD_LINE),
        (f"{prefix}_update_new", table, "UPDATE", "NEW.product_id <> OLD.product_id",
         PRODUCT_OF_NEW_LINE),
        (f"{prefix}_delete", table, "DELETE", None, PRODUCT_OF_OLD_LINE),
    ]


# (name, table, event, condition or None, the SELECT of the GTINs to log)
TRIGGERS = [
    ("product_insert", "products_product", "INSERT", "NEW.status = 'published'",
     "SELECT NEW.gtin AS gtin"),
    ("product_update_old", "products_product", "UPDATE", "OLD.status = 'published'",
     "SELECT OLD.gtin AS gtin"),
    ("product_update_new", "products_product", "UPDATE",
     "NEW.status = 'published' AND (OLD.status <> 'published' OR NEW.gtin <> OLD.gtin)",
     "SELECT NEW.gtin AS gtin"),
    ("product_delete", "products_product", "DELETE", "OLD.status = 'published'",
     "SELECT OLD.gtin AS gtin"),
    *line_triggers("ingredient", "products_ingredientline"),
    *line_triggers("nutrient", "products_nutrientline"),
    ("compound_update", "compounds_compoundform", "UPDATE", changed(COMPOUND_FIELDS),
     WITH_COMPOUND.format(compounds="NEW.id")),
    ("evidence_insert", "compounds_compoundindication", "INSERT", None,
     WITH_COMPOUND.format(compounds="NEW.compound_id")),
    ("evidence_update", "compounds_compoundindication", "UPDATE", changed(EVIDENCE_FIELDS),
     WITH_COMPOUND.format(compounds="OLD.compound_id, NEW.compound_id")),
    ("evidence_delete", "compounds_compoundindication", "DELETE", None,
     WITH_COMPOUND.format(compounds="OLD.compound_id")),
    ("indication_update", "formulary_indication", "UPDATE", changed(INDICATION_FIELDS),
     WITH_COMPOUND.format(
         compounds="SELECT compound_id FROM compounds_compoundindication "
         "WHERE indication_id = NEW.id"
     )),
    ("nutrient_name_update", "formulary_nutrient", "UPDATE", changed(NUTRIENT_FIELDS),
     "SELECT gtin FROM products_product WHERE id IN "
     "(SELECT product_id FROM products_nutrientline WHERE nutrient_id = NEW.id)"),
    # The NRV and the upper limits are shown with every product.
    ("intake_insert", "formulary_referenceintake", "INSERT", None,
     "SELECT gtin FROM products_product"),
    ("intake_update", "formulary_referenceintake", "UPDATE", changed(INTAKE_FIELDS),
     "SELECT gtin FROM products_product"),
    ("intake_delete", "formulary_referenceintake", "DELETE", None,
     "SELECT gtin FROM products_product"),
]


def insert_sql(select, xact):
    return f"INSERT INTO {LOG} (gtin, xact) SELECT changed.gtin, {xact} FROM ({select}) AS changed"


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for name, table, event, condition, select in TRIGGERS:
        trigger = f"products_change_{name}"
        if vendor == "postgresql":
            when = f"WHEN ({condition.format(differs='IS DISTINCT FROM')})" if condition else ""
            schema_editor.execute(
                f"CREATE FUNCTION {trigger}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"{insert_sql(select, 'pg_current_xact_id()::text::bigint')}; "
                "RETURN NULL; END $$"
            )
            schema_editor.execute(
                f"CREATE TRIGGER {trigger} AFTER {event} ON {table} FOR EACH ROW {when} "
                f"EXECUTE FUNCTION {trigger}()"
            )
        elif vendor == "sqlite":
            when = f"WHEN {condition.format(differs='IS NOT')}" if condition else ""
            schema_editor.execute(
                f"CREATE TRIGGER {trigger} AFTER {event} ON {table} FOR EACH ROW {when} "
                f"BEGIN {insert_sql(select, '0')}; END"
            )
        else:
            raise NotImplementedError(f"No change-log triggers for {vendor}.")


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for name, table, *_ in TRIGGERS:
        trigger = f"products_change_{name}"
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {trigger}()")
        else:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {trigger}")


class Migration(migrations.Migration):
    dependencies = [
        ("products", "0008_shop_staff_spreadsheet_permissions"),
        ("compounds", "0002_audit_history"),
        ("formulary", "0002_audit_history"),
    ]

    operations = [
        migrations.CreateModel(
            name="CatalogueChange",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("gtin", models.CharField(max_length=14)),
                ("xact", models.BigIntegerField(default=0)),
            ],
            options={
                "ordering": ["xact", "id"],
                "indexes": [
                    models.Index(fields=["xact", "id"], name="catalogue_change_order_idx")
                ],
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
