"""The write API: roles and tokens, validation, optimistic concurrency, deleting; the token
command; and the version that the admin and the bulk actions keep."""

import json
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from knox.models import AuthToken

from compounds.models import CompoundForm
from formulary.models import Nutrient
from products.enums import ProductStatus
from products.gtin import gs1_check_digit
from products.models import Brand, Product
from products.selectors import product_dose, products_with_lines
from products.services import (
    IngredientInput,
    NutrientInput,
    StaleProductVersion,
    product_save,
    product_upsert,
)
from tests.test_admin import change_url, form_data

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/products/"
GROUP_OF_ROLE = {"pharmacist": "Pharmacist editors", "shop_staff": "Shop staff"}
FORBIDDEN = (403, "permission_denied", "You do not have permission to perform this action.")
REFUSED = {
    "anonymous": (401, "not_authenticated", "Authentication credentials were not provided."),
    "no_permission": FORBIDDEN,
    "pharmacist": FORBIDDEN,
}
WRITERS = ["shop_staff", "superuser"]
PUBLISHED_DEMO = "2073100011373"
# token with its user, the user's other tokens (knox drops expired ones), permissions (2),
# product with its ingredient and nutrient lines, the catalogue version of the knowledge
# base kept in memory
QUERIES_FOR_STAFF_DETAIL = 6


def error(status, code, message, details=()):
    return {"error": {"status": status, "code": code, "message": message, "details": list(details)}}


def detail(field, code, message):
    return {"field": field, "code": code, "message": message}


def new_gtin(serial: int) -> str:
    data = f"20998{serial:07d}"
    return f"{data}{gs1_check_digit(data)}"


def api_client(django_user_model, role: str) -> Client:
    """A client in English, with a token of a user in ``role`` (none for anonymous)."""
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    if role == "anonymous":
        return client
    user = django_user_model.objects.create_user(
        username=role, password="x", is_superuser=role == "superuser"
    )
    if role in GROUP_OF_ROLE:
        user.groups.add(Group.objects.get(name=GROUP_OF_ROLE[role]))
    _, token = AuthToken.objects.create(user)
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {token}"
    return client


@pytest.fixture
def staff(django_user_model):
    return api_client(django_user_model, "shop_staff")


def product_body(gtin, **changes):
    body = {
        "gtin": gtin,
        "brand": "noctura",
        "name": "Testproduct",
        "dosage_form": "capsule",
        "units_per_package": 60,
        "units_per_serving": 2,
        "servings_per_day": 1,
        "ingredients": [
            {"compound": "magnesium-bisglycinate", "amount_mg": 1000, "amount_basis": "compound"},
            {"compound": "magnesium-oxide", "amount_mg": 50, "amount_basis": "elemental"},
        ],
        "nutrients": [{"nutrient": "vitamin-b6", "amount": 1.4}],
    }
    return {**body, **changes}


def make_product(gtin, status=ProductStatus.DRAFT) -> Product:
    product, _ = product_upsert(
        gtin=gtin,
        fields={
            "brand": Brand.objects.get(slug="noctura"),
            "name": "Bestaand",
            "dosage_form": "tablet",
            "units_per_package": 30,
            "units_per_serving": Decimal(1),
            "servings_per_day": Decimal(2),
            "status": status,
        },
        ingredients=[
            IngredientInput(
                CompoundForm.objects.get(slug="magnesium-citrate-tri-anhydrous"),
                Decimal(300),
                "compound",
            ),
        ],
        nutrients=[NutrientInput(Nutrient.objects.get(slug="vitamin-b6"), Decimal(2))],
    )
    return product


@pytest.fixture
def draft():
    return make_product(new_gtin(1))


def send(client, method, gtin=None, body=None, if_match=None):
    url = f"{PRODUCTS}{gtin}/" if gtin else PRODUCTS
    headers = {} if if_match is None else {"HTTP_IF_MATCH": if_match}
    data = None if body is None else json.dumps(body)
    return getattr(client, method)(url, data, content_type="application/json", **headers)


def etag(product) -> str:
    product.refresh_from_db()
    return f'"{product.version}"'


def lines_of(product):
    return [
        (line.compound.slug, line.amount_mg, line.amount_basis)
        for line in product.ingredients.select_related("compound")
    ]


# ---- who may write ----------------------------------------------------------------------

