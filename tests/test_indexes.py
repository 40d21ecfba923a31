"""The catalogue's tables keep no index that another index of theirs makes redundant."""

import pytest
from django.apps import apps
from django.db import connection

# The tables that grow with the catalogue: every product write maintains each of their indexes.
CATALOGUE_TABLES = sorted(
    model._meta.db_table for model in apps.get_app_config("products").get_models()
)

POSTGRESQL_INDEXES = """
    SELECT index_class.relname, pg_index.indisunique,
           array_agg(attribute.attname || ' ' || operator_class.opcname ORDER BY key.position)
    FROM pg_index
    JOIN pg_class index_class ON index_class.oid = pg_index.indexrelid
    JOIN pg_am ON pg_am.oid = index_class.relam AND pg_am.amname = 'btree'
    CROSS JOIN LATERAL unnest(pg_index.indkey::int2[], pg_index.indclass::oid[])
        WITH ORDINALITY AS key (attnum, opclass, position)
    JOIN pg_attribute attribute
        ON attribute.attrelid = pg_index.indrelid AND attribute.attnum = key.attnum
    JOIN pg_opclass operator_class ON operator_class.oid = key.opclass
    WHERE pg_index.indrelid = %s::regclass AND pg_index.indpred IS NULL
        AND pg_index.indexprs IS NULL
    GROUP BY index_class.relname, pg_index.indisunique
"""


def btree_indexes(table: str) -> list[tuple[str, bool, tuple[str, ...]]]:
    """(name, unique, columns with their operator class) of each plain b-tree index."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(POSTGRESQL_INDEXES, [table])
            return [(name, unique, tuple(columns)) for name, unique, columns in cursor.fetchall()]
        constraints = connection.introspection.get_constraints(cursor, table)
    return [
        (
            name,
            found["unique"],
            tuple(
                f"{column} {order}"
                for column, order in zip(
                    found["columns"],
                    found.get("orders") or ["ASC"] * len(found["columns"]),
                    strict=True,
                )
            ),
        )
        for name, found in constraints.items()
        if found["index"] and found["columns"] and None not in found["columns"]
    ]


def redundant_indexes(table: str) -> list[tuple[str, str]]:
    """(index, the index that makes it redundant): a non-unique index whose columns, with their
    operator classes, begin another index's."""
    indexes = btree_indexes(table)
    return sorted(
        (name, other)
        for name, unique, columns in indexes
        for other, other_unique, other_columns in indexes
        if not unique
        and other != name
        and other_columns[: len(columns)] == columns
        # Two equal indexes: one of them is redundant, not both.
        and (len(other_columns) > len(columns) or other_unique or other < name)
    )


@pytest.mark.django_db
@pytest.mark.parametrize("table", CATALOGUE_TABLES)
def test_catalogue_table_has_no_index_that_another_index_begins_with(table):
    assert redundant_indexes(table) == []


@pytest.mark.django_db
def test_redundant_indexes_name_an_index_whose_columns_begin_another():
    # Inside the test's transaction, so both databases roll it back.
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE INDEX redundant_status_idx ON products_product (status, dosage_form)"
        )
    assert ("redundant_status_idx", "product_form_day_idx") in redundant_indexes("products_product")
