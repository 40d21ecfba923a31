"""Every door that writes products ends with the same bookkeeping (products.services).

Each test goes through one door the way its users do (the API, the admin's change form, bulk
actions and revert, the import, the generator, a compound or evidence change) and holds it to
the same outcome: the stored amounts follow the lines, the version was raised, a history row
records the path, the match rows are what a rebuild makes of them, and the next read through
the API shows the change although the read before it was cached. The bulk doors also have a
bound on their queries that a statement per product would break.
"""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from compounds.enums import EvidenceBasis, EvidenceGrade
from compounds.models import CompoundForm, CompoundIndication
from formulary.models import Indication
from products.catalogue_generator import CatalogueGenerator, generated_products
from products.enums import ProductStatus
from products.matching.index import product_indications_rebuild
from products.models import Brand, Product, ProductIndication
from products.selectors import product_dose, products_with_lines
from products.services import IngredientInput, product_upsert
from tests.test_admin import change_url, form_data, new_gtin, run_action
from tests.test_import_export import row, write
from tests.test_write_api import api_client, send

pytestmark = pytest.mark.django_db

MANY = 30
STORED = Decimal("0.0001")  # the stored amounts keep four decimals


@pytest.fixture
def en_admin(admin_client):
    admin_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return admin_client


def oxide_line() -> IngredientInput:
    return IngredientInput(
        CompoundForm.objects.get(slug="magnesium-oxide"), Decimal(90), "compound"
    )


def make_products(count, *, first=500, compound="magnesium-malate", status="published"):
    """``count`` products with one compound-basis line each, through the product service."""
    brand = Brand.objects.get(slug="noctura")
    line = IngredientInput(CompoundForm.objects.get(slug=compound), Decimal("500"), "compound")
    return [
        product_upsert(
            gtin=new_gtin(first + number),
            fields={
                "brand": brand,
                "name": f"Schrijfpad {number}",
                "dosage_form": "capsule",
                "units_per_package": 60,
                "units_per_serving": Decimal(1),
                "servings_per_day": Decimal(2),
                "status": status,
            },
            ingredients=[line],
            nutrients=[],
        )[0]
        for number in range(count)
    ]


def match_rows(product_ids):
    return sorted(
        ProductIndication.objects.filter(product_id__in=product_ids).values_list(
            "product_id",
            "indication__slug",
            "evidence_strength",
            "best_grade",
            "tolerability",
            "dose_value",
            "price_value",
        )
    )


def linked_indications(product_ids) -> dict[int, set[str]]:
    """The indication slugs in each product's stored links (``Product.linked_indications``)."""
    slugs = dict(Indication.objects.values_list("pk", "slug"))
    return {
        product_id: {slugs[int(part)] for part in (text or "").strip("|").split("|") if part}
        for product_id, text in Product.objects.filter(pk__in=product_ids).values_list(
            "pk", "linked_indications"
        )
    }


def read(client, gtin):
    return client.get(f"/api/v1/products/{gtin}/", HTTP_ACCEPT_LANGUAGE="en")


def assert_bookkept(client, gtins, *, versions, path):
    """The outcome every door owes: amounts, version, history path, match rows, fresh read."""
    products = {p.gtin: p for p in products_with_lines().filter(gtin__in=gtins)}
    assert sorted(products) == sorted(gtins)
    ids = [product.pk for product in products.values()]
    kept_rows, kept_links = match_rows(ids), linked_indications(ids)
    product_indications_rebuild(product_ids=ids)
    assert match_rows(ids) == kept_rows
    # The links the door left on the products name the indications of their rows.
    assert kept_links == {
        product_id: {slug for row_product, slug, *_ in kept_rows if row_product == product_id}
        for product_id in ids
    }
    for gtin, product in products.items():
        dose = product_dose(product)
        assert (product.elemental_mg_per_serving, product.elemental_mg_per_day) == (
            dose.elemental_mg_per_serving.quantize(STORED),
            dose.elemental_mg_per_day.quantize(STORED),
        )
        assert product.version == versions[gtin]
        if path is not None:
            record = product.history.order_by("-history_id").first()
            assert record.history_path == path
        if product.status == ProductStatus.PUBLISHED:
            response = read(client, gtin)
            assert response.status_code == 200
            assert response.json()["elemental_mg_per_day"] == float(
                dose.elemental_mg_per_day.quantize(Decimal("0.1"))
            )
            indications = {row["slug"] for row in response.json()["indications"]}
            assert indications == {slug for _id, slug, *_rest in match_rows([product.pk])}


def versions_of(products, *, raised_by=1):
    return {p.gtin: Product.objects.get(pk=p.pk).version + raised_by for p in products}


# ---- single-product doors -------------------------------------------------------------


def test_write_path_api_patch_keeps_the_books(client, django_user_model):
    (product,) = make_products(1)
    expected = versions_of([product])
    staff = api_client(django_user_model, "shop_staff")
    assert read(client, product.gtin).json()["elemental_mg_per_day"] != 0  # cached now

    response = send(
        staff, "patch", product.gtin, {"servings_per_day": 3}, if_match=f'"{product.version}"'
    )

    assert response.status_code == 200
    assert Product.objects.get(pk=product.pk).servings_per_day == 3
    assert_bookkept(client, [product.gtin], versions=expected, path="api")


def test_write_path_admin_change_form_keeps_the_books(client, en_admin):
    (product,) = make_products(1)
    expected = versions_of([product])
    before = read(client, product.gtin).json()["elemental_mg_per_day"]
    data = form_data(en_admin.get(change_url(product)))
    data["ingredients-0-amount_mg"] = "250"

    response = en_admin.post(change_url(product), data)

    assert response.status_code == 302
    assert_bookkept(client, [product.gtin], versions=expected, path="admin")
    assert read(client, product.gtin).json()["elemental_mg_per_day"] == pytest.approx(before / 2)


