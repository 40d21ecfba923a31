"""The full feed and the change feed: feed + changes reproduce the catalogue, nothing skipped."""

import gzip
import json
import threading
import time
from decimal import Decimal

import pytest
from django.db import OperationalError, connection, connections
from django.db.models import F
from django.test import Client

from compounds.models import CompoundForm, CompoundIndication
from formulary.common.catalogue_version import catalogue_version_bump
from formulary.models import Indication, Nutrient
from products.enums import ProductStatus
from products.gtin import gs1_check_digit
from products.models import Brand, CatalogueChange, Product
from products.services import (
    IngredientInput,
    NutrientInput,
    product_delete,
    product_upsert,
    products_refresh_for_compound,
)
from tests.test_api import all_results, close_unread, error

API = "/api/v1"


def new_gtin(serial: int) -> str:
    data = f"20997{serial:07d}"
    return f"{data}{gs1_check_digit(data)}"


def upsert(gtin, *, status=ProductStatus.PUBLISHED, name="Feedproduct", amount=300):
    product, _ = product_upsert(
        gtin=gtin,
        fields={
            "brand": Brand.objects.get(slug="noctura"),
            "name": name,
            "dosage_form": "tablet",
            "units_per_package": 30,
            "units_per_serving": Decimal(1),
            "servings_per_day": Decimal(2),
            "status": status,
        },
        ingredients=[
            IngredientInput(
                CompoundForm.objects.get(slug="magnesium-citrate-tri-anhydrous"),
                Decimal(amount),
                "compound",
            )
        ],
        nutrients=[NutrientInput(Nutrient.objects.get(slug="vitamin-b6"), Decimal(2))],
    )
    return product


def read_feed(client, **headers):
    response = client.get(f"{API}/feed/", **headers)
    assert response.status_code == 200, response.content
    body = b"".join(response.streaming_content)
    if response.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    first, *rest = body.decode().splitlines()
    cursor = json.loads(first)["cursor"]
    assert response["X-Changes-Cursor"] == cursor
    return cursor, {row["gtin"]: row for row in map(json.loads, rest)}


def follow_changes(client, cursor, copy, page_size=3):
    """Applies every change after ``cursor`` to ``copy``; returns the last cursor."""
    while True:
        page = client.get(f"{API}/changes/?after={cursor}&page_size={page_size}").json()
        for change in page["results"]:
            if change["change"] == "upsert":
                copy[change["gtin"]] = change["product"]
            else:
                copy.pop(change["gtin"], None)
        cursor = page["cursor"]
        if not page["has_more"]:
            return cursor


def catalogue(client):
    """What a shop's copy must equal: every published product as its detail shows it (the
    list's row with the health claims it may carry)."""
    gtins = [row["gtin"] for row in all_results(client, f"{API}/products/?fields=gtin")]
    return {gtin: client.get(f"{API}/products/{gtin}/").json() for gtin in gtins}


