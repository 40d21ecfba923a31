"""The documented response shape (the OpenAPI schema) checked against real responses.

The schema comes from drf-spectacular (the serializers describe it); the responses come from
the read path (products.catalogue_rows and friends), which does not use the serializers to
render. Every response below must validate against the schema of its operation and status,
with no key the schema does not name: a field added to one side only fails here.
"""

import copy
import re

import jsonschema
import pytest
from django.urls import reverse

from products.models import Product
from tests.test_write_api import api_client, product_body, send

pytestmark = pytest.mark.django_db

API = "/api/v1"
PUBLISHED = "2073100011373"


@pytest.fixture(scope="module")
def openapi(django_db_blocker):
    from django.test import Client

    with django_db_blocker.unblock():
        response = Client().get(reverse("schema"), {"format": "json"})
    assert response.status_code == 200
    return response.json()


def json_schema(node):
    """OpenAPI 3.0 to JSON Schema: ``nullable`` becomes a null alternative, and an object
    with named properties admits no others (an undocumented key is a mismatch)."""
    if isinstance(node, list):
        return [json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: json_schema(value) for key, value in node.items()}
    if node.get("type") == "object" and "properties" in node:
        node.setdefault("additionalProperties", False)
    if node.pop("nullable", False):
        return {"anyOf": [node, {"type": "null"}]}
    return node


def operation_for(openapi, path: str, method: str) -> dict:
    # A literal path (products/match/) before a template that also matches it (products/{gtin}/).
    for template, operations in sorted(openapi["paths"].items(), key=lambda item: "{" in item[0]):
        pattern = re.sub(r"\\{[^/]+\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path) and method in operations:
            return operations[method]
    raise AssertionError(f"{method.upper()} {path} is not documented")


def assert_documented(openapi, response, method="get"):
    path = response.request["PATH_INFO"]
    operation = operation_for(openapi, path, method)
    documented = operation["responses"].get(str(response.status_code))
    assert documented is not None, f"{response.status_code} of {path} is not documented"
    schema = documented["content"]["application/json"]["schema"]
    document = json_schema(copy.deepcopy({**schema, "components": openapi["components"]}))
    jsonschema.validate(response.json(), document, cls=jsonschema.Draft7Validator)


def test_json_schema_refuses_an_undocumented_key_and_a_wrong_type():
    schema = json_schema(
        {"type": "object", "properties": {"mg": {"type": "number", "nullable": True}}}
    )

    jsonschema.validate({"mg": None}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"mg": 1, "extra": 2}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"mg": "1"}, schema)


READS = [
    f"{API}/products/?page_size=100",
    f"{API}/products/?indication=sleep&lang=en",
    f"{API}/products/{PUBLISHED}/",
    f"{API}/products/match/?indication=sleep,stress&medication=levothyroxine&lang=en",
    f"{API}/products/match/?indication=constipation&jurisdiction=us",
    f"{API}/compounds/",
    f"{API}/compounds/magnesium-bisglycinate/?lang=en",
    f"{API}/indications/",
    f"{API}/indications/sleep/",
    f"{API}/medications/",
    f"{API}/medications/levothyroxine/",
    f"{API}/calculate/elemental/?formula=MgCl2·6H2O&amount_mg=1000",
    f"{API}/advice/?compound=magnesium-bisglycinate&medication=levothyroxine,tetracyclines",
    f"{API}/advice/?product={PUBLISHED}&population=child-1-3&renal=severe&lang=en",
    f"{API}/products/?population=child-1-3&page_size=5",
    f"{API}/products/match/?indication=sleep&population=child-4-8&jurisdiction=us&renal=severe",
    f"{API}/symptoms/",
    f"{API}/risk-groups/",
]


@pytest.mark.parametrize("url", READS)
def test_read_responses_have_the_documented_shape(client, openapi, url):
    response = client.get(url)

    assert response.status_code == 200
    assert_documented(openapi, response)


@pytest.mark.parametrize(
    "url",
    [
        f"{API}/products/?indication=flying",
        f"{API}/products/0000000000000/",
        f"{API}/products/match/",
        f"{API}/calculate/elemental/?formula=NaCl",
    ],
)
def test_error_responses_have_the_documented_shape(client, openapi, url):
    response = client.get(url)

    assert response.status_code in (400, 404)
    assert_documented(openapi, response)


def test_write_responses_have_the_documented_shape(openapi, django_user_model):
    staff = api_client(django_user_model, "shop_staff")
    gtin = "2099800000011"

    created = send(staff, "post", body=product_body(gtin))
    changed = send(
        staff,
        "patch",
        gtin,
        {"status": "published"},
        if_match=f'"{Product.objects.get(gtin=gtin).version}"',
    )
    refused = send(staff, "post", body=product_body(gtin))

    assert (created.status_code, changed.status_code, refused.status_code) == (201, 200, 400)
    assert_documented(openapi, created, "post")
    assert_documented(openapi, changed, "patch")
    assert_documented(openapi, refused, "post")


REGIMEN_BODY = {
    "population": "pregnancy",
    "renal": "severe",
    "products": [{"gtin": "2073400012742"}, {"gtin": "2073800015480"}],
    "compounds": [{"compound": "magnesium-bisglycinate", "amount_mg": 500}],
    "supplements": [{"nutrient": "iron", "amount": 14}, {"nutrient": "zinc", "amount": 150}],
    "medications": ["levothyroxine:07:00", "ciprofloxacin:2x"],
}


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (REGIMEN_BODY, 200),
        ({**REGIMEN_BODY, "medications": ["doxycycline:3x"]}, 200),
        ({**REGIMEN_BODY, "population": "martians"}, 400),
    ],
)
def test_regimen_responses_have_the_documented_shape(client, openapi, body, status):
    response = client.post(f"{API}/regimen/", body, content_type="application/json")

    assert response.status_code == status
    assert_documented(openapi, response, "post")
