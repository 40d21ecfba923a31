"""Nothing curated is lost: concurrent edits through the API and the admin never overwrite
each other silently, products that were ever listed are not deleted, and reference data in use
cannot be deleted through the admin or the ORM."""

import pytest
from django.db.models import ProtectedError
from django.urls import reverse

from compounds.models import CompoundForm
from formulary.models import Reference
from products.enums import ProductStatus
from products.models import Brand, IngredientLine, Product
from tests.test_admin import change_url, form_data, messages_of
from tests.test_write_api import api_client, error, etag, make_product, new_gtin, send

pytestmark = pytest.mark.django_db

STALE_ADMIN_FORM = (
    "Someone else saved this product while you were editing it, so your changes were not "
    "saved. Open the product again to see the current version, then make your changes again."
)


@pytest.fixture
def en_admin(admin_client):
    admin_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return admin_client


@pytest.fixture
def staff(django_user_model):
    return api_client(django_user_model, "shop_staff")


@pytest.fixture
def draft():
    return make_product(new_gtin(501))


def delete_url(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_delete", args=[obj.pk])


# ---- concurrent edits: API and admin ----------------------------------------------------


def test_admin_form_opened_before_an_api_write_is_refused_and_keeps_the_api_change(
    en_admin, staff, draft
):
    page = form_data(en_admin.get(change_url(draft)))
    api = send(staff, "patch", draft.gtin, {"name": "Via de API"}, if_match=etag(draft))
    page["name"] = "Via de admin"

    response = en_admin.post(change_url(draft), page)

    assert api.status_code == 200, api.content
    assert response.status_code == 200
    assert STALE_ADMIN_FORM in response.content.decode()
    assert Product.objects.get(pk=draft.pk).name == "Via de API"


def test_api_write_after_an_admin_save_with_the_etag_read_before_it_is_412(en_admin, staff, draft):
    read = staff.get(f"/api/v1/products/{draft.gtin}/")
    page = form_data(en_admin.get(change_url(draft)))
    page["name"] = "Via de admin"
    assert en_admin.post(change_url(draft), page).status_code == 302
    saved = Product.objects.get(pk=draft.pk)

    response = send(
        staff, "patch", draft.gtin, {"name": "Via de API"}, if_match=read.headers["ETag"]
    )

    assert (response.status_code, response.json()) == (
        412,
        error(
            412,
            "stale_version",
            f'The product was changed since you read it; it is now at ETag "{saved.version}". '
            "Read it again, apply your change to that version and send its ETag in If-Match.",
        ),
    )
    assert Product.objects.get(pk=draft.pk).name == "Via de admin"


# ---- deleting products in the admin: drafts only, as in the API -------------------------


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (
            ProductStatus.PUBLISHED,
            "Product {gtin} is published and cannot be deleted: "
            "discontinue it instead (status discontinued).",
        ),
        (
            ProductStatus.DISCONTINUED,
            "Product {gtin} is discontinued and cannot be deleted: "
            "only drafts can. It stays on record so its barcode can still be looked up.",
        ),
    ],
)
def test_admin_delete_of_a_listed_product_is_refused_with_the_apis_message(
    en_admin, status, message
):
    product = make_product(new_gtin(502), status=status)
    lines = IngredientLine.objects.filter(product=product).count()

    page = en_admin.get(delete_url(product))
    response = en_admin.post(delete_url(product), {"post": "yes"})

    expected = message.format(gtin=product.gtin)
    assert expected in messages_of(page)
    assert response.status_code == 200
    assert expected in response.content.decode()
    assert IngredientLine.objects.filter(product=product).count() == lines


def test_admin_delete_of_a_draft_deletes_it(en_admin, draft):
    response = en_admin.post(delete_url(draft), {"post": "yes"})

    assert response.status_code == 302
    assert not Product.objects.filter(pk=draft.pk).exists()


def test_admin_bulk_delete_with_a_published_product_is_refused_and_deletes_none(en_admin, draft):
    published = make_product(new_gtin(503), status=ProductStatus.PUBLISHED)

    response = en_admin.post(
        reverse("admin:products_product_changelist"),
        {"action": "delete_selected", "_selected_action": [draft.pk, published.pk], "post": "yes"},
    )

    assert response.status_code == 200
    assert (
        f"Product {published.gtin} is published and cannot be deleted: discontinue it instead "
        "(status discontinued)." in messages_of(response)
    )
    assert Product.objects.filter(pk__in=[draft.pk, published.pk]).count() == 2


def test_admin_bulk_delete_of_drafts_deletes_them(en_admin, draft):
    other = make_product(new_gtin(504))

    en_admin.post(
        reverse("admin:products_product_changelist"),
        {"action": "delete_selected", "_selected_action": [draft.pk, other.pk], "post": "yes"},
    )

    assert not Product.objects.filter(pk__in=[draft.pk, other.pk]).exists()


# ---- reference data in use --------------------------------------------------------------


def reference_data_in_use():
    return {
        "compound in a product": IngredientLine.objects.first().compound,
        "cited reference": Reference.objects.get(key="NOAH2021"),
        "brand with products": Product.objects.first().brand,
    }


@pytest.mark.parametrize(
    "kind", ["compound in a product", "cited reference", "brand with products"]
)
def test_reference_data_in_use_cannot_be_deleted_through_the_orm(kind):
    with pytest.raises(ProtectedError):
        reference_data_in_use()[kind].delete()


@pytest.mark.parametrize(
    "kind", ["compound in a product", "cited reference", "brand with products"]
)
def test_reference_data_in_use_cannot_be_deleted_through_the_admin_and_it_says_why(en_admin, kind):
    record = reference_data_in_use()[kind]
    model = type(record)

    response = en_admin.post(delete_url(record), {"post": "yes"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "would require deleting the following protected related objects" in html
    assert model.objects.filter(pk=record.pk).exists()


def test_bulk_delete_of_brands_in_use_is_refused_and_deletes_none(en_admin):
    brands = list(Brand.objects.filter(products__isnull=False).distinct()[:2])

    response = en_admin.post(
        reverse("admin:products_brand_changelist"),
        {"action": "delete_selected", "_selected_action": [b.pk for b in brands], "post": "yes"},
    )

    assert response.status_code == 200
    assert "would require deleting the following protected related objects" in (
        response.content.decode()
    )
    assert Brand.objects.filter(pk__in=[b.pk for b in brands]).count() == 2
    assert CompoundForm.objects.exists()


def test_admin_delete_refusal_follows_the_users_language(admin_client):
    admin_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "nl"
    product = make_product(new_gtin(505), status=ProductStatus.PUBLISHED)

    page = admin_client.get(delete_url(product))

    assert messages_of(page) == [
        f"Product {product.gtin} is gepubliceerd en kan niet worden verwijderd: zet het in "
        "plaats daarvan uit de handel (status discontinued)."
    ]