WRITES = {
    "post": lambda draft: (None, product_body(new_gtin(2))),
    "put": lambda draft: (draft.gtin, product_body(draft.gtin, name="Vervangen")),
    "patch": lambda draft: (draft.gtin, {"name": "Gewijzigd"}),
    "delete": lambda draft: (draft.gtin, None),
}


@pytest.mark.parametrize("method", WRITES)
@pytest.mark.parametrize("role", REFUSED)
def test_write_by_a_role_without_the_permission_is_refused_and_writes_nothing(
    django_user_model, draft, role, method
):
    client = api_client(django_user_model, role)
    gtin, body = WRITES[method](draft)
    version = draft.version

    response = send(client, method, gtin, body, if_match=etag(draft))

    assert (response.status_code, response.json()) == (REFUSED[role][0], error(*REFUSED[role]))
    if role == "anonymous":
        assert response.headers["WWW-Authenticate"] == "Token"
    draft.refresh_from_db()
    assert (draft.name, draft.version) == ("Bestaand", version)
    assert not Product.objects.filter(gtin=new_gtin(2)).exists()


@pytest.mark.parametrize(
    ("method", "status", "written"),
    [
        ("post", 201, lambda draft: Product.objects.filter(gtin=new_gtin(2)).exists()),
        ("put", 200, lambda draft: Product.objects.get(pk=draft.pk).name == "Vervangen"),
        ("patch", 200, lambda draft: Product.objects.get(pk=draft.pk).name == "Gewijzigd"),
        ("delete", 204, lambda draft: not Product.objects.filter(pk=draft.pk).exists()),
    ],
)
@pytest.mark.parametrize("role", WRITERS)
def test_write_by_shop_staff_or_superuser_is_done(
    django_user_model, draft, role, method, status, written
):
    client = api_client(django_user_model, role)
    gtin, body = WRITES[method](draft)

    response = send(client, method, gtin, body, if_match=etag(draft))

    assert response.status_code == status, response.content
    assert written(draft)


def test_invalid_token_is_refused_with_401(draft):
    client = Client(HTTP_ACCEPT_LANGUAGE="en", HTTP_AUTHORIZATION="Token not-a-token")

    response = send(client, "patch", draft.gtin, {"name": "X"}, if_match=etag(draft))

    assert (response.status_code, response.json()) == (
        401,
        error(401, "authentication_failed", "Invalid token."),
    )
    assert response.headers["WWW-Authenticate"] == "Token"


def test_token_that_is_not_ascii_is_refused_with_401_on_reads_too():
    client = Client(HTTP_ACCEPT_LANGUAGE="en", HTTP_AUTHORIZATION="Token \xe9t\xe9")

    response = client.get(f"{PRODUCTS}{PUBLISHED_DEMO}/")

    assert (response.status_code, response.json()) == (
        401,
        error(401, "authentication_failed", "Invalid token."),
    )


# ---- what comes back --------------------------------------------------------------------


def test_create_answers_with_the_full_representation_and_its_version(staff):
    gtin = new_gtin(3)

    response = send(staff, "post", body=product_body(gtin))

    assert response.status_code == 201
    assert response.headers["ETag"] == '"1"'
    assert response.headers["Location"] == f"http://testserver{PRODUCTS}{gtin}/"
    read = staff.get(f"{PRODUCTS}{gtin}/")
    assert response.json() == read.json()
    body = response.json()
    product = products_with_lines().get(gtin=gtin)
    assert body["status"] == "draft"
    assert body["elemental_mg_per_day"] == float(
        round(product_dose(product).elemental_mg_per_day, 1)
    )
    assert [(line["compound"]["slug"], line["amount_mg"]) for line in body["ingredients"]] == [
        ("magnesium-bisglycinate", 1000.0),
        ("magnesium-oxide", 50.0),
    ]
    assert [(line["slug"], line["amount"]) for line in body["nutrients"]] == [("vitamin-b6", 1.4)]


