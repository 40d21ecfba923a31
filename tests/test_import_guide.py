"""The import page's guidance and templates come from the importer's own definitions."""

from decimal import Decimal

import pytest
from django.urls import reverse

from products.enums import DosageForm
from products.models import Product
from products.spreadsheet.columns import ALL_COLUMNS, REQUIRED
from products.spreadsheet.guide import EXAMPLE
from products.spreadsheet.importing import import_products
from tests.test_admin import staff_client

pytestmark = pytest.mark.django_db

IMPORT = reverse("admin:products_product_import")


def template_url(extension):
    return reverse("admin:products_product_import_template", args=[extension])


def test_import_page_lists_every_column_with_whether_it_is_required(client, django_user_model):
    shop = staff_client(client, django_user_model, "Shop staff")

    html = shop.get(IMPORT).content.decode()

    for column in ALL_COLUMNS:
        row = html.split(f'<tr id="guide-{column}">', 1)[1].split("</tr>", 1)[0]
        expected = "required" if column in REQUIRED else ("for a new product", "optional")
        assert any(word in row for word in ((expected,) if isinstance(expected, str) else expected))
        assert f"<code>{EXAMPLE[column]}</code>" in row
    dosage_form = html.split('<tr id="guide-dosage_form">', 1)[1].split("</tr>", 1)[0]
    assert all(value in dosage_form for value in DosageForm.values)
    assert template_url("csv") in html and template_url("xlsx") in html


def test_import_page_guidance_follows_the_users_language(client, django_user_model):
    shop = staff_client(client, django_user_model, "Shop staff")
    shop.defaults["HTTP_ACCEPT_LANGUAGE"] = "nl"

    html = shop.get(IMPORT).content.decode()

    gtin = html.split('<tr id="guide-gtin">', 1)[1].split("</tr>", 1)[0]
    assert "verplicht" in gtin
    assert "De kolommen van het spreadsheet" in html


@pytest.mark.parametrize("extension", ["csv", "xlsx"])
def test_import_template_with_its_example_row_imports(
    client, django_user_model, tmp_path, extension
):
    shop = staff_client(client, django_user_model, "Shop staff")
    response = shop.get(template_url(extension))
    path = tmp_path / f"filled.{extension}"
    path.write_bytes(b"".join(response.streaming_content))

    report = import_products(path)

    assert response.status_code == 200
    assert (report.problems, report.created) == ([], 1)
    product = Product.objects.get(gtin=EXAMPLE["gtin"])
    assert (product.name, product.price_eur, product.units_per_package) == (
        EXAMPLE["name"],
        Decimal(EXAMPLE["price_eur"]),
        int(EXAMPLE["units_per_package"]),
    )
    assert [line.compound.slug for line in product.ingredients.all()] == [EXAMPLE["compound"]]


def test_import_template_needs_the_import_permission(client, django_user_model):
    pharmacist = staff_client(client, django_user_model, "Pharmacist editors")

    assert pharmacist.get(template_url("csv")).status_code == 403
