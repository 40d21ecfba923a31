"""The bad-input catalogue: every public endpoint x hostile inputs.

Each request must get a 4xx (or, where the input is harmless, a 2xx), never a 5xx; every
error carries the standard envelope; and the database is the same before and after.
Adding an endpoint is one line in ENDPOINTS; adding an input is one line in its table.
"""

import hashlib
import json
from decimal import Decimal

import pytest
from django.apps import apps
from django.urls import path
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from config.hygiene import MAX_JSON_BODY_BYTES
from config.parsers import StrictJSONParser, nesting_depth

pytestmark = pytest.mark.django_db

API = "/api/v1"
GTIN = "2073300015485"
FORTY_DIGITS = "1" * 40

# name -> a URL that answers 200 as it is. One line per endpoint.
ENDPOINTS = {
    "products": f"{API}/products/",
    "product": f"{API}/products/{GTIN}/",
    "compounds": f"{API}/compounds/",
    "compound": f"{API}/compounds/magnesium-oxide/",
    "indications": f"{API}/indications/",
    "indication": f"{API}/indications/sleep/",
    "medications": f"{API}/medications/",
    "medication": f"{API}/medications/gabapentin/",
    "calculator": f"{API}/calculate/elemental/?formula=MgO",
    "schema": f"{API}/schema/",
    "docs": f"{API}/docs/",
    "admin-login": "/admin/login/",
}
API_ENDPOINTS = {name: url for name, url in ENDPOINTS.items() if name not in {
    "schema", "docs", "admin-login"}}


def with_query(url, query):
    return f"{url}{'&' if '?' in url else '?'}{query}"


def in_path(url, segment):
    base, _, query = url.partition("?")
    return f"{base}{segment}/" + (f"?{query}" if query else "")


# Hostile inputs any endpoint may receive: name -> (build request kwargs from the URL,
# expected status, expected code in the envelope or its details).
EVERY_ENDPOINT = {
    "nul-in-path": (lambda u: {"path": in_path(u, "%00")}, 400, "control_character"),
    "escape-in-path": (lambda u: {"path": in_path(u, "%1b")}, 400, "control_character"),
    "c1-control-in-path": (lambda u: {"path": in_path(u, "%C2%85")}, 400, "control_character"),
    "invalid-utf8-in-path": (lambda u: {"path": in_path(u, "%ff%fe")}, 400, "invalid_encoding"),
    "nul-in-query": (lambda u: {"path": with_query(u, "x=a%00b")}, 400, "control_character"),
    "newline-in-query-name": (lambda u: {"path": with_query(u, "a%0Ab=1")}, 400,
                              "control_character"),
    "invalid-utf8-in-query": (lambda u: {"path": with_query(u, "x=%C3%28")}, 400,
                              "invalid_encoding"),
    "raw-invalid-utf8-in-query": (lambda u: {"path": u, "QUERY_STRING": "x=\xff\xfe"}, 400,
                                  "invalid_encoding"),
    "overlong-query": (lambda u: {"path": with_query(u, "x=" + "a" * 5000)}, 400,
                       "query_too_long"),
    "too-many-parameters": (lambda u: {"path": with_query(
        u, "&".join(f"p{i}=1" for i in range(80)))}, 400, "too_many_parameters"),
    "nul-in-header": (lambda u: {"path": u, "HTTP_ACCEPT_LANGUAGE": "en\x00"}, 400,
                      "control_character"),
    "newline-in-header": (lambda u: {"path": u, "HTTP_X_SHOP": "a\r\nSet-Cookie: x=1"}, 400,
                          "control_character"),
    "unknown-language": (lambda u: {"path": with_query(u, "lang=xx")}, 400, "invalid_choice"),
}