def test_patch_without_lines_keeps_them_and_with_lines_replaces_them(staff, draft):
    lines = lines_of(draft)

    kept = send(staff, "patch", draft.gtin, {"servings_per_day": 3}, if_match=etag(draft))

    assert kept.status_code == 200
    assert lines_of(draft) == lines
    assert kept.json()["servings_per_day"] == 3.0
    replaced = send(
        staff,
        "patch",
        draft.gtin,
        {
            "ingredients": [
                {"compound": "magnesium-oxide", "amount_mg": "120.5", "amount_basis": "elemental"}
            ],
            "nutrients": [],
        },
        if_match=kept.headers["ETag"],
    )
    assert replaced.status_code == 200
    assert lines_of(draft) == [("magnesium-oxide", Decimal("120.500"), "elemental")]
    assert replaced.json()["nutrients"] == []
    assert Product.objects.get(pk=draft.pk).elemental_mg_per_day == Decimal("361.5")


# ---- validation: the field is named, nothing is written ---------------------------------


def test_create_with_invalid_fields_names_every_one_and_writes_nothing(staff):
    count = Product.objects.count()
    body = product_body("2099800000018", colour="blue", elemental_mg_per_day=400)
    body["ingredients"][0]["compound"] = "magnesium-unobtainium"
    body["ingredients"][1].update(amount_mg=0, elemental_mg=50)

    response = send(staff, "post", body=body)

    assert (response.status_code, response.json()) == (
        400,
        error(
            400,
            "invalid_field",
            "Invalid field: colour, elemental_mg_per_day, gtin, ingredients[0].compound, "
            "ingredients[1].amount_mg, ingredients[1].elemental_mg.",
            [
                detail(
                    "gtin",
                    "gtin_check_digit",
                    "The check digit of GTIN 2099800000018 is wrong: "
                    "the last digit should be 1. Check the barcode for a typing error.",
                ),
                detail(
                    "ingredients[0].compound",
                    "unknown_slug",
                    "Unknown compound: magnesium-unobtainium.",
                ),
                detail(
                    "ingredients[1].amount_mg",
                    "min_value",
                    "Ensure this value is greater than or equal to 0.001.",
                ),
                detail(
                    "ingredients[1].elemental_mg",
                    "read_only",
                    "elemental_mg is computed and cannot be written.",
                ),
                detail("colour", "unknown_field", "Unknown field: colour."),
                detail(
                    "elemental_mg_per_day",
                    "read_only",
                    "elemental_mg_per_day is computed and cannot be written.",
                ),
            ],
        ),
    )
    assert Product.objects.count() == count


def test_create_with_a_repeated_compound_gets_the_services_message(staff):
    body = product_body(new_gtin(4))
    body["ingredients"][1]["compound"] = "magnesium-bisglycinate"

    response = send(staff, "post", body=body)

    assert (response.status_code, response.json()) == (
        400,
        error(
            400,
            "invalid_field",
            "Invalid field: ingredients.",
            [
                detail(
                    "ingredients",
                    "invalid",
                    "Each compound may appear once per product; repeated: magnesium-bisglycinate. "
                    "Add the amounts up in one line.",
                )
            ],
        ),
    )
    assert not Product.objects.filter(gtin=new_gtin(4)).exists()


def test_create_without_ingredient_lines_is_refused(staff):
    response = send(staff, "post", body=product_body(new_gtin(5), ingredients=[]))

    assert response.status_code == 400
    assert response.json()["error"]["details"] == [
        detail("ingredients", "invalid", "A product needs at least one magnesium ingredient line.")
    ]
    assert not Product.objects.filter(gtin=new_gtin(5)).exists()


def test_create_with_amounts_too_large_to_store_is_refused(staff):
    body = product_body(new_gtin(6), servings_per_day=999)
    body["ingredients"][1]["amount_mg"] = 999999

    glycinate = CompoundForm.objects.get(slug="magnesium-bisglycinate")
    per_day = (999999 + 1000 * glycinate.elemental_magnesium_fraction) * 999

    response = send(staff, "post", body=body)

    assert response.status_code == 400
    assert response.json()["error"]["details"] == [
        detail(
            "ingredients",
            "invalid",
            f"These amounts give {per_day:.0f} mg elemental magnesium a day, more than the "
            "catalogue can hold (99999999 mg). Check amount_mg and servings_per_day.",
        )
    ]
    assert not Product.objects.filter(gtin=new_gtin(6)).exists()


def test_create_with_a_gtin_in_use_is_refused(staff):
    response = send(staff, "post", body=product_body(PUBLISHED_DEMO))

    assert response.status_code == 400
    assert response.json()["error"]["details"] == [
        detail("gtin", "unique", "product with this GTIN already exists.")
    ]


