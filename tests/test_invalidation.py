"""Invalidation per entity: every write door makes every kind of answer that may show the
write fresh, and a product write leaves the answers that cannot show it cached.

"Fresh" is checked against the server itself: the cached answer must equal the answer
rendered afresh (``X-Cache-Bypass``), for every kind of answer, after every door.
"""

import json
from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from knox.models import AuthToken

from compounds.models import CompoundForm
from formulary.common.read_cache import BYPASS_HEADER
from products.enums import ProductStatus
from products.models import Product
from tests.test_admin import form_data

pytestmark = pytest.mark.django_db

API = "/api/v1"
ADMIN = "/admin/products/product/"
BYPASS = f"HTTP_{BYPASS_HEADER.upper().replace('-', '_')}"
BYPASS_TOKEN = "invalidation-test"


def published(index=0) -> Product:
    return Product.objects.filter(status=ProductStatus.PUBLISHED).order_by("gtin")[index]


def answers() -> list[str]:
    """One URL of every kind of answer, in both languages where texts differ."""
    written, unrelated = published(0), published(1)
    return [
        f"{API}/products/{written.gtin}/",
        f"{API}/products/{unrelated.gtin}/?lang=en",
        f"{API}/products/?page_size=100",
        f"{API}/products/?search=29&page_size=100",
        f"{API}/products/match/?indication=sleep&page_size=100",
        f"{API}/compounds/?page_size=100&lang=en",
        f"{API}/compounds/magnesium-bisglycinate/?lang=en",
        f"{API}/indications/",
        f"{API}/indications/sleep/?lang=en",
        f"{API}/medications/levothyroxine/",
    ]


def cached_and_fresh(client, url) -> tuple[bytes, bytes]:
    cached = client.get(url)
    fresh = client.get(url, **{BYPASS: BYPASS_TOKEN})
    # A withdrawn product's detail is a 404, cached or not.
    assert cached.status_code == fresh.status_code, url
    return cached.content, fresh.content


def through_admin_form(client, admin_client):
    product = published(0)
    data = form_data(admin_client.get(f"{ADMIN}{product.pk}/change/"))
    data["name"] = "Via het formulier"
    assert admin_client.post(f"{ADMIN}{product.pk}/change/", data).status_code == 302
    return f"{API}/products/{product.gtin}/"


def through_admin_bulk_action(client, admin_client):
    draft = Product.objects.filter(status=ProductStatus.DRAFT).order_by("gtin").first()
    admin_client.post(ADMIN, {"action": "publish", "_selected_action": [draft.pk]})
    return f"{API}/products/?page_size=100"


def through_admin_compound_change(client, admin_client):
    """The form's first line gets another compound: the compound counts change."""
    product = published(0)
    data = form_data(admin_client.get(f"{ADMIN}{product.pk}/change/"))
    taken = set(product.ingredients.values_list("compound__slug", flat=True))
    other = CompoundForm.objects.exclude(slug__in=taken).order_by("slug").first()
    data["ingredients-0-compound"] = str(other.pk)
    assert admin_client.post(f"{ADMIN}{product.pk}/change/", data).status_code == 302
    return f"{API}/compounds/?page_size=100&lang=en"


def shop_token(django_user_model) -> str:
    user = django_user_model.objects.create_user(username="winkel", password="x")
    user.groups.add(Group.objects.get(name="Shop staff"))
    return AuthToken.objects.create(user)[1]


def api_patch(client, django_user_model, changes: dict) -> Product:
    product = published(0)
    response = client.patch(
        f"{API}/products/{product.gtin}/",
        json.dumps(changes),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {shop_token(django_user_model)}",
        HTTP_IF_MATCH=f'"{product.version}"',
    )
    assert response.status_code == 200, response.content
    return product


def through_api_write(client, admin_client, django_user_model):
    product = api_patch(client, django_user_model, {"name": "Via de API"})
    return f"{API}/products/{product.gtin}/"


def through_api_compound_change(client, admin_client, django_user_model):
    lines = [{"compound": "magnesium-malate", "amount_mg": 900, "amount_basis": "compound"}]
    api_patch(client, django_user_model, {"ingredients": lines})
    return f"{API}/compounds/?page_size=100&lang=en"


def through_api_withdrawal(client, admin_client, django_user_model):
    api_patch(client, django_user_model, {"status": ProductStatus.DISCONTINUED})
    return f"{API}/compounds/?page_size=100&lang=en"


