"""Audit history: who, when, what and through which path; restoring an earlier version."""

import io
import logging
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from knox.models import AuthToken

from compounds.models import CompoundForm
from formulary.common.history import ChangePath
from products.enums import ProductStatus
from products.models import IngredientLine, Product
from products.services import IngredientInput, product_upsert
from tests.test_admin import FIRST_DEMO, change_url, form_data, new_gtin, run_action
from tests.test_import_export import row, write
from tests.test_write_api import api_client, product_body, send

pytestmark = pytest.mark.django_db


def latest(model, **lookup):
    return model.history.filter(**lookup).order_by("-history_id").first()


def upsert(gtin, lines, name="Historietest"):
    product = Product.objects.get(gtin=FIRST_DEMO)
    compounds = {c.slug: c for c in CompoundForm.objects.all()}
    return product_upsert(
        gtin=gtin,
        fields={
            "brand": product.brand,
            "name": name,
            "dosage_form": "capsule",
            "units_per_package": 60,
            "units_per_serving": Decimal(1),
            "servings_per_day": Decimal(2),
            "status": ProductStatus.DRAFT,
        },
        ingredients=[
            IngredientInput(compounds[slug], Decimal(mg), "elemental") for slug, mg in lines
        ],
        nutrients=[],
    )[0]


def test_a_service_write_outside_a_request_is_recorded_as_a_command():
    product = upsert(new_gtin(1), [("magnesium-oxide", "100")])

    record = latest(Product, id=product.pk)
    assert (record.history_type, record.history_path, record.history_user) == ("+", "command", None)
    assert latest(IngredientLine, product_id=product.pk).history_path == ChangePath.COMMAND


def test_an_admin_change_records_the_user_the_path_and_what_changed(admin_client, admin_user):
    product = Product.objects.get(gtin=FIRST_DEMO)
    data = form_data(admin_client.get(change_url(product)))
    data["name"] = "Hernoemd in de admin"

    admin_client.post(change_url(product), data)

    record = latest(Product, id=product.pk)
    assert (record.history_path, record.history_user, record.name) == (
        "admin",
        admin_user,
        "Hernoemd in de admin",
    )
    changes = record.diff_against(record.prev_record).changes
    assert [(c.field, c.old, c.new) for c in changes] == [
        ("name", product.name, "Hernoemd in de admin")
    ]


def test_a_bulk_admin_action_writes_a_history_row_per_changed_product(admin_client, admin_user):
    drafts = list(Product.objects.filter(status=ProductStatus.DRAFT).order_by("pk")[:3])
    before = Product.history.count()

    run_action(admin_client, "publish", drafts)

    assert Product.history.count() == before + 3
    for product in drafts:
        record = latest(Product, id=product.pk)
        assert (record.status, record.history_type, record.history_path, record.history_user) == (
            "published",
            "~",
            "admin",
            admin_user,
        )


def test_an_import_records_products_and_lines_through_the_import_path(tmp_path):
    created, updated = new_gtin(2), FIRST_DEMO
    brand = Product.objects.get(gtin=FIRST_DEMO).brand.name
    old_lines = list(IngredientLine.objects.filter(product__gtin=updated))
    path = write(tmp_path, [row(created), row(updated, "magnesium-taurate", brand=brand)])

    call_command("import_products", str(path), stdout=io.StringIO(), stderr=io.StringIO())

    new = Product.objects.get(gtin=created)
    assert latest(Product, id=new.pk).history_type == "+"
    assert latest(Product, gtin=updated).history_type == "~"
    for line in old_lines:
        assert latest(IngredientLine, id=line.pk).history_type == "-"
    paths = {
        record.history_path
        for model in (Product, IngredientLine)
        for record in model.history.filter(
            history_date__gte=latest(Product, id=new.pk).history_date
        )
    }
    assert paths == {"import"}


def test_restoring_an_earlier_product_version_restores_its_lines_and_amounts(admin_client):
    gtin = new_gtin(3)
    product = upsert(gtin, [("magnesium-oxide", "100")], name="Versie een")
    first_version = latest(Product, id=product.pk)
    first_amount = Product.objects.get(pk=product.pk).elemental_mg_per_day
    upsert(gtin, [("magnesium-taurate", "50"), ("magnesium-oxide", "20")], name="Versie twee")
    url = reverse(
        "admin:products_product_simple_history", args=[product.pk, first_version.history_id]
    )
    data = form_data(admin_client.get(url))

    response = admin_client.post(url, data)

    assert response.status_code == 302
    restored = Product.objects.get(pk=product.pk)
    assert restored.name == "Versie een"
    assert list(restored.ingredients.values_list("compound__slug", "amount_mg")) == [
        ("magnesium-oxide", Decimal("100"))
    ]
    assert restored.elemental_mg_per_day == first_amount == Decimal(200)
    assert latest(Product, id=product.pk).history_path == "admin"