def test_write_path_history_revert_keeps_the_books(client, admin_client):
    (product,) = make_products(1)
    first = product.history.order_by("-history_id").first()
    line = IngredientInput(
        CompoundForm.objects.get(slug="magnesium-oxide"), Decimal(90), "compound"
    )
    product_upsert(gtin=product.gtin, fields={}, ingredients=[line], nutrients=[])
    version = Product.objects.get(pk=product.pk).version
    read(client, product.gtin)
    url = reverse("admin:products_product_simple_history", args=[product.pk, first.history_id])

    response = admin_client.post(url, form_data(admin_client.get(url)))

    assert response.status_code == 302
    restored = Product.objects.get(pk=product.pk)
    assert list(restored.ingredients.values_list("compound__slug", "amount_mg")) == [
        ("magnesium-malate", Decimal(500))
    ]
    assert restored.version > version
    assert_bookkept(client, [product.gtin], versions={product.gtin: restored.version}, path="admin")


def test_write_path_service_outside_a_request_keeps_the_books_as_a_command(client):
    (product,) = make_products(1)
    expected = versions_of([product])
    read(client, product.gtin)
    line = IngredientInput(
        CompoundForm.objects.get(slug="magnesium-oxide"), Decimal(90), "compound"
    )

    product_upsert(gtin=product.gtin, fields={}, ingredients=[line], nutrients=[])

    assert_bookkept(client, [product.gtin], versions=expected, path="command")


# ---- bulk doors -------------------------------------------------------------------------


def test_write_path_admin_bulk_publish_keeps_the_books_in_bulk(
    client, en_admin, django_assert_max_num_queries
):
    drafts = make_products(MANY, status="draft")
    expected = versions_of(drafts)
    assert read(client, drafts[0].gtin).status_code == 404

    with django_assert_max_num_queries(41):
        response = run_action(en_admin, "publish", drafts)

    assert response.status_code == 200
    assert set(Product.objects.filter(pk__in=[p.pk for p in drafts]).values_list("status")) == {
        ("published",)
    }
    assert_bookkept(client, list(expected), versions=expected, path="admin")


def test_write_path_import_keeps_the_books_in_bulk(client, tmp_path, django_assert_max_num_queries):
    existing = make_products(MANY)
    expected = versions_of(existing)
    new = [new_gtin(900 + number) for number in range(MANY)]
    expected.update(dict.fromkeys(new, 1))
    read(client, existing[0].gtin)
    path = write(
        tmp_path,
        [row(p.gtin, amount="80", status="published", brand="Noctura") for p in existing]
        + [row(gtin, amount="70", status="published") for gtin in new],
    )

    # A fixed number for the whole file (60 products): a query per product would pass 100.
    with django_assert_max_num_queries(60):
        call_command("import_products", str(path), stdout=StringIO(), stderr=StringIO())

    assert Product.objects.get(gtin=existing[0].gtin).elemental_mg_per_day == Decimal(160)
    assert_bookkept(client, list(expected), versions=expected, path="import")


def test_write_path_generator_keeps_the_books_in_bulk(client, django_assert_max_num_queries):
    generator = CatalogueGenerator(seed=7, brands=2, report=lambda _line: None)

    # A fixed number per batch, whatever the batch holds.
    with django_assert_max_num_queries(36):
        generator.generate(MANY)

    gtins = list(generated_products().values_list("gtin", flat=True))
    assert len(gtins) == MANY
    assert_bookkept(client, gtins, versions=dict.fromkeys(gtins, 1), path="command")


def compound_change_queries(admin_client, compound, formula) -> int:
    data = form_data(admin_client.get(change_url(compound)))
    data["formula"] = formula
    with CaptureQueriesContext(connection) as captured:
        response = admin_client.post(change_url(compound), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    return len(captured.captured_queries)


def test_write_path_compound_change_in_the_admin_refreshes_its_products_set_based(
    client, admin_client
):
    malate = CompoundForm.objects.get(slug="magnesium-malate")
    formula = malate.formula
    few = compound_change_queries(admin_client, malate, "MgO")
    products = make_products(MANY)
    expected = versions_of(products)
    before = read(client, products[0].gtin).json()["elemental_mg_per_day"]

    many = compound_change_queries(admin_client, CompoundForm.objects.get(pk=malate.pk), formula)

    # The same edit with MANY more products containing the compound costs no more statements.
    assert many <= few
    assert read(client, products[0].gtin).json()["elemental_mg_per_day"] != before
    assert malate.history.order_by("-history_id").first().history_path == "admin"
    assert_bookkept(client, list(expected), versions=expected, path=None)


def test_write_path_evidence_change_raises_versions_and_match_rows(
    client, django_assert_max_num_queries
):
    products = make_products(MANY, compound="magnesium-oxide")
    expected = versions_of(products)
    read(client, products[0].gtin)
    oxide = CompoundForm.objects.get(slug="magnesium-oxide")
    linked = set(oxide.evidence.values_list("indication_id", flat=True))
    indication = Indication.objects.exclude(pk__in=linked).order_by("slug").first()

    with django_assert_max_num_queries(22):
        CompoundIndication.objects.create(
            compound=oxide,
            indication=indication,
            grade=EvidenceGrade.D,
            basis=EvidenceBasis.MAGNESIUM,
            rationale_nl="Test.",
            rationale_en="Test.",
        )

    slugs = {row["slug"] for row in read(client, products[0].gtin).json()["indications"]}
    assert indication.slug in slugs
    assert_bookkept(client, list(expected), versions=expected, path=None)