# Inputs aimed at one endpoint's parameters: (endpoint, query or path, status, code).
# A 2xx row is an input that is harmless and must be answered normally.
PER_ENDPOINT = [
    ("products", "min_elemental_mg=1e400", 400, "out_of_range"),
    ("products", "min_elemental_mg=NaN", 400, "invalid"),
    ("products", "max_elemental_mg=Infinity", 400, "invalid"),
    ("products", "max_elemental_mg=-Infinity", 400, "invalid"),
    ("products", f"min_elemental_mg={FORTY_DIGITS}", 400, "invalid"),
    ("products", "min_elemental_mg=-1", 400, "out_of_range"),
    ("products", "min_elemental_mg=-0", 200, None),
    ("products", "min_elemental_mg=0x10", 400, "invalid"),
    ("products", "min_elemental_mg=1&min_elemental_mg=2", 400, "repeated_parameter"),
    ("products", "min_elemental_mg[]=1", 400, "unknown_parameter"),
    ("products", "vegan=true&vegan=false", 400, "repeated_parameter"),
    ("products", "vegan=1", 400, "invalid"),
    ("products", "colour=red", 400, "unknown_parameter"),
    ("products", "indications=sleep", 400, "unknown_parameter"),
    ("products", "cursor=cD0yMDI0LTAxLTAx", 400, "unknown_parameter"),
    ("products", "page=0", 400, "invalid"),
    ("products", "page=-1", 400, "invalid"),
    ("products", f"page={10**20}", 400, "invalid"),
    ("products", "page=999999", 400, "invalid_parameter"),
    ("products", "page=1&page=2", 400, "repeated_parameter"),
    ("products", f"page_size={10**6}", 400, "invalid"),
    ("products", "page_size=0", 400, "invalid"),
    ("products", "ordering=secret", 400, "invalid_choice"),
    ("products", "ordering=status", 400, "invalid_choice"),
    ("products", "ordering=-id", 400, "invalid_choice"),
    ("products", "ordering=brand__name", 400, "invalid_choice"),
    ("products", "ordering=price_eur", 400, "invalid_choice"),
    ("products", "indication=%27%20OR%201%3D1%20--", 400, "unknown_slug"),
    ("products", "brand=%7B%7B7*7%7D%7D", 400, "unknown_slug"),
    ("products", "carrier=%25(kind)s", 400, "unknown_slug"),
    ("products", "indication=" + ",".join(f"s{i}" for i in range(21)), 400, "too_many"),
    ("products", "indication=" + "a" * 3000, 400, "unknown_slug"),
    ("products", "search=%27%3B%20DROP%20TABLE%20products_product%3B%20--", 200, None),
    ("products", "search=%7B%7B7*7%7D%7D%7B%25%20debug%20%25%7D", 200, None),
    ("products", "search=" + "x" * 101, 400, "max_length"),
    ("products", "within_upper_limit=mars", 400, "invalid_choice"),
    ("product", "/api/v1/products/2073300015486/", 404, "not_found"),
    ("product", "/api/v1/products/1234567/", 404, "not_found"),
    ("product", f"/api/v1/products/{FORTY_DIGITS}/", 404, "not_found"),
    ("product", "/api/v1/products/%27%20OR%201=1/", 404, "not_found"),
    ("product", f"/api/v1/products/{GTIN}/?unknown=1", 400, "unknown_parameter"),
    ("compounds", "min_elemental_percent=NaN", 400, "invalid"),
    ("compounds", "max_elemental_percent=101", 400, "out_of_range"),
    ("compounds", "min_elemental_percent=-0.5", 400, "out_of_range"),
    ("compounds", "ordering=formula", 400, "invalid_choice"),
    ("compounds", "classification=organic&classification=inorganic", 200, None),
    ("compound", "/api/v1/compounds/" + "a" * 61 + "/", 404, "not_found"),
    ("compound", "/api/v1/compounds/Magnesium-Oxide/", 404, "not_found"),
    ("compound", "/api/v1/compounds/%3Cscript%3E/", 404, "not_found"),
    ("indications", f"page_size={10**6}", 400, "invalid"),
    ("indications", "search=sleep", 400, "unknown_parameter"),
    ("medications", "page=abc", 400, "invalid"),
    ("medication", "/api/v1/medications/..%2F..%2Fetc%2Fpasswd/", 404, "not_found"),
    ("calculator", f"{API}/calculate/elemental/?formula=Mg(OH", 400, "unbalanced"),
    ("calculator", f"{API}/calculate/elemental/?formula=NaCl", 400, "no_magnesium"),
    ("calculator", f"{API}/calculate/elemental/?formula=mgo", 400, "lowercase_element"),
    ("calculator", f"{API}/calculate/elemental/?formula=Mg9999O", 400, "count_too_large"),
    ("calculator", f"{API}/calculate/elemental/?formula=MgCl%C2%B2", 400,
     "unexpected_character"),
    ("calculator", f"{API}/calculate/elemental/?formula=Mg%D9%A3O", 400,
     "unexpected_character"),
    ("calculator", f"{API}/calculate/elemental/?formula=" + "MgO" * 70, 400, "max_length"),
    ("calculator", f"{API}/calculate/elemental/?formula=" + "Mg" * 5000, 400, "query_too_long"),
    ("calculator", f"{API}/calculate/elemental/", 400, "required"),
    ("calculator", f"{API}/calculate/elemental/?formula=MgO&formula=MgCl2", 400,
     "repeated_parameter"),
    ("calculator", f"{API}/calculate/elemental/?formula=MgO&amount=5", 400,
     "unknown_parameter"),
    ("calculator", f"{API}/calculate/elemental/?formula=MgO&amount_mg=-1", 400, "out_of_range"),
    ("calculator", f"{API}/calculate/elemental/?formula=MgO&amount_mg=0", 200, None),
    ("calculator", f"{API}/calculate/elemental/?formula=MgO&amount_mg=-0", 200, None),
    ("calculator", f"{API}/calculate/elemental/?formula=MgO&amount_mg=NaN", 400, "invalid"),
    ("calculator", f"{API}/calculate/elemental/?formula=MgO&amount_mg=1e400", 400,
     "out_of_range"),
    ("calculator", f"{API}/calculate/elemental/?formula=MgO&amount_mg={FORTY_DIGITS}", 400,
     "invalid"),
    ("calculator", f"{API}/calculate/elemental/?formula=%7B%7B7*7%7D%7D", 400,
     "unexpected_character"),
]