def test_body_that_is_not_an_object_is_refused(staff):
    response = send(staff, "post", body=["gtin"])

    assert (response.status_code, response.json()) == (
        400,
        error(
            400,
            "invalid_field",
            "The request is invalid.",
            [detail(None, "invalid", "Invalid data. Expected a dictionary, but got list.")],
        ),
    )


def test_put_needs_every_field_and_writes_nothing_without_them(staff, draft):
    response = send(staff, "put", draft.gtin, {"name": "Alleen een naam"}, if_match=etag(draft))

    assert response.status_code == 400
    assert {(d["field"], d["code"]) for d in response.json()["error"]["details"]} == {
        (field, "required")
        for field in [
            "brand",
            "dosage_form",
            "units_per_package",
            "units_per_serving",
            "servings_per_day",
            "ingredients",
        ]
    }
    assert Product.objects.get(pk=draft.pk).name == "Bestaand"


def test_update_cannot_change_the_gtin(staff, draft):
    response = send(staff, "patch", draft.gtin, {"gtin": new_gtin(6)}, if_match=etag(draft))

    assert response.status_code == 400
    assert response.json()["error"]["details"] == [
        detail(
            "gtin",
            "immutable",
            "The GTIN identifies the product and cannot be changed here; create a product with "
            "the new GTIN instead.",
        )
    ]


def test_invalid_line_in_an_update_leaves_the_product_as_it_was(staff, draft):
    lines, version = lines_of(draft), draft.version

    response = send(
        staff,
        "put",
        draft.gtin,
        product_body(
            draft.gtin,
            ingredients=[
                {"compound": "magnesium-oxide", "amount_mg": 100, "amount_basis": "elemental"},
                {"compound": "magnesium-malate", "amount_mg": 100, "amount_basis": "per capsule"},
            ],
        ),
        if_match=etag(draft),
    )

    assert response.status_code == 400
    assert response.json()["error"]["details"] == [
        detail(
            "ingredients[1].amount_basis", "invalid_choice", '"per capsule" is not a valid choice.'
        )
    ]
    draft.refresh_from_db()
    assert (lines_of(draft), draft.name, draft.version) == (lines, "Bestaand", version)


# ---- optimistic concurrency -------------------------------------------------------------


def test_detail_etag_is_the_version_and_every_write_raises_it(staff, draft):
    first = staff.get(f"{PRODUCTS}{draft.gtin}/").headers["ETag"]

    response = send(staff, "patch", draft.gtin, {"name": "Nieuw"}, if_match=first)

    assert first == f'"{draft.version}"'
    assert response.headers["ETag"] == f'"{draft.version + 1}"'
    assert staff.get(f"{PRODUCTS}{draft.gtin}/").headers["ETag"] == response.headers["ETag"]


def test_conditional_get_of_a_product_answers_304_until_it_changes(client):
    url = f"{PRODUCTS}{PUBLISHED_DEMO}/"
    tag = client.get(url).headers["ETag"]

    assert client.get(url, HTTP_IF_NONE_MATCH=tag).status_code == 304
    product = Product.objects.get(gtin=PUBLISHED_DEMO)
    product.save()
    assert client.get(url, HTTP_IF_NONE_MATCH=tag).status_code == 200


def test_write_with_a_stale_if_match_is_412_and_writes_nothing(staff, draft):
    read = etag(draft)
    assert send(staff, "patch", draft.gtin, {"name": "Eerst"}, if_match=read).status_code == 200

    response = send(staff, "patch", draft.gtin, {"name": "Daarna"}, if_match=read)

    current = draft.version + 1
    assert (response.status_code, response.json()) == (
        412,
        error(
            412,
            "stale_version",
            f'The product was changed since you read it; it is now at ETag "{current}". Read it '
            "again, apply your change to that version and send its ETag in If-Match.",
        ),
    )
    assert Product.objects.get(pk=draft.pk).name == "Eerst"


@pytest.mark.parametrize("if_match", ['W/"1"', "1", '"999"'])
def test_if_match_that_is_weak_unquoted_or_unknown_never_matches(staff, draft, if_match):
    response = send(staff, "delete", draft.gtin, if_match=if_match)

    assert response.status_code == 412
    assert Product.objects.filter(pk=draft.pk).exists()


