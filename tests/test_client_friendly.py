"""What a webshop's generated client relies on: fields=, repeated ordering, lang and open
reads in the schema, search over compound names in both languages."""

import pytest
import yaml
from django.core.management import call_command

from compounds.models import CompoundForm
from products.api.serializers import ProductSerializer
from products.enums import ProductStatus
from products.models import Product
from tests.test_api import all_results, error

pytestmark = pytest.mark.django_db

API = "/api/v1"


def unknown_field(name):
    return error(
        400,
        "invalid_parameter",
        "Invalid parameter: fields.",
        [{"field": "fields", "code": "unknown_field", "message": f"Unknown field: {name}."}],
    )


def test_products_fields_selects_the_named_fields_of_each_result(client):
    full = client.get(f"{API}/products/?page_size=5").json()

    narrow = client.get(f"{API}/products/?page_size=5&fields=gtin,elemental_mg_per_day").json()

    assert narrow["results"] == [
        {"gtin": row["gtin"], "elemental_mg_per_day": row["elemental_mg_per_day"]}
        for row in full["results"]
    ]
    # The next page asks for the same fields.
    assert "fields=gtin" in narrow["next"]


def test_products_fields_repeated_and_with_facets_keeps_the_page_keys(client):
    body = client.get(f"{API}/products/?fields=gtin&fields=name&facets=vegan&count=true").json()

    assert set(body) == {"next", "previous", "results", "count", "facets"}
    assert all(set(row) == {"gtin", "name"} for row in body["results"])


def test_product_detail_fields(client):
    gtin = Product.objects.filter(status=ProductStatus.PUBLISHED).first().gtin

    body = client.get(f"{API}/products/{gtin}/?fields=gtin,ingredients").json()

    assert set(body) == {"gtin", "ingredients"}
    assert body["ingredients"]


@pytest.mark.parametrize(
    "url",
    [
        f"{API}/products/?fields=gtin,colour",
        f"{API}/products/2073100011373/?fields=colour",
        f"{API}/compounds/?fields=colour",
        f"{API}/compounds/magnesium-oxide/?fields=colour",
        f"{API}/products/match/?indication=sleep&fields=colour",
    ],
)
def test_fields_unknown_name_is_refused_by_name(client, url):
    response = client.get(url)

    assert response.status_code == 400
    assert response.json() == unknown_field("colour")


def test_compounds_fields_makes_the_list_small(client):
    full = client.get(f"{API}/compounds/?page_size=100")

    narrow = client.get(f"{API}/compounds/?page_size=100&fields=slug,elemental_magnesium_percent")

    assert len(narrow.content) * 10 < len(full.content)
    assert [set(row) for row in narrow.json()["results"]] == [
        {"slug", "elemental_magnesium_percent"}
    ] * CompoundForm.objects.count()


def test_compound_detail_fields(client):
    body = client.get(f"{API}/compounds/magnesium-oxide/?fields=slug,formula").json()

    assert body == {"slug": "magnesium-oxide", "formula": "MgO"}


def test_match_fields(client):
    body = client.get(f"{API}/products/match/?indication=sleep&fields=gtin,score").json()

    assert body["results"]
    assert all(set(row) == {"gtin", "score"} for row in body["results"])


def test_fields_cached_answers_are_kept_apart(client):
    client.get(f"{API}/products/?fields=gtin")

    body = client.get(f"{API}/products/").json()

    assert set(body["results"][0]) == set(ProductSerializer().fields)


def test_products_repeated_ordering_equals_the_comma_form(client):
    comma = all_results(client, f"{API}/products/?ordering=-price,name")

    repeated = all_results(client, f"{API}/products/?ordering=-price&ordering=name")

    assert repeated == comma
    prices = [row["price_eur"] for row in comma if row["price_eur"] is not None]
    assert prices == sorted(prices, reverse=True)


def test_products_search_finds_compound_names_in_both_languages(client):
    english = {row["gtin"] for row in all_results(client, f"{API}/products/?search=bisglycinate")}
    dutch = {row["gtin"] for row in all_results(client, f"{API}/products/?search=bisglycinaat")}

    containing = set(
        Product.objects.filter(
            status=ProductStatus.PUBLISHED, ingredients__compound__slug="magnesium-bisglycinate"
        ).values_list("gtin", flat=True)
    )
    assert containing and containing <= english
    assert containing <= dutch


@pytest.fixture(scope="module")
def schema(tmp_path_factory):
    path = tmp_path_factory.mktemp("schema") / "schema.yaml"
    call_command("spectacular", "--file", str(path))
    return yaml.safe_load(path.read_text())


def test_schema_reads_are_open_and_document_lang(schema):
    reads = [
        (path, operation)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if method == "get"
    ]

    assert all(operation["security"] == [] for _, operation in reads)
    assert all(
        "lang" in [parameter["name"] for parameter in operation["parameters"]]
        for _, operation in reads
    )
    writes = schema["paths"]["/api/v1/products/"]["post"]
    assert writes["security"] != []


def test_schema_fields_lists_the_known_names(schema):
    parameters = schema["paths"]["/api/v1/products/"]["get"]["parameters"]

    fields = next(parameter for parameter in parameters if parameter["name"] == "fields")

    assert fields["schema"]["items"]["enum"] == list(ProductSerializer().fields)


def test_schema_selectable_objects_require_no_field(schema):
    """A generated client parses an answer narrowed by fields= only if no field is required."""
    components = schema["components"]["schemas"]

    assert "required" not in components["Product"]
    assert "required" not in components["Match"]
    assert components["PaginatedProductList"]["required"] == ["next", "previous", "results"]