def database_fingerprint():
    """Row count and a checksum of every table's rows."""
    fingerprint = {}
    for model in apps.get_models():
        rows = list(model.objects.order_by("pk").values_list())
        fingerprint[model._meta.label] = (
            len(rows), hashlib.sha256(repr(rows).encode()).hexdigest()
        )
    return fingerprint


@pytest.fixture
def unchanged_database():
    before = database_fingerprint()
    yield
    assert database_fingerprint() == before


def send(client, method="get", path="/", body=None, content_type=None, **headers):
    if method == "get":
        return client.get(path, **headers)
    return client.generic(method.upper(), path, body or b"", content_type=content_type,
                          **headers)


def assert_answer(response, status, code):
    assert response.status_code < 500, response.content
    assert response.status_code == status, response.content
    if status < 400:
        return
    body = response.json()
    error = body["error"]
    assert set(body) == {"error"}
    assert set(error) == {"status", "code", "message", "details"}
    assert error["status"] == status
    assert isinstance(error["message"], str) and error["message"]
    assert all(set(d) == {"field", "code", "message"} for d in error["details"])
    assert code in {error["code"], *(d["code"] for d in error["details"])}, body
    assert b"Traceback" not in response.content


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_every_catalogue_endpoint_answers_200_untouched(client, endpoint):
    assert client.get(ENDPOINTS[endpoint]).status_code == 200


@pytest.mark.parametrize("hostile", EVERY_ENDPOINT)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_hostile_request_gets_a_4xx_envelope_and_changes_nothing(
    client, unchanged_database, endpoint, hostile
):
    build, status, code = EVERY_ENDPOINT[hostile]

    response = client.get(**build(ENDPOINTS[endpoint]))

    assert_answer(response, status, code)


@pytest.mark.parametrize(("endpoint", "request_", "status", "code"), PER_ENDPOINT)
def test_hostile_parameter_gets_a_4xx_envelope_and_changes_nothing(
    client, unchanged_database, endpoint, request_, status, code
):
    url = request_ if request_.startswith("/") else with_query(ENDPOINTS[endpoint], request_)

    response = client.get(url)

    assert_answer(response, status, code)


def test_template_injection_in_a_parameter_is_echoed_not_evaluated(client):
    body = client.get(f"{API}/products/?brand=%7B%7B7*7%7D%7D%25(kind)s").json()

    assert body["error"]["details"][0]["message"] == "Unknown brand: {{7*7}}%(kind)s."


def test_sql_injection_in_search_finds_nothing_and_drops_nothing(client, unchanged_database):
    body = client.get(f"{API}/products/?search=%27%20OR%20%271%27%3D%271").json()

    assert body["results"] == []


# Bodies sent anonymously: the read-only endpoints refuse the method and the product
# endpoints refuse the client, both before reading the body; a missing Content-Type is
# refused by the hygiene middleware before either.
WRITABLE_ENDPOINTS = {"products", "product"}
BODIES = {
    "json-without-content-type": (b'{"name": "x"}', None, 415, "unsupported_media_type"),
    "wrong-content-type": (b"name=x", "text/plain", 405, "method_not_allowed"),
    "deeply-nested": (b"[" * 10_000 + b"]" * 10_000, "application/json", 405,
                      "method_not_allowed"),
}


@pytest.mark.parametrize("body", BODIES)
@pytest.mark.parametrize("endpoint", API_ENDPOINTS)
def test_body_sent_to_a_read_endpoint_is_refused(client, unchanged_database, endpoint, body):
    data, content_type, status, code = BODIES[body]
    if endpoint in WRITABLE_ENDPOINTS and status == 405:
        status, code = 401, "not_authenticated"

    response = send(client, "post", ENDPOINTS[endpoint], data, content_type)

    assert_answer(response, status, code)


# The strict JSON parser, through a view that takes a body (the write API's stand-in).
class EchoSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    amount_mg = serializers.DecimalField(max_digits=10, decimal_places=3, min_value=0)


class EchoView(APIView):
    def post(self, request):
        serializer = EchoSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response({"name": serializer.validated_data["name"],
                         "amount_mg": str(serializer.validated_data["amount_mg"])})


urlpatterns = [path("api/v1/echo/", EchoView.as_view())]
ECHO = "/api/v1/echo/"
JSON = "application/json"

