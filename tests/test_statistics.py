"""Bulk writes leave their tables analysed: the planner's row counts follow the generator and
large imports, on SQLite and PostgreSQL alike."""

import io

import pytest
from django.core.management import call_command
from django.db import connection

from compounds.knowledge_base import load_knowledge_base
from compounds.models import CompoundForm
from formulary.common.statistics import ANALYZE_AFTER_ROWS
from products.gtin import gs1_check_digit
from products.models import Product, ProductIndication
from products.spreadsheet.importing import import_products
from tests.conftest import quiet
from tests.test_import_export import row, write

pytestmark = pytest.mark.django_db


def planner_rows(table: str) -> int | None:
    """The row count the planner believes ``table`` has, from the last ANALYZE."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [table])
            found = cursor.fetchone()
            return None if found is None or found[0] < 0 else int(found[0])
        # sqlite_stat1 holds "rows ..." per index of the table (or the table alone).
        cursor.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
        if cursor.fetchone() is None:
            return None
        cursor.execute("SELECT stat FROM sqlite_stat1 WHERE tbl = %s", [table])
        found = cursor.fetchone()
        return None if found is None else int(found[0].split()[0])


def gtin(serial: int) -> str:
    data = f"20997{serial:07d}"
    return f"{data}{gs1_check_digit(data)}"


def test_generate_catalog_leaves_its_tables_analysed():
    call_command("generate_catalog", products=1200, seed=3, brands=4, stdout=io.StringIO())

    assert planner_rows("products_product") == Product.objects.count()
    assert planner_rows("products_productindication") == ProductIndication.objects.count()


def all_visible_pages(table: str) -> tuple[int, int]:
    """(pages, pages marked all-visible) of ``table``, as its last VACUUM or ANALYZE left them."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT relpages, relallvisible FROM pg_class WHERE relname = %s", [table])
        return cursor.fetchone()


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite's VACUUM rewrites the file and marks nothing."
)
@pytest.mark.django_db(transaction=True)
def test_generate_catalog_outside_a_transaction_leaves_its_tables_vacuumed():
    # Transactional tests run last, after flushes that empty every table.
    if not CompoundForm.objects.exists():
        load_knowledge_base(report=quiet)

    call_command("generate_catalog", products=1200, seed=3, brands=4, stdout=io.StringIO())

    for table in ("products_product", "products_productindication", "products_ingredientline"):
        pages, visible = all_visible_pages(table)
        # Freshly inserted pages are all-visible only once a VACUUM has marked them.
        assert pages > 0
        assert visible == pages, table
    assert planner_rows("products_product") == Product.objects.count()


def test_import_of_many_products_analyses_its_tables_at_commit(
    tmp_path, django_capture_on_commit_callbacks
):
    path = write(tmp_path, [row(gtin(serial)) for serial in range(ANALYZE_AFTER_ROWS)])

    with django_capture_on_commit_callbacks(execute=True):
        report = import_products(path)

    assert report.written
    assert planner_rows("products_product") == Product.objects.count()


def test_import_of_a_few_products_leaves_the_statistics_to_autovacuum(
    tmp_path, django_capture_on_commit_callbacks
):
    before = planner_rows("products_product")
    path = write(tmp_path, [row(gtin(serial)) for serial in range(3)])

    # An ANALYZE, were one asked for, would run at commit: the callbacks are executed here.
    with django_capture_on_commit_callbacks(execute=True):
        report = import_products(path)

    assert report.written
    assert planner_rows("products_product") == before