def test_if_match_star_accepts_any_version(staff, draft):
    response = send(staff, "patch", draft.gtin, {"name": "Hoe dan ook"}, if_match="*")

    assert response.status_code == 200


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_write_without_if_match_is_428_and_writes_nothing(staff, draft, method):
    response = send(staff, method, draft.gtin, product_body(draft.gtin, name="Blind"))

    assert (response.status_code, response.json()) == (
        428,
        error(
            428,
            "if_match_required",
            "Send the product's ETag in an If-Match header: read the product first, so that you "
            "do not overwrite a change you have not seen.",
        ),
    )
    assert Product.objects.get(pk=draft.pk).name == "Bestaand"


def test_product_save_refuses_a_version_that_moved_on_between_check_and_save(draft):
    """The view checks If-Match first; the service checks again with the row locked."""
    stale = Product.objects.get(pk=draft.pk)
    Product.objects.get(pk=draft.pk).save()
    stale.name = "Te laat"

    with pytest.raises(StaleProductVersion):
        product_save(product=stale, ingredients=[], nutrients=[], expected_version=stale.version)

    assert Product.objects.get(pk=draft.pk).name == "Bestaand"


def test_saves_of_two_copies_loaded_at_one_version_end_on_different_versions(draft):
    first, second = Product.objects.get(pk=draft.pk), Product.objects.get(pk=draft.pk)

    first.save()
    second.save()

    assert (first.version, second.version) == (draft.version + 1, draft.version + 2)


def test_compound_change_raises_the_version_of_its_products(draft):
    compound = CompoundForm.objects.get(slug="magnesium-citrate-tri-anhydrous")

    compound.name_en = "Magnesium citrate, renamed"
    compound.save()

    assert Product.objects.get(pk=draft.pk).version == draft.version + 1


def test_compound_saved_unchanged_leaves_its_products_alone(draft, django_assert_max_num_queries):
    compound = CompoundForm.objects.get(slug="magnesium-citrate-tri-anhydrous")

    # A knowledge-base reload saves every compound; its products must not be recomputed.
    with django_assert_max_num_queries(8):
        compound.save()

    assert Product.objects.get(pk=draft.pk).version == draft.version


def test_admin_bulk_publish_raises_the_version(admin_client, draft):
    admin_client.post(
        reverse("admin:products_product_changelist"),
        {"action": "publish", "_selected_action": [draft.pk]},
    )

    draft_now = Product.objects.get(pk=draft.pk)
    assert (draft_now.status, draft_now.version) == (ProductStatus.PUBLISHED, draft.version + 1)


def test_admin_save_of_a_stale_page_is_refused_and_writes_nothing(admin_client, draft):
    admin_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = form_data(admin_client.get(change_url(draft)))
    send_from_elsewhere = Product.objects.get(pk=draft.pk)
    send_from_elsewhere.name = "Door een collega"
    send_from_elsewhere.save()
    page["name"] = "Door mij"

    response = admin_client.post(change_url(draft), page)

    assert response.status_code == 200
    assert (
        "Someone else saved this product while you were editing it, so your changes were not "
        "saved. Open the product again to see the current version, then make your changes "
        "again." in response.content.decode()
    )
    assert Product.objects.get(pk=draft.pk).name == "Door een collega"


def test_admin_save_of_a_current_page_is_kept_and_raises_the_version(admin_client, draft):
    page = form_data(admin_client.get(change_url(draft)))
    page["name"] = "Door mij"

    response = admin_client.post(change_url(draft), page)

    assert response.status_code == 302
    saved = Product.objects.get(pk=draft.pk)
    assert (saved.name, saved.version) == ("Door mij", draft.version + 1)


# ---- deleting ---------------------------------------------------------------------------


def test_deleting_a_published_product_is_409_and_says_to_discontinue_it(staff):
    product = Product.objects.get(gtin=PUBLISHED_DEMO)

    response = send(staff, "delete", PUBLISHED_DEMO, if_match=etag(product))

    assert (response.status_code, response.json()) == (
        409,
        error(
            409,
            "not_deletable",
            f"Product {PUBLISHED_DEMO} is published and cannot be deleted: discontinue it instead "
            "(status discontinued).",
        ),
    )
    assert Product.objects.filter(gtin=PUBLISHED_DEMO).exists()


