"""Statements compiled once (formulary.common.statements) give the rows their querysets give."""

import pytest
from django.db import connection, router
from django.http import QueryDict

from formulary.common.catalogue_version import read_versions
from formulary.common.statements import CompiledValues
from products.api.catalogue import CATALOGUE_PAGE, DETAIL_VALUES, product_values_by_gtin
from products.api.filters import ProductFilter
from products.api.list_statement import catalogue_page_rows
from products.catalogue_rows import product_values
from products.enums import ProductStatus
from products.models import Product
from products.selectors import published_products

pytestmark = pytest.mark.django_db

API = "/api/v1"


def queryset_rows(gtin: str, *, published_only: bool) -> list[dict]:
    base = published_products() if published_only else Product.objects.all()
    return list(product_values(base.filter(gtin=gtin).order_by(), "version"))


def test_detail_statement_rows_equal_the_querysets_rows_for_every_product():
    products = list(Product.objects.values_list("gtin", "status"))
    assert {status for _, status in products} >= {ProductStatus.PUBLISHED, ProductStatus.DRAFT}

    for gtin, status in products:
        for published_only in (True, False):
            rows = product_values_by_gtin(gtin, published_only=published_only)

            # Decimals, booleans and the lines' JSON, through the fields' own converters.
            assert rows == queryset_rows(gtin, published_only=published_only)
            hidden = published_only and status != ProductStatus.PUBLISHED
            assert len(rows) == (0 if hidden else 1)


def test_detail_statement_of_an_unknown_gtin_is_no_row():
    assert product_values_by_gtin("20990000000000", published_only=False) == []


def test_detail_statement_is_compiled_once_and_then_one_query(django_assert_num_queries):
    gtins = list(Product.objects.values_list("gtin", flat=True)[:3])
    product_values_by_gtin(gtins[0], published_only=False)
    compiled = DETAIL_VALUES[False].statement(router.db_for_read(Product))

    for gtin in gtins:
        with django_assert_num_queries(1):
            assert product_values_by_gtin(gtin, published_only=False)[0]["gtin"] == gtin
    assert DETAIL_VALUES[False].statement(router.db_for_read(Product)) is compiled


@pytest.mark.parametrize(
    "build",
    [
        lambda gtin: Product.objects.filter(gtin=gtin, name=gtin).values("gtin"),
        lambda gtin: Product.objects.values("gtin"),
    ],
    ids=["value-twice", "value-unused"],
)
def test_compiled_values_refuses_a_statement_without_one_place_per_value(build):
    with pytest.raises(ValueError, match="exactly once"):
        CompiledValues(build, markers=1).rows(router.db_for_read(Product), "2073100011373")


def test_product_detail_with_a_filter_gives_the_plain_detail_when_it_matches(client):
    gtin = Product.objects.filter(status=ProductStatus.PUBLISHED).values_list("gtin", flat=True)[0]
    plain = client.get(f"{API}/products/{gtin}/")
    dosage_form = plain.json()["dosage_form"]
    other_form = "powder" if dosage_form != "powder" else "capsule"

    filtered = client.get(f"{API}/products/{gtin}/", {"dosage_form": dosage_form})
    excluded = client.get(f"{API}/products/{gtin}/", {"dosage_form": other_form})

    assert plain.status_code == filtered.status_code == 200
    assert filtered.json() == plain.json()
    assert excluded.status_code == 404


on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="prepared statements of config.postgresql"
)


def prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [statement for (statement,) in cursor.fetchall()]


def versions_statement(keys) -> str:
    """The version query of ``keys`` as the server holds it prepared ($1, $2, ...)."""
    placeholders = ", ".join(f"${n}" for n in range(1, len(keys) + 1))
    return (
        f'SELECT "key", "value" FROM "formulary_catalogueversion" WHERE "key" IN ({placeholders})'
    )


@on_postgresql
def test_version_and_detail_statements_are_prepared_once_per_connection():
    keys = [f"prepared-test-{n}" for n in range(7)]  # a statement no other test runs
    gtin = Product.objects.filter(status=ProductStatus.PUBLISHED).values_list("gtin").first()[0]

    for _ in range(3):
        assert read_versions(keys, using="default") == []
        assert len(product_values_by_gtin(gtin, published_only=True)) == 1

    statements = prepared_statements()
    assert statements.count(versions_statement(keys)) == 1
    assert sum('"products_product"."gtin" = $' in s for s in statements) == 1


@on_postgresql
def test_nothing_is_prepared_with_prepared_statements_off(settings):
    settings.DATABASE_PREPARED_STATEMENTS = False
    keys = [f"unprepared-test-{n}" for n in range(9)]

    assert read_versions(keys, using="default") == []

    assert versions_statement(keys) not in prepared_statements()


@on_postgresql
def test_list_rows_by_id_are_prepared_once_and_read_alike_unprepared(settings):
    """The list's second step (products.api.list_statement) keeps one prepared statement for
    any page; with prepared statements off (a pooler) it reads the same rows."""
    filterset = ProductFilter(QueryDict("dosage_form=capsule&ordering=price"), published_products())
    assert filterset.is_valid(), filterset.errors

    def page(start):
        return catalogue_page_rows(filterset, published_products(), CATALOGUE_PAGE)[
            start : start + 5
        ]

    prepared = [page(start) for start in (0, 5, 0)]
    settings.DATABASE_PREPARED_STATEMENTS = False
    unprepared = page(0)

    assert sum("= ANY($" in statement for statement in prepared_statements()) == 1
    assert prepared[0] == prepared[2] == unprepared
    assert len(unprepared) == 5
    assert not {row["gtin"] for row in prepared[0]} & {row["gtin"] for row in prepared[1]}