def through_import(client, admin_client, tmp_path):
    product = published(0)
    line = product.ingredients.select_related("compound").first()
    sheet = tmp_path / "changed.csv"
    sheet.write_text(
        "gtin,brand,name,dosage_form,units_per_serving,servings_per_day,status,"
        "compound,amount_mg,amount_basis\n"
        f"{product.gtin},{product.brand.name},Via de import,{product.dosage_form},"
        f"{product.units_per_serving},{product.servings_per_day},published,"
        f"{line.compound.slug},{line.amount_mg + 1},{line.amount_basis}\n"
    )
    call_command("import_products", str(sheet), stdout=StringIO(), stderr=StringIO())
    return f"{API}/products/{product.gtin}/"


def through_generator(client, admin_client):
    call_command("generate_catalog", products=20, seed=3, brands=2, stdout=StringIO())
    return f"{API}/products/?search=29&page_size=100"


def through_compound_change(client, admin_client):
    compound = CompoundForm.objects.get(slug="magnesium-bisglycinate")
    compound.name_en = "Renamed bisglycinate"
    compound.save()
    return f"{API}/compounds/magnesium-bisglycinate/?lang=en"


def through_knowledge_base_reload(client, admin_client):
    # A change made behind the loader's back (no signals), which the reload must undo.
    CompoundForm.objects.filter(slug="magnesium-bisglycinate").update(name_en="Drifted")
    call_command("load_knowledge_base", stdout=StringIO())
    return f"{API}/compounds/magnesium-bisglycinate/?lang=en"


DOORS = [
    through_admin_form,
    through_admin_compound_change,
    through_admin_bulk_action,
    through_api_write,
    through_api_compound_change,
    through_api_withdrawal,
    through_import,
    through_generator,
    through_compound_change,
    through_knowledge_base_reload,
]


@pytest.mark.parametrize("door", DOORS, ids=lambda door: door.__name__)
def test_write_through_any_door_leaves_every_answer_fresh(
    client, admin_client, settings, django_user_model, tmp_path, door
):
    settings.API_CACHE_BYPASS_TOKEN = BYPASS_TOKEN
    urls = answers()
    before = {url: client.get(url).content for url in urls}
    extra = {"django_user_model": django_user_model, "tmp_path": tmp_path}
    wanted = {
        name: value
        for name, value in extra.items()
        if name in door.__code__.co_varnames[: door.__code__.co_argcount]
    }

    changed_url = door(client, admin_client, **wanted)

    for url in urls:
        cached, fresh = cached_and_fresh(client, url)
        assert cached == fresh, f"{url} is stale after {door.__name__}"
    if door is not through_knowledge_base_reload:
        assert client.get(changed_url).content != before[changed_url], "the door wrote nothing"


def test_product_write_leaves_other_details_and_the_knowledge_answers_cached(
    client, admin_client, django_assert_num_queries
):
    unrelated = [
        f"{API}/products/{published(1).gtin}/",
        f"{API}/compounds/?page_size=100",
        f"{API}/compounds/magnesium-bisglycinate/",
        f"{API}/indications/sleep/",
    ]
    before = {url: client.get(url).content for url in unrelated}

    through_admin_form(client, admin_client)

    for url in unrelated:
        with django_assert_num_queries(1):  # the version; the answer comes from the cache
            assert client.get(url).content == before[url], url


def test_product_write_makes_its_detail_and_the_collections_render_again(
    client, admin_client, django_assert_max_num_queries
):
    written = [
        f"{API}/products/{published(0).gtin}/",
        f"{API}/products/?page_size=100",
        f"{API}/products/match/?indication=sleep&page_size=100",
    ]
    for url in written:
        client.get(url)

    through_admin_form(client, admin_client)

    detail = client.get(written[0]).json()
    assert detail["name"] == "Via het formulier"
    assert "Via het formulier" in {row["name"] for row in client.get(written[1]).json()["results"]}


def test_knowledge_write_makes_product_answers_render_again(client):
    product = published(0)
    url = f"{API}/products/{product.gtin}/?lang=en"
    slug = client.get(url).json()["ingredients"][0]["compound"]["slug"]
    compound = CompoundForm.objects.get(slug=slug)

    compound.name_en = "Renamed for the products"
    compound.save()

    assert client.get(url).json()["ingredients"][0]["compound"]["name"] == compound.name_en


def test_gtin_change_in_the_admin_leaves_no_detail_under_the_old_gtin(client, admin_client):
    product = published(0)
    old_url = f"{API}/products/{product.gtin}/"
    assert client.get(old_url).status_code == 200
    data = form_data(admin_client.get(f"{ADMIN}{product.pk}/change/"))
    data["gtin"] = "2099800000028"

    assert admin_client.post(f"{ADMIN}{product.pk}/change/", data).status_code == 302
    assert client.get(old_url).status_code == 404
