"""The read path at catalogue scale: query counts, pages without a count, the generator."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from config.pagination import MAX_OFFSET
from formulary.common.models import CatalogueVersion
from products import catalogue_rows
from products.catalogue_generator import BRAND_SLUG_PREFIX, GTIN_PREFIX, generated_products
from products.enums import ProductStatus
from products.gtin import validate_gtin
from products.knowledge import knowledge
from products.matching.index import product_indications_rebuild
from products.models import IngredientLine, Product, ProductIndication
from products.selectors import product_dose, products_with_lines

pytestmark = pytest.mark.django_db

API = "/api/v1"
WEBSHOP_QUERY = (
    "indication=sleep&dosage_form=capsule&min_elemental_mg=50&max_elemental_mg=400"
    "&ordering=-elemental_mg_per_day"
)


HALF_UNIT = Decimal("0.00005")


@pytest.fixture
def warm(client):
    """One read loads the reference data kept per catalogue version, as a live server has."""
    client.get(f"{API}/products/?page_size=1")
    client.get(f"{API}/compounds/?page_size=1")


@pytest.mark.parametrize(
    "query",
    [
        WEBSHOP_QUERY,
        "indication=sleep,sport&indication_match=all&vegan=true&page_size=100",
        "compound=magnesium-bisglycinate&brand=noctura&within_upper_limit=eu&ordering=price",
        "carrier=citrate&classification=organic&search=magnesium&page=2&page_size=5",
    ],
)
def test_products_list_runs_the_version_and_page_queries_and_no_count(
    client, warm, django_assert_num_queries, page_queries, query
):
    client.get(f"{API}/products/?{query}&lang=en")  # the same filters, cached apart

    # The catalogue version; the page with its lines (catalogue_rows.product_values).
    # A search is never compiled: its queryset reads the page in one query.
    page = 1 if "search=" in query else page_queries
    with django_assert_num_queries(1 + page) as captured:
        response = client.get(f"{API}/products/?{query}")

    assert response.status_code == 200
    assert not any("COUNT(" in q["sql"].upper() for q in captured.captured_queries)


def test_product_detail_runs_two_queries(client, warm, django_assert_num_queries):
    gtin = Product.objects.filter(status=ProductStatus.PUBLISHED).values_list("gtin", flat=True)[0]

    # The product's version and the product with its lines.
    with django_assert_num_queries(2):
        assert client.get(f"{API}/products/{gtin}/").status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        f"{API}/compounds/?page_size=100",
        f"{API}/compounds/?indication=sleep&ordering=slug",
        f"{API}/compounds/magnesium-bisglycinate/",
    ],
)
def test_compound_reads_run_at_most_three_queries(client, warm, django_assert_max_num_queries, url):
    client.get(url, HTTP_ACCEPT_LANGUAGE="en")

    with django_assert_max_num_queries(3):
        assert client.get(url).status_code == 200


def test_products_pages_link_onwards_without_a_count(client):
    first = client.get(f"{API}/products/?page_size=10").json()
    second = client.get(first["next"]).json()
    total = Product.objects.filter(status=ProductStatus.PUBLISHED).count()

    assert set(first) == {"next", "previous", "results"}
    assert first["previous"] is None
    assert second["previous"] == "http://testserver/api/v1/products/?page_size=10"
    assert second["next"].endswith("page=3&page_size=10")
    last = client.get(f"{API}/products/?page_size=10&page={(total + 9) // 10}").json()
    assert (last["next"], len(last["results"])) == (None, total - 10 * (total // 10) or 10)


def test_products_page_past_the_end_is_empty(client):
    body = client.get(f"{API}/products/?page=500").json()

    assert (body["results"], body["next"]) == ([], None)


def test_products_page_too_deep_is_refused_with_the_envelope(client):
    response = client.get(f"{API}/products/?page_size=100&page={MAX_OFFSET // 100 + 2}")

    assert (response.status_code, response.json()) == (
        400,
        {
            "error": {
                "status": 400,
                "code": "invalid_parameter",
                "message": "Invalid parameter: page.",
                "details": [
                    {
                        "field": "page",
                        "code": "out_of_range",
                        "message": f"Pages start at most {MAX_OFFSET} results in; narrow the "
                        "filter instead.",
                    }
                ],
            }
        },
    )


def test_products_default_order_is_name_then_gtin(client):
    rows = client.get(f"{API}/products/?page_size=100").json()["results"]

    assert [row["gtin"] for row in rows] == list(
        Product.objects.filter(status=ProductStatus.PUBLISHED)
        .order_by("name", "gtin")
        .values_list("gtin", flat=True)[:100]
    )


def generate(**options):
    out = StringIO()
    call_command("generate_catalog", stdout=out, **options)
    return out.getvalue()


def snapshot():
    return list(
        generated_products()
        .order_by("gtin")
        .values_list(
            "gtin",
            "name",
            "brand__slug",
            "dosage_form",
            "status",
            "elemental_mg_per_day",
            "price_eur",
        )
    )


def test_generate_catalog_is_deterministic_for_a_seed_and_replaces_on_request():
    output = generate(products=300, seed=7, brands=5)
    first = snapshot()
    generate(products=300, seed=7, brands=5, replace=True)
    again = snapshot()
    generate(products=300, seed=8, brands=5, replace=True)

    assert "300 / 300 products" in output
    assert first == again
    assert snapshot() != first
    assert len(first) == 300


def test_generate_catalog_refuses_to_generate_twice_without_replace():
    generate(products=10, seed=1, brands=2)

    with pytest.raises(CommandError, match="--replace"):
        generate(products=10, seed=1, brands=2)


def test_generate_catalog_rows_are_valid_and_amounts_follow_the_calculations():
    demo_gtins = set(Product.objects.values_list("gtin", flat=True))
    generate(products=200, seed=2, brands=3)
    products = list(products_with_lines().filter(brand__slug__startswith=BRAND_SLUG_PREFIX))

    for product in products:
        product.full_clean()
        validate_gtin(product.gtin)
        assert product.gtin.startswith(GTIN_PREFIX)
        dose = product_dose(product)
        # Stored to the column's four decimal places (SQLite rounds half to even, PostgreSQL
        # half up), so within half a unit of the last place.
        assert abs(product.elemental_mg_per_day - dose.elemental_mg_per_day) <= HALF_UNIT
        assert abs(product.elemental_mg_per_serving - dose.elemental_mg_per_serving) <= HALF_UNIT
        for line in product.ingredients.all():
            line.full_clean()
        assert 1 <= len(product.ingredients.all()) <= 3
    assert not demo_gtins & {p.gtin for p in products}
    statuses = {p.status for p in products}
    assert statuses == {ProductStatus.PUBLISHED, ProductStatus.DRAFT, ProductStatus.DISCONTINUED}
    assert IngredientLine.objects.filter(product__in=products).count() > len(products)


def match_rows():
    return sorted(
        ProductIndication.objects.filter(
            product__brand__slug__startswith=BRAND_SLUG_PREFIX
        ).values_list(
            "product__gtin",
            "indication__slug",
            "evidence_strength",
            "best_grade",
            "tolerability",
            "dose_value",
            "price_value",
            "points_eu",
            "points_us",
        )
    )


def test_generate_catalog_builds_the_match_rows_a_full_rebuild_would(client):
    generate(products=300, seed=3, brands=4)
    generated = match_rows()
    product_indications_rebuild()

    assert generated == match_rows()
    assert len({gtin for gtin, *_ in generated}) > 200
    match = client.get(f"{API}/products/match/?indication=sleep,sport&page_size=100").json()
    assert any(r["gtin"].startswith(GTIN_PREFIX) for r in match["results"])


def test_generate_catalog_replace_removes_the_old_match_rows():
    generate(products=50, seed=4, brands=2)
    generate(products=20, seed=5, brands=2, replace=True)

    assert len({gtin for gtin, *_ in match_rows()}) <= 20


def test_read_path_reads_the_catalogue_version_once_per_request(
    client, warm, django_assert_max_num_queries
):
    with django_assert_max_num_queries(4) as captured:
        response = client.get(
            f"{API}/products/?{WEBSHOP_QUERY}&brand=noctura&compound="
            "magnesium-bisglycinate&carrier=glycine"
        )

    assert response.status_code == 200
    table = CatalogueVersion._meta.db_table
    version_reads = [q for q in captured.captured_queries if table in q["sql"]]
    assert len(version_reads) == 1


def test_indication_rows_kept_are_bounded_and_every_combination_is_answered(monkeypatch):
    """A long read (the feed) meets thousands of compound combinations: the snapshot keeps the
    rows of the first few only, and the others are computed, the same as if kept."""
    monkeypatch.setattr(catalogue_rows, "MAX_KNOWN_INDICATION_ROWS", 3)
    data = knowledge()
    data.indication_rows.clear()
    ids = sorted(data.compounds)[:3]
    combinations = [(ids[0],), (ids[1],), (ids[0], ids[1]), (ids[1], ids[0]), (ids[2],)]

    rows = [catalogue_rows.known_indication_rows(data, ids_, "en") for ids_ in combinations]

    assert len(data.indication_rows) == 3
    assert rows == [
        catalogue_rows.indication_rows([data.compounds[id_] for id_ in ids_], "en")
        for ids_ in combinations
    ]
    assert rows[2] and rows[2] != rows[3]  # the line order names the compounds in that order
