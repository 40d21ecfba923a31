"""The response cache and the catalogue version: every write path makes the next read fresh.

A cached answer costs one query: the version, read from the database so that it changes with
the transaction that changed the data (formulary.common.catalogue_version)."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import call_command

from compounds.models import CompoundForm
from formulary.common.catalogue_version import (
    CATALOGUE,
    catalogue_version,
    catalogue_version_bump,
)
from formulary.common.read_cache import (
    BYPASS_HEADER,
    LOCAL_ANSWERS,
    MAX_LOCAL_ANSWER_BYTES,
    answer_store,
    answer_stored_under,
)
from products.enums import ProductStatus
from products.models import Product
from products.services import IngredientInput, product_upsert
from tests.test_admin import form_data

pytestmark = pytest.mark.django_db

API = "/api/v1"
PRODUCTS = "/admin/products/product/"


def listed_gtins(client, query=""):
    return {
        row["gtin"]
        for row in client.get(f"{API}/products/?page_size=100&{query}").json()["results"]
    }


def published_product():
    return Product.objects.filter(status=ProductStatus.PUBLISHED).order_by("gtin").first()


def test_read_cache_second_identical_read_runs_only_the_version_query(
    client, django_assert_num_queries
):
    first = client.get(f"{API}/products/?dosage_form=capsule")

    with django_assert_num_queries(1):
        second = client.get(f"{API}/products/?dosage_form=capsule")

    assert second.content == first.content
    assert second.headers["ETag"] == first.headers["ETag"]
    assert second.headers["Content-Type"] == "application/json"


def test_read_cache_answers_from_this_processs_copy_when_the_shared_cache_lost_it(
    client, django_assert_num_queries
):
    url = f"{API}/products/?dosage_form=capsule"
    first = client.get(url)
    cache.clear()  # evicted from the shared cache, or Redis restarted

    with django_assert_num_queries(1):  # the version
        again = client.get(url)

    assert (again["X-App-Cache"], again.content) == ("hit", first.content)


def test_read_cache_takes_the_shared_answer_of_the_current_version_over_an_older_copy():
    LOCAL_ANSWERS.set("read:test", ((1,), b"rendered under version 1", {}), 60)
    cache.set("read:test", ((2,), b"rendered by another process under 2", {}), 60)

    assert answer_stored_under("read:test", (2,))[1] == b"rendered by another process under 2"
    assert LOCAL_ANSWERS.get("read:test")[0] == (2,), "kept in this process from then on"
    assert answer_stored_under("read:test", (3,)) is None


def test_read_cache_keeps_a_large_answer_in_the_shared_cache_only():
    large = ((1,), b"x" * (MAX_LOCAL_ANSWER_BYTES + 1), {})
    answer_store("read:large", large, 60)

    assert LOCAL_ANSWERS.get("read:large") is None
    assert answer_stored_under("read:large", (1,)) == large
    assert LOCAL_ANSWERS.get("read:large") is None, "not kept here when read either"


def test_read_cache_keys_differ_per_language(client, django_assert_num_queries):
    url = f"{API}/indications/sleep/"
    dutch = client.get(url).json()["name"]
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").json()["name"]

    with django_assert_num_queries(2):  # the version, once per request
        assert client.get(url, HTTP_ACCEPT_LANGUAGE="en").json()["name"] == english
        assert client.get(url).json()["name"] == dutch
    assert (dutch, english) == ("Slaapkwaliteit", "Sleep quality")


def test_read_cache_etag_differs_per_language(client):
    url = f"{API}/products/"

    assert client.get(url).headers["ETag"] != client.get(f"{url}?lang=en").headers["ETag"]


def test_conditional_get_with_the_version_etag_answers_304_after_the_version_query(
    client, django_assert_num_queries
):
    url = f"{API}/products/?indication=sleep&ordering=-elemental_mg_per_day"
    etag = client.get(url).headers["ETag"]

    with django_assert_num_queries(1):
        response = client.get(url, HTTP_IF_NONE_MATCH=etag)

    assert (response.status_code, response.headers["ETag"], response.content) == (304, etag, b"")


def test_conditional_get_with_an_earlier_etag_answers_in_full_from_the_cache(
    client, django_assert_num_queries
):
    url = f"{API}/products/?indication=sleep"
    first = client.get(url)

    with django_assert_num_queries(1):
        response = client.get(url, HTTP_IF_NONE_MATCH='"catalogue-1-nl"')

    assert (response.status_code, response.content) == (200, first.content)
    assert response.headers["ETag"] == first.headers["ETag"]


def test_read_cache_entry_of_an_earlier_version_is_rendered_over(client):
    url = f"{API}/products/?dosage_form=capsule"
    client.get(url)
    product = Product.objects.filter(status=ProductStatus.PUBLISHED, dosage_form="capsule").first()
    Product.objects.filter(pk=product.pk).update(name="Renamed in bulk")
    catalogue_version_bump()

    names = {row["name"] for row in client.get(url).json()["results"]}

    assert "Renamed in bulk" in names


def test_conditional_get_after_a_write_renders_again(client):
    url = f"{API}/products/"
    etag = client.get(url).headers["ETag"]
    product = published_product()
    product.name = "Nieuwe naam"
    product.save()

    response = client.get(url, HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 200
    assert response.headers["ETag"] != etag


def test_service_write_is_visible_in_the_next_read(client):
    product = published_product()
    url = f"{API}/products/{product.gtin}/"
    before = client.get(url).json()
    line = product.ingredients.select_related("compound").first()

    product_upsert(
        gtin=product.gtin,
        fields={"name": "Magnesium Vernieuwd"},
        ingredients=[
            IngredientInput(
                compound=line.compound, amount_mg=Decimal("123"), amount_basis="elemental"
            )
        ],
        nutrients=[],
    )

    after = client.get(url).json()
    assert (before["name"], after["name"]) == (product.name, "Magnesium Vernieuwd")
    assert [row["amount_mg"] for row in after["ingredients"]] == [123.0]
    assert after["nutrients"] == []


def test_admin_bulk_publish_is_visible_in_the_next_list(client, admin_client):
    draft = Product.objects.filter(status=ProductStatus.DRAFT).order_by("gtin").first()
    assert draft.gtin not in listed_gtins(client)

    admin_client.post(PRODUCTS, {"action": "publish", "_selected_action": [draft.pk]})

    assert draft.gtin in listed_gtins(client)


def test_admin_change_form_is_visible_in_the_next_read(client, admin_client):
    product = published_product()
    url = f"{API}/products/{product.gtin}/"
    client.get(url)
    data = form_data(admin_client.get(f"{PRODUCTS}{product.pk}/change/"))
    data["name"] = "Via de beheerder"
    assert admin_client.post(f"{PRODUCTS}{product.pk}/change/", data).status_code == 302

    assert client.get(url).json()["name"] == "Via de beheerder"


def test_knowledge_base_write_is_visible_in_product_reads(client):
    product = published_product()
    url = f"{API}/products/{product.gtin}/?lang=en"
    compound = CompoundForm.objects.get(
        slug=client.get(url).json()["ingredients"][0]["compound"]["slug"]
    )

    compound.name_en = "Renamed compound"
    compound.save()

    assert client.get(url).json()["ingredients"][0]["compound"]["name"] == "Renamed compound"


def test_generated_catalogue_is_visible_in_the_next_read(client):
    before = listed_gtins(client, "search=29")

    call_command("generate_catalog", products=20, seed=3, brands=2, stdout=StringIO())

    assert not before
    assert listed_gtins(client, "search=29")


def test_catalogue_version_bump_raises_the_version_inside_the_writing_transaction():
    product = published_product()
    before = catalogue_version()

    product.save()
    after_one = catalogue_version()
    product.save()

    assert before < after_one < catalogue_version()


def test_catalogue_version_bump_without_arguments_makes_every_answer_stale():
    keys = [(CATALOGUE,), ("knowledge",), ("products",), ("product-2073300015485",)]
    before = [catalogue_version(key) for key in keys]

    catalogue_version_bump()

    after = [catalogue_version(key) for key in keys]
    assert after[0] > before[0]
    assert after[1:] == before[1:], "the epoch alone is raised; every answer includes it"


def test_cache_bypass_header_renders_afresh_only_with_the_configured_token(
    client, settings, django_assert_num_queries
):
    settings.API_CACHE_BYPASS_TOKEN = "bench-secret"
    url = f"{API}/compounds/?page_size=5"
    header = f"HTTP_{BYPASS_HEADER.upper().replace('-', '_')}"
    client.get(url)

    with django_assert_num_queries(1):  # the version
        client.get(url, **{header: "guess"})
    with django_assert_num_queries(2):  # the kept profiles' version, and the compound ids
        response = client.get(url, **{header: "bench-secret"})
    assert response.status_code == 200
