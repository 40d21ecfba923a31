"""Keeps products.ProductIndication current: the stored per-indication match data.

One set-based statement pair (DELETE, then INSERT ... SELECT) rebuilds the rows of any set of
products, so a bulk load of a million products costs two statements, not a loop.
"""

from django.db import connections, router, transaction
from django.db.models import Max, Min, OuterRef, QuerySet, Subquery
from django.db.models.functions import Cast

from formulary.common.catalogue_version import catalogue_version_bump
from formulary.enums import Jurisdiction
from formulary.selectors import adult_upper_limits_mg
from products.matching import weights as w
from products.matching.ranking import (
    SCORE_FIELD,
    dose_sql,
    float_expression,
    headroom_sql,
    link_strength_sql,
    number,
    points_field,
    price_sql,
    tolerability_sql,
)
from products.models import IngredientLine, Product, ProductIndication


def rows_select(lines: QuerySet[IngredientLine]) -> QuerySet:
    """One row per (product, indication) with evidence: the values ProductIndication stores.

    The points per jurisdiction use the adult upper limits of now; products.receivers rebuilds
    every row when one of them changes.
    """
    limits = adult_upper_limits_mg()
    product_tolerability = (
        IngredientLine.objects.filter(product=OuterRef("product_id"))
        .values("product")
        .annotate(value=Min(tolerability_sql("compound__laxative_tendency")))
        .values("value")
    )
    return (
        lines.filter(compound__evidence__isnull=False)
        .values("product_id", "compound__evidence__indication_id")
        .annotate(
            evidence_strength=Max(
                link_strength_sql("compound__evidence__grade", "compound__evidence__basis")
            ),
            best_grade=Min("compound__evidence__grade"),
            # Min of a value that is one per product: it keeps the subquery out of the GROUP
            # BY, which is then (product, indication) alone. With it in the GROUP BY, the
            # insert below hit the (product, indication) UNIQUE constraint on SQLite after
            # some earlier tests (order-dependent; the cause inside SQLite not pinned down).
            tolerability=Min(Subquery(product_tolerability)),
            # Product columns, one value per group: Max only satisfies the GROUP BY.
            dose_value=Max(dose_sql("product__")),
            price_value=Max(price_sql("product__")),
            **{
                points_field(jurisdiction): float_expression(
                    number(w.DOSE_WEIGHT) * Max(dose_sql("product__"))
                    + number(w.PRICE_WEIGHT) * Max(price_sql("product__"))
                    + number(w.TOLERABILITY_WEIGHT)
                    * Cast(Min(Subquery(product_tolerability)), SCORE_FIELD)
                    + number(w.HEADROOM_WEIGHT)
                    * Max(headroom_sql(limits.get(jurisdiction), "product__"))
                )
                for jurisdiction in Jurisdiction.values
            },
        )
        .order_by()
    )


@transaction.atomic
def product_indications_rebuild(*, product_ids=None) -> None:
    """Rebuild the match rows of ``product_ids`` (ids or a values queryset), or of all products.

    products.services.products_refresh calls it after every write of products or lines, and
    bumps their catalogue versions; ``manage.py refresh_matching`` after a migration.
    """
    lines = IngredientLine.objects.all()
    stale = ProductIndication.objects.all()
    if product_ids is not None:
        lines = lines.filter(product_id__in=product_ids)
        stale = stale.filter(product_id__in=product_ids)
    # One DELETE: the rows are derived and keep no history, and delete() would load each row
    # to send its signals (a catalogue version bump per row).
    database = router.db_for_write(ProductIndication)
    # On the primary by name: a queryset's own .db is the read alias (a replica).
    stale._raw_delete(database)
    select, params = rows_select(lines).query.get_compiler(using=database).as_sql()
    table = ProductIndication._meta.db_table
    values = [
        "evidence_strength",
        "best_grade",
        "tolerability",
        "dose_value",
        "price_value",
        *(points_field(j) for j in Jurisdiction.values),
    ]
    columns = ", ".join(["product_id", "indication_id", *values])
    # ON CONFLICT: the full suite (SQLite and PostgreSQL) twice met a row of the batch that
    # the DELETE above should have removed, after some earlier tests; the cause is not found
    # yet. Overwriting keeps the rows equal to the SELECT, which is what they are defined as.
    # (WHERE true: SQLite's parser needs it to read ON CONFLICT after INSERT ... SELECT.)
    updates = ", ".join(f"{name} = excluded.{name}" for name in values)
    with connections[database].cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT * FROM ({select}) AS fresh WHERE true "
            f"ON CONFLICT (product_id, indication_id) DO UPDATE SET {updates}",
            params,
        )
    evidence_signatures_fill(database, product_ids)
    linked_indications_fill(database, product_ids)
    # None of the statements sends signals. A rebuild of some products is part of a write whose
    # bookkeeping (products.services.products_refresh) bumps those products; a rebuild of all
    # makes every product answer stale here.
    if product_ids is None:
        catalogue_version_bump(all_products=True)