def test_the_product_history_page_lists_the_changes(admin_client):
    product = Product.objects.get(gtin=FIRST_DEMO)
    admin_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"

    response = admin_client.get(reverse("admin:products_product_history", args=[product.pk]))

    assert response.status_code == 200
    assert "Change history" in response.content.decode()


def test_the_public_api_read_touches_no_history_table(client):
    url = f"/api/v1/products/{FIRST_DEMO}/"
    client.get(url)

    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)

    assert response.status_code == 200
    assert not any("historical" in query["sql"] for query in captured.captured_queries)


def test_a_dutch_admin_page_shows_the_translated_strings(admin_client):
    admin_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "nl"

    html = admin_client.get(reverse("admin:products_product_changelist")).content.decode()

    assert "Spreadsheet importeren" in html
    assert "Geselecteerde producten publiceren" in html


# ---- the API: who wrote, and tokens kept out of the logs --------------------------------


def test_an_api_write_records_the_tokens_user_and_the_api_path(django_user_model):
    client = api_client(django_user_model, "shop_staff")
    user = django_user_model.objects.get(username="shop_staff")
    product = Product.objects.get(gtin=FIRST_DEMO)
    if_match = client.get(f"/api/v1/products/{FIRST_DEMO}/").headers["ETag"]
    lines_recorded = IngredientLine.history.filter(product_id=product.pk).count()

    response = send(client, "patch", FIRST_DEMO, {"name": "Hernoemd via de API"}, if_match=if_match)

    assert response.status_code == 200, response.content
    record = latest(Product, id=product.pk)
    assert (record.history_type, record.history_path, record.history_user, record.name) == (
        "~",
        "api",
        user,
        "Hernoemd via de API",
    )
    # The lines were sent back unchanged: nothing happened to them, so nothing is recorded.
    assert IngredientLine.history.filter(product_id=product.pk).count() == lines_recorded


def test_an_api_write_of_other_lines_records_them_with_the_tokens_user(django_user_model):
    client = api_client(django_user_model, "shop_staff")
    user = django_user_model.objects.get(username="shop_staff")
    product = Product.objects.get(gtin=FIRST_DEMO)
    if_match = client.get(f"/api/v1/products/{FIRST_DEMO}/").headers["ETag"]
    lines = [{"compound": "magnesium-malate", "amount_mg": 900, "amount_basis": "compound"}]

    response = send(client, "patch", FIRST_DEMO, {"ingredients": lines}, if_match=if_match)

    assert response.status_code == 200, response.content
    line = latest(IngredientLine, product_id=product.pk)
    assert (line.history_type, line.history_path, line.history_user) == ("+", "api", user)


def test_an_api_create_and_delete_record_the_tokens_user(django_user_model):
    client = api_client(django_user_model, "shop_staff")
    user = django_user_model.objects.get(username="shop_staff")
    gtin = new_gtin(77)

    created = send(client, "post", body=product_body(gtin))
    deleted = send(client, "delete", gtin, if_match=created.headers["ETag"])

    assert (created.status_code, deleted.status_code) == (201, 204)
    records = Product.history.filter(gtin=gtin).order_by("history_id")
    assert [(r.history_type, r.history_path, r.history_user) for r in records] == [
        ("+", "api", user),
        ("-", "api", user),
    ]


def every_log_record(caplog):
    return "\n".join(
        f"{record.name} {record.getMessage()} {record.args!r} {record.__dict__!r}"
        for record in caplog.records
    )


def test_tokens_never_appear_in_the_logs(django_user_model, caplog):
    caplog.set_level(logging.DEBUG)
    user = django_user_model.objects.create_user(username="winkel", password="x")
    user.groups.add(Group.objects.get(name="Shop staff"))
    issued = io.StringIO()
    call_command("api_token", "issue", "winkel", stdout=issued, stderr=io.StringIO())
    token = issued.getvalue().split()[-1] if issued.getvalue() else ""
    _, second = AuthToken.objects.create(user)
    wrong = second[:-4] + "0000"
    outputs = io.StringIO()

    authenticated = Client().get(
        f"/api/v1/products/{FIRST_DEMO}/", HTTP_AUTHORIZATION=f"Token {token}"
    )
    refused = Client().post(
        "/api/v1/products/",
        "{}",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {wrong}",
    )
    call_command("api_token", "list", stdout=outputs, stderr=outputs)
    call_command("api_token", "revoke", "winkel", stdout=outputs, stderr=outputs)
    after_revoke = Client().get(
        f"/api/v1/products/{FIRST_DEMO}/", HTTP_AUTHORIZATION=f"Token {token}"
    )

    assert (authenticated.status_code, refused.status_code, after_revoke.status_code) == (
        200,
        401,
        401,
    )
    assert caplog.records, "the requests logged nothing at all: the test would prove nothing"
    logged = every_log_record(caplog) + outputs.getvalue()
    for secret in (token, second, wrong):
        assert len(secret) == 64
        assert secret not in logged