def eventually(check, seconds=60):
    """Polls ``check`` until true. On PostgreSQL a committed change is handed out once every
    older transaction of the server has ended, and the test server is shared: another
    connection's open transaction delays a change (it never skips it)."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def synced(client, cursor, copy):
    """Follows the changes into ``copy`` until it equals the catalogue; the last cursor."""
    expected = catalogue(client)
    position = [cursor]

    def caught_up():
        position[0] = follow_changes(client, position[0], copy)
        return copy == expected

    eventually(caught_up)
    return position[0]


# On PostgreSQL the tests that follow their own writes commit them (see committed_knowledge).
COMMITTED_WRITES = pytest.mark.django_db(transaction=connection.vendor == "postgresql")


@pytest.fixture
def committed_knowledge():
    """The knowledge base and demo catalogue, for tests that commit their writes.

    The change feed hands out a change once its transaction has ended, so on PostgreSQL a
    test that writes and then follows the changes runs transactional (COMMITTED_WRITES):
    inside the test's own transaction its writes would stay unseen, as they must. The flush
    after a transactional test empties every table: conftest runs these tests after the
    others, and this fixture loads the data again when it is gone. SQLite orders by row id
    alone, so there the test's own transaction serves.
    """
    from compounds.knowledge_base import load_knowledge_base
    from products.demo import load_demo_products
    from tests.conftest import quiet

    if not Product.objects.exists():
        load_knowledge_base(report=quiet)
        load_demo_products(report=quiet)


@pytest.mark.django_db
def test_feed_holds_every_published_product_as_the_list_shows_it(client):
    cursor, feed = read_feed(client)

    assert feed == catalogue(client)
    assert list(feed) == sorted(feed)
    assert len(feed) == Product.objects.filter(status=ProductStatus.PUBLISHED).count()
    assert "-" in cursor


@pytest.mark.django_db
def test_feed_gzip_when_accepted_gives_the_same_lines(client):
    plain = read_feed(client)

    response = client.get(f"{API}/feed/", HTTP_ACCEPT_ENCODING="gzip")

    assert response["Content-Encoding"] == "gzip"
    assert response["Content-Type"] == "application/x-ndjson"
    close_unread(response)
    assert read_feed(client, HTTP_ACCEPT_ENCODING="gzip") == plain


@pytest.mark.django_db
@pytest.mark.parametrize("encoding", ["identity", "gzip"])
def test_feed_closed_unread_ends_its_snapshot_at_once(client, encoding):
    """A client that leaves before the body: the server closes the response, and the
    snapshot's transaction, open since the view read the cursor, ends then. A response left
    unread and unclosed lives in the test client's reference cycles until the garbage
    collector finds it, inside a later test's transaction, which its ending then broke
    (``test_load_knowledge_base_twice_keeps_one_row_per_claim`` failed now and then)."""
    depth = len(connection.savepoint_ids)

    response = client.get(f"{API}/feed/", HTTP_ACCEPT_ENCODING=encoding)
    assert response.status_code == 200
    assert len(connection.savepoint_ids) == depth + 1  # the snapshot, open for the body

    close_unread(response)

    assert len(connection.savepoint_ids) == depth
    assert not connection.needs_rollback


@pytest.mark.django_db
def test_feed_query_count_does_not_grow_with_the_catalogue(client, django_assert_max_num_queries):
    # Savepoint, cursor, then per chunk of 500 the products with their lines, the empty chunk
    # that ends it, release (the test runs in a transaction of its own). The
    # demo catalogue fits one chunk; the knowledge base is read once per version, before.
    read_feed(client)
    with django_assert_max_num_queries(6):
        read_feed(client)


@COMMITTED_WRITES
def test_changes_after_every_kind_of_write_reproduce_the_catalogue(committed_knowledge, client):
    cursor, copy = read_feed(client)
    created = upsert(new_gtin(1))
    edited = upsert(new_gtin(2))
    unpublished = upsert(new_gtin(3))
    discontinued = upsert(new_gtin(4))
    deleted = upsert(new_gtin(5))
    cursor = synced(client, cursor, copy)

    upsert(edited.gtin, name="Renamed", amount=450)
    upsert(unpublished.gtin, status=ProductStatus.DRAFT)
    # A bulk action bypasses save() and the signals: the trigger still logs it.
    Product.objects.filter(pk=discontinued.pk).update(status=ProductStatus.DISCONTINUED)
    upsert(deleted.gtin, status=ProductStatus.DRAFT)
    product_delete(product=Product.objects.get(pk=deleted.pk))
    # Raw SQL on a line of a published product.
    with connection.cursor() as sql:
        sql.execute(
            "UPDATE products_ingredientline SET amount_mg = 500 WHERE product_id = %s",
            [created.pk],
        )
    # Raw SQL sends no signals: the writer bumps what it wrote, as the README asks.
    catalogue_version_bump(products=[created.pk])
    synced(client, cursor, copy)

    assert copy == catalogue(client)
    assert copy[edited.gtin]["name"] == "Renamed"
    assert copy[created.gtin]["ingredients"][0]["amount_mg"] == 500
    assert {unpublished.gtin, discontinued.gtin, deleted.gtin}.isdisjoint(copy)


@COMMITTED_WRITES
def test_changes_after_knowledge_base_edits_upsert_the_affected_products(
    committed_knowledge, client
):
    cursor, copy = read_feed(client)
    compound = CompoundForm.objects.get(slug="magnesium-oxide")
    indication = Indication.objects.get(slug="sleep")
    containing = set(
        Product.objects.filter(
            status=ProductStatus.PUBLISHED, ingredients__compound=compound
        ).values_list("gtin", flat=True)
    )

    compound.name_en = "Magnesium oxide (renamed)"
    compound.save()
    indication.name_en = "Sleep (renamed)"
    indication.save()
    CompoundIndication.objects.filter(compound__slug="magnesium-bisglycinate").update(grade="A")
    upserted = set()

    def all_upserted():
        page = client.get(f"{API}/changes/?after={cursor}&page_size=1000").json()
        upserted.update(change["gtin"] for change in page["results"])
        return containing <= upserted

    assert eventually(all_upserted)
    assert containing
    synced(client, cursor, copy)
    assert copy == catalogue(client)


@pytest.mark.django_db
def test_changes_without_writes_answer_empty_with_the_same_cursor(client):
    cursor, _ = read_feed(client)

    body = client.get(f"{API}/changes/?after={cursor}").json()

    assert body == {"results": [], "cursor": cursor, "has_more": False}


@COMMITTED_WRITES
def test_changes_entries_of_one_gtin_come_once_with_its_latest_state(committed_knowledge, client):
    cursor, _ = read_feed(client)
    product = upsert(new_gtin(7))
    for amount in (310, 320, 330):
        upsert(product.gtin, amount=amount)

    def changes():
        body = client.get(f"{API}/changes/?after={cursor}&page_size=1000").json()
        return [change for change in body["results"] if change["gtin"] == product.gtin]

    # On PostgreSQL the feed's cursor may also repeat earlier changes that the feed already
    # holds (the oldest transaction still running on the server sets it): harmless, and
    # left out here.
    assert eventually(changes)
    found = changes()

    assert len(found) == 1
    assert found[0]["product"]["ingredients"][0]["amount_mg"] == 330


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query, field, code",
    [
        ("", "after", "required"),
        ("?after=abc", "after", "invalid_cursor"),
        ("?after=1-99999999999999999999", "after", "invalid_cursor"),
        ("?after=0-0&page_size=0", "page_size", "min_value"),
        ("?after=0-0&page_size=1001", "page_size", "max_value"),
        ("?after=0-0&since=1", "since", "unknown_parameter"),
    ],
)
def test_changes_bad_parameters_are_a_400_in_the_envelope(client, query, field, code):
    response = client.get(f"{API}/changes/{query}")

    assert response.status_code == 400
    body = response.json()
    assert body["error"]["code"] == "invalid_parameter"
    assert [(d["field"], d["code"]) for d in body["error"]["details"]] == [(field, code)]


@pytest.mark.django_db
def test_feed_refuses_unknown_parameters(client):
    response = client.get(f"{API}/feed/?page=2")

    assert response.json() == error(
        400,
        "invalid_parameter",
        "Invalid parameter: page.",
        [{"field": "page", "code": "unknown_parameter", "message": "Unknown parameter."}],
    )


@pytest.mark.django_db
def test_change_log_product_rows_of_drafts_are_left_out():
    """Only the product's own row is filtered on status: its row lock orders its writers.
    Its lines are logged whatever the status, so a concurrent publish cannot hide them."""
    before = CatalogueChange.objects.count()

    Product.objects.filter(status=ProductStatus.DRAFT).update(name="Still a draft")
    drafts_changed = CatalogueChange.objects.count()
    upsert(new_gtin(8), status=ProductStatus.DRAFT)

    assert drafts_changed == before
    # Its ingredient line and its nutrient line, not its own row.
    assert CatalogueChange.objects.count() - before == 2


# --- concurrent writers ------------------------------------------------------------------


def delete_by_gtin(gtin):
    product_delete(product=Product.objects.get(gtin=gtin))


def retried(write, *args, attempts=5, **kwargs):
    """A write that PostgreSQL aborted as a deadlock victim is retried, as a client would:
    the aborted transaction wrote nothing."""
    for attempt in range(attempts):
        try:
            return write(*args, **kwargs)
        except OperationalError as error:
            if "deadlock" not in str(error) or attempt == attempts - 1:
                raise


def in_own_connection(work):
    """Runs ``work`` in a thread, which Django gives a connection of its own."""
    errors = []

    def run():
        try:
            work()
        except Exception as error:  # reported by the test below
            errors.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite runs one writer at a time; the sequential sync tests cover it.",
)
@pytest.mark.django_db(transaction=True)
def test_sync_under_concurrent_writers_misses_nothing(committed_knowledge):
    """Writers in their own connections create, edit, unpublish, delete and change a compound
    while a reader takes the feed and follows the changes; transactions commit out of order
    (a slow one writes first and commits last). The copy ends equal to the catalogue.

    The slow writer updates a row with SQL and bumps the versions only before it commits, as
    the catalogue version's interface asks of writes that send no signals: a write through
    the services holds the products' version row from its first save to its commit, so the
    others would queue behind it. Its change is logged first and committed last.

    PostgreSQL only: SQLite has one writer at a time, so its commits cannot overtake."""
    client = Client()
    cursor, copy = read_feed(client)
    slow_gtin = (
        Product.objects.filter(status=ProductStatus.PUBLISHED)
        .order_by("gtin")
        .values_list("gtin", flat=True)
        .first()
    )
    slow_started, slow_may_commit = threading.Event(), threading.Event()

    def slow_writer():
        from django.db import transaction

        with transaction.atomic():
            Product.objects.filter(gtin=slow_gtin).update(name="Slow", version=F("version") + 1)
            slow_started.set()
            # Reported below: timing out would mean the others waited for this transaction.
            assert slow_may_commit.wait(timeout=30), "the slow writer was not overtaken"
            catalogue_version_bump(gtins=[slow_gtin])

    def writer(offset):
        def work():
            for serial in range(offset, offset + 8):
                gtin = new_gtin(serial)
                retried(upsert, gtin)
                retried(upsert, gtin, name=f"Edited {serial}")
                if serial % 3 == 0:
                    retried(upsert, gtin, status=ProductStatus.DRAFT)
                if serial % 4 == 0:
                    retried(upsert, gtin, status=ProductStatus.DRAFT)
                    retried(delete_by_gtin, gtin)

        return work

    def compound_writer():
        compound = CompoundForm.objects.get(slug="magnesium-citrate-tri-anhydrous")
        compound.name_en = "Trimagnesium dicitrate (edited)"
        retried(compound.save)
        retried(products_refresh_for_compound, compound)

    slow, slow_errors = in_own_connection(slow_writer)
    assert slow_started.wait(timeout=30)
    threads = [in_own_connection(writer(offset)) for offset in (200, 300)]
    threads.append(in_own_connection(compound_writer))
    for thread, _ in threads:
        thread.join(timeout=60)
    # The fast writers have committed; the slow one, which wrote first, has not.
    cursor = follow_changes(client, cursor, copy)
    assert copy[slow_gtin]["name"] != "Slow"
    slow_may_commit.set()
    slow.join(timeout=60)
    synced(client, cursor, copy)

    assert [error for _, errors in [*threads, (slow, slow_errors)] for error in errors] == []
    assert copy == catalogue(client)
    assert copy[slow_gtin]["name"] == "Slow"
    assert CatalogueChange.objects.exists()


@pytest.mark.django_db
def test_changes_bad_cursor_message_is_dutch_by_default(client):
    body = client.get(f"{API}/changes/?after=abc").json()

    assert body["error"]["details"][0]["message"] == (
        "Geef een cursor uit de feed of uit een eerdere pagina met wijzigingen."
    )