ECHO_BODIES = [
    ("valid", b'{"name": "ok", "amount_mg": 12.5}', JSON, 200, None),
    ("valid-with-charset", b'{"name": "ok", "amount_mg": 1}', f"{JSON}; charset=utf-8", 200,
     None),
    ("wrong-content-type", b'{"name": "ok", "amount_mg": 1}', "text/plain", 415,
     "unsupported_media_type"),
    ("form-content-type", b"name=ok&amount_mg=1", "application/x-www-form-urlencoded", 415,
     "unsupported_media_type"),
    ("absent-content-type", b'{"name": "ok", "amount_mg": 1}', None, 415,
     "unsupported_media_type"),
    ("nested-10000-deep", b"[" * 10_000 + b"]" * 10_000, JSON, 400, "too_deeply_nested"),
    ("nested-objects", b'{"a":' * 40 + b"1" + b"}" * 40, JSON, 400, "too_deeply_nested"),
    ("over-size-limit", json.dumps({"name": "x" * MAX_JSON_BODY_BYTES}).encode(), JSON, 413,
     "request_too_large"),
    ("nan", b'{"name": "ok", "amount_mg": NaN}', JSON, 400, "invalid_number"),
    ("infinity", b'{"name": "ok", "amount_mg": Infinity}', JSON, 400, "invalid_number"),
    ("minus-infinity", b'{"name": "ok", "amount_mg": -Infinity}', JSON, 400, "invalid_number"),
    ("1e400", b'{"name": "ok", "amount_mg": 1e400}', JSON, 400, "max_digits"),
    ("forty-digit-integer", b'{"name": "ok", "amount_mg": ' + FORTY_DIGITS.encode() + b"}",
     JSON, 400, "max_digits"),
    ("huge-integer", b'{"name": "ok", "amount_mg": ' + b"9" * 5000 + b"}", JSON, 400,
     "number_too_long"),
    ("negative-amount", b'{"name": "ok", "amount_mg": -1}', JSON, 400, "min_value"),
    ("minus-zero", b'{"name": "ok", "amount_mg": -0}', JSON, 200, None),
    ("array-for-scalar", b'{"name": ["ok"], "amount_mg": 1}', JSON, 400, "invalid"),
    ("array-for-object", b'[{"name": "ok", "amount_mg": 1}]', JSON, 400, "invalid"),
    ("escaped-nul-in-value", b'{"name": "a\\u0000b", "amount_mg": 1}', JSON, 400,
     "control_character"),
    ("escaped-nul-in-key", b'{"na\\u0000me": "ok", "amount_mg": 1}', JSON, 400,
     "control_character"),
    ("raw-control-character", b'{"name": "a\x01b", "amount_mg": 1}', JSON, 400,
     "invalid_json"),
    ("invalid-utf8", b'{"name": "\xff\xfe", "amount_mg": 1}', JSON, 400, "invalid_encoding"),
    ("truncated", b'{"name": "ok", "amount_mg": 1', JSON, 400, "invalid_json"),
    ("overlong-string", json.dumps({"name": "x" * 10_000, "amount_mg": 1}).encode(), JSON, 400,
     "max_length"),
    ("template-injection", b'{"name": "{{7*7}}", "amount_mg": 1}', JSON, 200, None),
]


@pytest.mark.urls("tests.test_bad_input")
@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [row[1:] for row in ECHO_BODIES], ids=[row[0] for row in ECHO_BODIES],
)
def test_json_body_is_parsed_strictly(client, unchanged_database, body, content_type, status,
                                      code):
    response = send(client, "post", ECHO, body, content_type)

    assert_answer(response, status, code)


@pytest.mark.urls("tests.test_bad_input")
def test_template_injection_in_a_body_is_stored_as_text(client):
    body = send(client, "post", ECHO, b'{"name": "{{7*7}}", "amount_mg": 1.25}', JSON).json()

    assert body == {"name": "{{7*7}}", "amount_mg": "1.250"}


def test_parser_keeps_decimals_exact():
    parsed = StrictJSONParser().parse(_Stream(b'{"a": 0.1, "b": 1e400, "c": 40}'))

    assert parsed == {"a": Decimal("0.1"), "b": Decimal("1E+400"), "c": 40}


@pytest.mark.parametrize(
    ("raw", "depth"),
    [(b"1", 0), (b"[]", 1), (b'{"a": [1, {"b": []}]}', 4), (b'["[[[", "]"]', 1),
     (b'["\\"[[["]', 1)],
)
def test_nesting_depth_ignores_brackets_inside_strings(raw, depth):
    assert nesting_depth(raw) == depth


class _Stream:
    def __init__(self, raw):
        self.raw = raw

    def read(self, size=-1):
        return self.raw if size < 0 else self.raw[:size]