def test_deleting_a_discontinued_product_is_409_too(staff):
    product = make_product(new_gtin(7), ProductStatus.DISCONTINUED)

    response = send(staff, "delete", product.gtin, if_match=etag(product))

    assert (response.status_code, response.json()) == (
        409,
        error(
            409,
            "not_deletable",
            f"Product {product.gtin} is discontinued and cannot be deleted: only drafts can. It "
            "stays on record so its barcode can still be looked up.",
        ),
    )


def test_writing_an_unknown_gtin_is_404(staff):
    response = send(staff, "patch", new_gtin(8), {"name": "X"}, if_match="*")

    assert (response.status_code, response.json()) == (
        404,
        error(404, "not_found", f"There is nothing at {PRODUCTS}{new_gtin(8)}/."),
    )


# ---- drafts through the API -------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [("anonymous", 404), ("no_permission", 404), ("pharmacist", 200), ("shop_staff", 200)],
)
def test_draft_detail_is_shown_to_users_who_may_view_products(
    django_user_model, draft, role, status
):
    client = api_client(django_user_model, role)

    response = client.get(f"{PRODUCTS}{draft.gtin}/")

    assert response.status_code == status
    assert "Authorization" in response.headers["Vary"]


def test_product_list_is_the_published_catalogue_even_for_staff(staff, draft):
    listed = {row["gtin"] for row in staff.get(f"{PRODUCTS}?page_size=100").json()["results"]}

    assert draft.gtin not in listed
    assert listed == set(
        Product.objects.filter(status=ProductStatus.PUBLISHED).values_list("gtin", flat=True)
    )


def test_staff_draft_detail_query_count_does_not_grow_with_its_lines(
    staff, draft, django_assert_num_queries
):
    url = f"{PRODUCTS}{draft.gtin}/"
    staff.get(url)  # warms the per-process caches (content types)
    with django_assert_num_queries(QUERIES_FOR_STAFF_DETAIL):
        staff.get(url)
    send(staff, "put", draft.gtin, product_body(draft.gtin), if_match=etag(draft))

    with django_assert_num_queries(QUERIES_FOR_STAFF_DETAIL):
        staff.get(url)


# ---- the token command ------------------------------------------------------------------


def run_api_token(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("api_token", *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


def test_api_token_issue_prints_a_working_token_once_and_stores_only_its_hash(
    django_user_model, draft
):
    user = django_user_model.objects.create_user(username="winkel")
    user.groups.add(Group.objects.get(name="Shop staff"))

    token, note = run_api_token("issue", "winkel", "--expiry-days", "7")

    row = AuthToken.objects.get(user=user)
    assert token.startswith(row.token_key) and len(token) == 64
    assert token not in {row.digest, row.token_key}
    assert "add_product, change_product, delete_product" in note
    assert "cannot be shown again" in note
    assert abs(row.expiry - row.created - timedelta(days=7)) < timedelta(minutes=1)
    client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    assert send(client, "patch", draft.gtin, {"name": "Met token"}, if_match="*").status_code == 200


def test_api_token_revoke_stops_every_token_of_the_user(django_user_model, draft):
    django_user_model.objects.create_superuser(username="baas", password="x")
    tokens = [run_api_token("issue", "baas")[0] for _ in range(2)]

    out, _ = run_api_token("revoke", "baas")

    assert out == "Revoked 2 token(s) of baas."
    for token in tokens:
        client = Client(HTTP_AUTHORIZATION=f"Token {token}")
        assert send(client, "patch", draft.gtin, {"name": "X"}, if_match="*").status_code == 401


def test_api_token_revoke_by_key_keeps_the_others_and_list_shows_keys_only(django_user_model):
    django_user_model.objects.create_user(username="winkel")
    kept, revoked = (run_api_token("issue", "winkel")[0] for _ in range(2))

    run_api_token("revoke", "winkel", "--key", revoked[:8])
    listing, _ = run_api_token("list")

    assert listing.startswith(f"{kept[:8]}  winkel  created ")
    assert len(listing.splitlines()) == 1
    assert kept not in listing


def test_api_token_for_an_unknown_user_is_an_error():
    with pytest.raises(CommandError, match=r"No user 'niemand'\."):
        run_api_token("issue", "niemand")
