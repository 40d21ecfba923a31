"""The edge-cache headers, the purge on commit, and reads with the cache down.

Purges go to a real HTTP server in a thread, which records what it was sent.
"""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import transaction

from compounds.models import CompoundForm
from formulary.common.catalogue_version import catalogue_version_bump
from products.enums import ProductStatus
from products.models import Product
from tests.live import free_port
from tests.test_write_api import api_client

pytestmark = pytest.mark.django_db

API = "/api/v1"
REDIS_DOWN = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        # Nothing listens on port 1: every call fails at once, as with a Redis that is down.
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {
            "IGNORE_EXCEPTIONS": True,
            "SOCKET_CONNECT_TIMEOUT": 0.25,
            "SOCKET_TIMEOUT": 0.25,
        },
    }
}


def published(index=0) -> Product:
    return Product.objects.filter(status=ProductStatus.PUBLISHED).order_by("gtin")[index]


class PurgeRecorder(BaseHTTPRequestHandler):
    received: list[tuple[str, str]] = []

    def do_PURGE(self):
        self.received.append((self.client_address[0], self.headers["xkey"]))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def edge(settings):
    """A stand-in for Varnish's purge endpoint; VARNISH_PURGE_URL points at it."""
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), PurgeRecorder)
    PurgeRecorder.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.VARNISH_PURGE_URL = f"http://127.0.0.1:{server.server_port}/"
    yield PurgeRecorder.received
    server.shutdown()
    server.server_close()
    thread.join()


def tags(response) -> set[str]:
    return set(response.headers["xkey"].split())


def test_anonymous_reads_are_public_and_tagged_with_what_they_show(client):
    gtin = published().gtin

    detail = client.get(f"{API}/products/{gtin}/")
    listing = client.get(f"{API}/products/")
    match = client.get(f"{API}/products/match/?indication=sleep")
    compounds = client.get(f"{API}/compounds/")

    assert detail.headers["Cache-Control"] == "public, max-age=0, must-revalidate"
    assert tags(detail) == {"catalogue", "knowledge", "product-details", f"product-{gtin}"}
    assert tags(listing) == tags(match) == {"catalogue", "knowledge", "products"}
    # compounds/ counts published products per compound, not their names or prices.
    assert tags(compounds) == {"catalogue", "knowledge", "product-terms"}
    assert detail.headers["Surrogate-Key"] == detail.headers["xkey"]
    assert "Surrogate-Control" not in detail.headers, "nothing kept at an edge nobody purges"


def test_anonymous_reads_tell_the_edge_how_long_when_it_is_purged(client, edge, settings):
    settings.EDGE_CACHE_SECONDS, settings.EDGE_STALE_SECONDS = 300, 15

    first = client.get(f"{API}/compounds/")
    cached = client.get(f"{API}/compounds/")

    for response in (first, cached):
        assert response.headers["Surrogate-Control"] == "max-age=300, stale-while-revalidate=15"


def test_authenticated_reads_writes_and_errors_are_private_and_untagged(client, django_user_model):
    staff = api_client(django_user_model, "shop_staff")
    product = published()

    answers = [
        staff.get(f"{API}/products/{product.gtin}/"),
        staff.get(f"{API}/compounds/"),
        staff.patch(
            f"{API}/products/{product.gtin}/",
            '{"name": "Privé"}',
            content_type="application/json",
            HTTP_IF_MATCH=f'"{product.version}"',
        ),
        client.get(f"{API}/products/9999999999994/"),
        client.get(f"{API}/products/?dosage_form=cloud"),
    ]

    assert [r.status_code for r in answers] == [200, 200, 200, 404, 400]
    assert {r.headers["Cache-Control"] for r in answers} == {"private, no-store"}
    assert not any("xkey" in r.headers for r in answers)


def test_product_write_purges_its_tags_once_when_the_transaction_commits(
    edge, django_capture_on_commit_callbacks
):
    product = published()
    # The test's own transaction stands for the writing one; leaving the block commits it.
    with django_capture_on_commit_callbacks(execute=True):
        product.name = "Gezuiverd"
        product.save()
        product.ingredients.first().save()
        assert edge == [], "nothing is purged before the commit"

    assert len(edge) == 1
    address, purged = edge[0]
    assert address == "127.0.0.1"
    assert set(purged.split()) == {"products", f"product-{product.gtin}"}


def test_rolled_back_write_purges_nothing_and_a_later_one_still_purges(
    edge, django_capture_on_commit_callbacks
):
    product = published()
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            product.save()
            raise RuntimeError("rolled back")
        CompoundForm.objects.get(slug="magnesium-bisglycinate").save()

    assert [purged for _, purged in edge] == ["knowledge"]


def test_bare_bump_purges_every_answer(edge, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        catalogue_version_bump()

    assert [purged for _, purged in edge] == ["catalogue"]


def test_many_products_bump_every_detail_instead_of_one_tag_each(
    edge, django_capture_on_commit_callbacks
):
    ids = list(Product.objects.values_list("pk", flat=True))
    many = [*ids, *range(10**6, 10**6 + 201)]  # ids of products that do not exist count too

    with django_capture_on_commit_callbacks(execute=True):
        catalogue_version_bump(products=many)

    assert [purged for _, purged in edge] == ["product-details products"]


def test_reads_with_the_cache_down_answer_from_the_kept_knowledge(
    client, settings, django_assert_max_num_queries
):
    settings.CACHES = REDIS_DOWN
    url = f"{API}/products/?page_size=20"
    client.get(url)  # builds the knowledge kept in this process

    # The version, the page, its ingredient lines, its nutrient lines: no knowledge rebuilt.
    with django_assert_max_num_queries(4):
        assert client.get(url).status_code == 200


def test_write_with_the_cache_down_is_visible_in_the_next_read(client, settings):
    settings.CACHES = REDIS_DOWN
    product = published()
    url = f"{API}/products/{product.gtin}/"
    client.get(url)

    product.name = "Zonder cache"
    product.save()

    assert client.get(url).json()["name"] == "Zonder cache"