def products_scope(database: str, product_ids, column: str) -> tuple[str, tuple]:
    """``WHERE <column> IN (...)`` for ``product_ids`` (ids or a values queryset) with its
    parameters; nothing for every product."""
    if product_ids is None:
        return "", ()
    ids = Product.objects.filter(pk__in=product_ids).values("pk")
    sql, params = ids.query.get_compiler(using=database).as_sql()
    return f"WHERE {column} IN ({sql})", params


def evidence_signatures_fill(database: str, product_ids=None) -> None:
    """Writes each product's evidence signature (ProductIndication.evidence_signature) on all
    its rows, from the rows themselves: one UPDATE for ``product_ids`` (or every product)."""
    table = ProductIndication._meta.db_table
    scope, params = products_scope(database, product_ids, "product_id")
    if connections[database].vendor == "postgresql":
        signatures = (
            f"SELECT product_id, string_agg(indication_id::text || ':' || evidence_strength::text,"
            f" ',' ORDER BY indication_id) AS signature FROM {table} {scope} GROUP BY product_id"
        )
    else:  # SQLite concatenates in the order of its ordered FROM subquery
        signatures = (
            f"SELECT product_id, group_concat(pair, ',') AS signature FROM (SELECT product_id, "
            f"indication_id || ':' || evidence_strength AS pair FROM {table} {scope} "
            f"ORDER BY product_id, indication_id) GROUP BY product_id"
        )
    with connections[database].cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET evidence_signature = fresh.signature FROM ({signatures}) AS "
            f"fresh WHERE {table}.product_id = fresh.product_id",
            params,
        )


def linked_indications_fill(database: str, product_ids=None) -> None:
    """Writes ``Product.linked_indications`` of ``product_ids`` (or every product) from their
    match rows: one UPDATE, which leaves a product whose links did not change untouched."""
    products = Product._meta.db_table
    rows = ProductIndication._meta.db_table
    scope, params = products_scope(database, product_ids, "product.id")
    if connections[database].vendor == "postgresql":
        ids_text = "string_agg(row.indication_id::text, '|' ORDER BY row.indication_id)"
        differs = "IS DISTINCT FROM"
    else:  # the order of SQLite's group_concat is not defined; a pattern finds an id anywhere
        ids_text = "group_concat(row.indication_id, '|')"
        differs = "IS NOT"
    # No rows: the aggregate is NULL, and so is the text.
    linked = f"(SELECT '|' || {ids_text} || '|' FROM {rows} row WHERE row.product_id = product.id)"
    with connections[database].cursor() as cursor:
        cursor.execute(
            f"UPDATE {products} SET linked_indications = fresh.linked FROM (SELECT product.id, "
            f"{linked} AS linked FROM {products} product {scope}) AS fresh "
            f"WHERE {products}.id = fresh.id AND {products}.linked_indications {differs} "
            "fresh.linked",
            params,
        )
