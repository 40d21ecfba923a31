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
from django.contrib.auth.models import Group
from knox.models import AuthToken

from config.hygiene import MAX_JSON_BODY_BYTES
from config.parsers import StrictJSONParser, nesting_depth
from products.enums import ProductStatus
from products.models import Product

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
    "match": f"{API}/products/match/?indication=sleep",
    "advice": f"{API}/advice/?compound=magnesium-bisglycinate&medication=levothyroxine",
    "symptoms": f"{API}/symptoms/",
    "risk-groups": f"{API}/risk-groups/",
    "healthz": "/healthz",
    "readyz": "/readyz",
    "schema": f"{API}/schema/",
    "docs": f"{API}/docs/",
    "admin-login": "/admin/login/",
}
API_ENDPOINTS = {
    name: url
    for name, url in ENDPOINTS.items()
    if name not in {"schema", "docs", "admin-login", "healthz", "readyz"}
}


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
    "newline-in-query-name": (
        lambda u: {"path": with_query(u, "a%0Ab=1")},
        400,
        "control_character",
    ),
    "invalid-utf8-in-query": (
        lambda u: {"path": with_query(u, "x=%C3%28")},
        400,
        "invalid_encoding",
    ),
    "raw-invalid-utf8-in-query": (
        lambda u: {"path": u, "QUERY_STRING": "x=\xff\xfe"},
        400,
        "invalid_encoding",
    ),
    "overlong-query": (lambda u: {"path": with_query(u, "x=" + "a" * 5000)}, 400, "query_too_long"),
    "too-many-parameters": (
        lambda u: {"path": with_query(u, "&".join(f"p{i}=1" for i in range(80)))},
        400,
        "too_many_parameters",
    ),
    "nul-in-header": (
        lambda u: {"path": u, "HTTP_ACCEPT_LANGUAGE": "en\x00"},
        400,
        "control_character",
    ),
    "newline-in-header": (
        lambda u: {"path": u, "HTTP_X_SHOP": "a\r\nSet-Cookie: x=1"},
        400,
        "control_character",
    ),
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
    # Decimal() reads Arabic-Indic and fullwidth digits; a number parameter takes 0-9 only.
    ("products", "min_elemental_mg=%D9%A1%D9%A0%D9%A0", 400, "invalid"),
    ("products", "max_elemental_mg=%EF%BC%91%EF%BC%90", 400, "invalid"),
    ("compounds", "min_elemental_percent=%E0%A5%A7", 400, "invalid"),
    ("match", "max_daily_elemental_mg=%D9%A1", 400, "invalid"),
    # The 20-value limit counts what was sent: repeats of one value are values too.
    ("products", "&".join(["indication=sleep"] * 21), 400, "too_many"),
    ("products", "&".join(["brand=lindeblad,lindeblad"] * 11), 400, "too_many"),
    ("advice", "&".join(["medication=levothyroxine"] * 21), 400, "too_many"),
    ("products", "&".join(["indication=sleep"] * 20), 200, None),
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
    ("calculator", f"{API}/calculate/elemental/?formula=MgCl%C2%B2", 400, "unexpected_character"),
    ("calculator", f"{API}/calculate/elemental/?formula=Mg%D9%A3O", 400, "unexpected_character"),
    ("calculator", f"{API}/calculate/elemental/?formula=" + "MgO" * 70, 400, "max_length"),
    ("calculator", f"{API}/calculate/elemental/?formula=" + "Mg" * 5000, 400, "query_too_long"),
    ("calculator", f"{API}/calculate/elemental/", 400, "required"),
    # Nested counts multiply past what Decimal arithmetic keeps (a 500 before).
    (
        "calculator",
        f"{API}/calculate/elemental/?formula=((((((((Mg)999)999)999)999)999)999)999)999",
        400,
        "count_too_large",
    ),
    ("calculator", f"{API}/calculate/elemental/?formula=(Mg)999(O)999(H)999", 200, None),
    ("calculator", f"{API}/calculate/elemental/?formula=((Mg)999)11", 400, "count_too_large"),
    (
        "calculator",
        f"{API}/calculate/elemental/?formula=MgO&formula=MgCl2",
        400,
        "repeated_parameter",
    ),
    ("calculator", f"{API}/calculate/elemental/?formula=MgO&amount=5", 400, "unknown_parameter"),
    ("calculator", f"{API}/calculate/elemental/?formula=MgO&amount_mg=-1", 400, "out_of_range"),
    ("calculator", f"{API}/calculate/elemental/?formula=MgO&amount_mg=0", 200, None),
    ("calculator", f"{API}/calculate/elemental/?formula=MgO&amount_mg=-0", 200, None),
    ("calculator", f"{API}/calculate/elemental/?formula=MgO&amount_mg=NaN", 400, "invalid"),
    ("calculator", f"{API}/calculate/elemental/?formula=MgO&amount_mg=1e400", 400, "out_of_range"),
    (
        "calculator",
        f"{API}/calculate/elemental/?formula=MgO&amount_mg={FORTY_DIGITS}",
        400,
        "invalid",
    ),
    (
        "calculator",
        f"{API}/calculate/elemental/?formula=%7B%7B7*7%7D%7D",
        400,
        "unexpected_character",
    ),
    ("match", "max_daily_elemental_mg=1e400", 400, "out_of_range"),
    ("match", "max_daily_elemental_mg=NaN", 400, "invalid"),
    ("match", f"max_daily_elemental_mg={FORTY_DIGITS}", 400, "invalid"),
    ("match", "max_daily_elemental_mg=-1", 400, "out_of_range"),
    ("match", "max_daily_elemental_mg=0", 200, None),
    ("match", "jurisdiction=mars", 400, "invalid_choice"),
    ("match", "exclude_laxative=maybe", 400, "invalid"),
    ("match", "medication=%27%20OR%201%3D1%20--", 400, "unknown_slug"),
    ("match", "indication=sleep", 200, None),
    ("match", f"page_size={10**6}", 400, "invalid"),
    pytest.param("match", "ordering=-score", 400, "unknown_parameter"),
    pytest.param("match", "score=100", 400, "unknown_parameter"),
    ("match", f"{API}/products/match/", 400, "required"),
    ("match", f"{API}/products/match/?indication=" + "a" * 3000, 400, "unknown_slug"),
    ("match", f"{API}/products/match/?indication=%7B%7B7*7%7D%7D", 400, "unknown_slug"),
    ("advice", f"{API}/advice/", 400, "exactly_one"),
    ("advice", "product=2073300015485", 400, "exactly_one"),
    ("advice", f"{API}/advice/?product=2073300015486", 400, "unknown_gtin"),
    ("advice", f"{API}/advice/?product={FORTY_DIGITS}", 400, "invalid"),
    ("advice", f"{API}/advice/?compound=%7B%7B7*7%7D%7D", 400, "invalid"),
    ("advice", "compound=magnesium-citrate-tri-anhydrous", 400, "repeated_parameter"),
    ("advice", "medication=" + ",".join(f"m{i}" for i in range(21)), 400, "too_many"),
    ("advice", "medication=%27%3B%20DROP%20TABLE%20x%3B", 400, "unknown_slug"),
    ("advice", "medication=levothyroxine", 200, None),
    ("advice", "medications=levothyroxine", 400, "unknown_parameter"),
    ("symptoms", "page=0", 400, "unknown_parameter"),
    ("symptoms", f"page_size={10**6}", 400, "unknown_parameter"),
    ("symptoms", "search=x", 400, "unknown_parameter"),
    ("symptoms", "ordering=id", 400, "unknown_parameter"),
    ("risk-groups", "page=abc", 400, "unknown_parameter"),
    ("risk-groups", "cursor=cD0x", 400, "unknown_parameter"),
    # The probes take no parameters and read none: harmless, answered as usual.
    ("healthz", "/healthz?x=1", 200, None),
    ("readyz", "/readyz?check=all", 200, None),
]


def database_fingerprint():
    """Row count and a checksum of every table's rows."""
    fingerprint = {}
    for model in apps.get_models():
        rows = list(model.objects.order_by("pk").values_list())
        fingerprint[model._meta.label] = (
            len(rows),
            hashlib.sha256(repr(rows).encode()).hexdigest(),
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
    return client.generic(method.upper(), path, body or b"", content_type=content_type, **headers)


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
    "deeply-nested": (b"[" * 10_000 + b"]" * 10_000, "application/json", 405, "method_not_allowed"),
}


@pytest.mark.parametrize("body", BODIES)
@pytest.mark.parametrize("endpoint", API_ENDPOINTS)
def test_body_sent_to_a_read_endpoint_is_refused(client, unchanged_database, endpoint, body):
    data, content_type, status, code = BODIES[body]
    if endpoint in WRITABLE_ENDPOINTS and status == 405:
        status, code = 401, "not_authenticated"

    response = send(client, "post", ENDPOINTS[endpoint], data, content_type)

    assert_answer(response, status, code)


# Hostile bodies sent with a shop-staff token to the real write endpoints: POST products/,
# and PUT and PATCH products/{gtin}/ with the draft's current If-Match, so that only the body
# can be what is refused. Each body is a valid product with one thing wrong.
JSON = "application/json"
WRITE_GTIN = "2099800000011"
BAD_CHECK_DIGIT_GTIN = "2099800000012"


def valid_body(**changes):
    body = {
        "gtin": WRITE_GTIN,
        "brand": "noctura",
        "name": "Nachtrust",
        "dosage_form": "capsule",
        "units_per_package": 60,
        "units_per_serving": 2,
        "servings_per_day": 1,
        "ingredients": [
            {"compound": "magnesium-bisglycinate", "amount_mg": 1000, "amount_basis": "compound"}
        ],
    }
    return {**body, **changes}


def with_line(**changes):
    return valid_body(ingredients=[{**valid_body()["ingredients"][0], **changes}])


def encoded(body) -> bytes:
    return json.dumps(body).encode()


def raw_amount(number: bytes) -> bytes:
    """A valid body whose first amount_mg is ``number`` written as is (NaN, 1e400, ...)."""
    return encoded(with_line(amount_mg=12345)).replace(b"12345", number)


# name -> (body bytes, Content-Type, status, code in the envelope or its details)
WRITE_BODIES = {
    "wrong-content-type": (encoded(valid_body()), "text/plain", 415, "unsupported_media_type"),
    "form-content-type": (
        b"name=ok",
        "application/x-www-form-urlencoded",
        415,
        "unsupported_media_type",
    ),
    "absent-content-type": (encoded(valid_body()), None, 415, "unsupported_media_type"),
    "nested-10000-deep": (b"[" * 10_000 + b"]" * 10_000, JSON, 400, "too_deeply_nested"),
    "nested-objects": (b'{"a":' * 40 + b"1" + b"}" * 40, JSON, 400, "too_deeply_nested"),
    "over-size-limit": (
        encoded(valid_body(name="x" * MAX_JSON_BODY_BYTES)),
        JSON,
        413,
        "request_too_large",
    ),
    "nan": (raw_amount(b"NaN"), JSON, 400, "invalid_number"),
    "infinity": (raw_amount(b"Infinity"), JSON, 400, "invalid_number"),
    "minus-infinity": (raw_amount(b"-Infinity"), JSON, 400, "invalid_number"),
    "1e400": (raw_amount(b"1e400"), JSON, 400, "max_digits"),
    "forty-digit-amount": (raw_amount(FORTY_DIGITS.encode()), JSON, 400, "max_digits"),
    "forty-digit-units": (
        encoded(valid_body(units_per_package=int(FORTY_DIGITS))),
        JSON,
        400,
        "max_value",
    ),
    "5000-digit-number": (raw_amount(b"9" * 5000), JSON, 400, "number_too_long"),
    "negative-amount": (encoded(with_line(amount_mg=-1)), JSON, 400, "min_value"),
    "zero-amount": (encoded(with_line(amount_mg=0)), JSON, 400, "min_value"),
    "minus-zero-amount": (raw_amount(b"-0"), JSON, 400, "min_value"),
    "minus-zero-float-amount": (raw_amount(b"-0.0"), JSON, 400, "min_value"),
    "zero-servings": (encoded(valid_body(servings_per_day=0)), JSON, 400, "min_value"),
    "negative-price": (encoded(valid_body(price_eur=-5)), JSON, 400, "min_value"),
    "array-for-scalar": (encoded(valid_body(name=["Nachtrust"])), JSON, 400, "invalid"),
    "array-for-slug": (encoded(valid_body(brand=["noctura"])), JSON, 400, "invalid"),
    "object-for-lines": (
        encoded(valid_body(ingredients={"compound": "magnesium-oxide"})),
        JSON,
        400,
        "not_a_list",
    ),
    "array-for-object": (encoded([valid_body()]), JSON, 400, "invalid"),
    "unknown-field": (encoded(valid_body(colour="red")), JSON, 400, "unknown_field"),
    "read-only-field": (encoded(valid_body(elemental_mg_per_day=5)), JSON, 400, "read_only"),
    "read-only-version": (encoded(valid_body(version=99)), JSON, 400, "read_only"),
    "read-only-line-field": (encoded(with_line(elemental_mg=999)), JSON, 400, "read_only"),
    "escaped-nul-in-value": (encoded(valid_body(name="a\x00b")), JSON, 400, "control_character"),
    "escaped-nul-in-key": (
        encoded({**valid_body(), "na\x00me": "x"}),
        JSON,
        400,
        "control_character",
    ),
    "escaped-escape-in-line": (
        encoded(with_line(amount_basis="compound\x1b")),
        JSON,
        400,
        "control_character",
    ),
    "raw-control-character": (
        encoded(valid_body()).replace(b"Nachtrust", b"Nacht\x01rust"),
        JSON,
        400,
        "invalid_json",
    ),
    "invalid-utf8": (
        encoded(valid_body()).replace(b"Nachtrust", b"\xff\xfe"),
        JSON,
        400,
        "invalid_encoding",
    ),
    "truncated": (encoded(valid_body())[:-1], JSON, 400, "invalid_json"),
    "overlong-name": (encoded(valid_body(name="x" * 10_000)), JSON, 400, "max_length"),
    "overlong-slug": (encoded(valid_body(brand="b" * 10_000)), JSON, 400, "unknown_slug"),
    "sql-injection-slug": (
        encoded(valid_body(brand="noctura'; DROP TABLE products_product;--")),
        JSON,
        400,
        "unknown_slug",
    ),
    "template-injection-slug": (
        encoded(with_line(compound="{{7*7}}{% debug %}")),
        JSON,
        400,
        "unknown_slug",
    ),
    "unknown-dosage-form": (
        encoded(valid_body(dosage_form="suppository")),
        JSON,
        400,
        "invalid_choice",
    ),
    "unknown-basis": (encoded(with_line(amount_basis="ion")), JSON, 400, "invalid_choice"),
    "no-lines": (encoded(valid_body(ingredients=[])), JSON, 400, "invalid"),
    "empty-object": (b"{}", JSON, 400, "required"),
    "null-body": (b"null", JSON, 400, "null"),
    # json.loads keeps the last of two equal keys: which name was meant?
    "duplicate-key": (
        encoded(valid_body()).replace(b'"name": "Nachtrust"', b'"name": "A", "name": "B"'),
        JSON,
        400,
        "duplicate_key",
    ),
    "duplicate-key-in-a-line": (
        encoded(valid_body()).replace(b'"amount_mg": 1000', b'"amount_mg": 1, "amount_mg": 1000'),
        JSON,
        400,
        "duplicate_key",
    ),
}
# Only a new product's GTIN is read; PUT and PATCH refuse any GTIN other than the URL's.
CREATE_BODIES = {
    "gtin-bad-check-digit": (
        encoded(valid_body(gtin=BAD_CHECK_DIGIT_GTIN)),
        400,
        "gtin_check_digit",
    ),
    "gtin-forty-digits": (encoded(valid_body(gtin=FORTY_DIGITS)), 400, "max_length"),
    "gtin-letters": (encoded(valid_body(gtin="20998OOOOOO11")), 400, "gtin_not_digits"),
    "gtin-sql-injection": (encoded(valid_body(gtin="' OR 1=1 --")), 400, "gtin_not_digits"),
    "gtin-in-use": (encoded(valid_body(gtin="2073300015485")), 400, "unique"),
    # The same trade item as 2073300015485, padded to 14 digits as GS1 compares them.
    "gtin-in-use-with-a-leading-zero": (
        encoded(valid_body(gtin="02073300015485")),
        400,
        "gtin_not_canonical",
    ),
    "gtin-8-padded-to-13": (encoded(valid_body(gtin="0000096385074")), 400, "gtin_not_canonical"),
}
PATCH_ONLY = {"empty-object"}  # an empty PATCH is a valid no-op save


@pytest.fixture
def staff_headers(django_user_model):
    user = django_user_model.objects.create_user(username="winkel", password="x")
    user.groups.add(Group.objects.get(name="Shop staff"))
    _, token = AuthToken.objects.create(user)
    return {"HTTP_AUTHORIZATION": f"Token {token}", "HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def write_draft():
    product = Product.objects.get(gtin=GTIN)
    product.status = ProductStatus.DRAFT
    product.save()
    return product


def write_requests(draft):
    """(method, path, If-Match) of each write that takes a body."""
    etag = f'"{draft.version}"'
    return [
        ("post", f"{API}/products/", None),
        ("put", f"{API}/products/{draft.gtin}/", etag),
        ("patch", f"{API}/products/{draft.gtin}/", etag),
    ]


@pytest.mark.parametrize("body", WRITE_BODIES)
def test_hostile_body_to_a_write_endpoint_gets_a_4xx_envelope_and_writes_nothing(
    client, staff_headers, write_draft, body
):
    data, content_type, status, code = WRITE_BODIES[body]
    before = database_fingerprint()

    for method, path_, if_match in write_requests(write_draft):
        if method == "patch" and body in PATCH_ONLY:
            continue
        headers = {**staff_headers, **({"HTTP_IF_MATCH": if_match} if if_match else {})}
        if method != "post":  # the draft's own GTIN, so that only the hostile part is wrong
            data = data.replace(WRITE_GTIN.encode(), write_draft.gtin.encode())
        response = send(client, method, path_, data, content_type, **headers)

        assert_answer(response, status, code)
        assert database_fingerprint() == before, method


@pytest.mark.parametrize("body", CREATE_BODIES)
def test_hostile_gtin_in_a_new_product_is_refused_and_writes_nothing(
    client, staff_headers, unchanged_database, body
):
    data, status, code = CREATE_BODIES[body]

    response = send(client, "post", f"{API}/products/", data, JSON, **staff_headers)

    assert_answer(response, status, code)


# Hostile If-Match headers and GTINs in the URL of the writes that take no body.
HOSTILE_DELETES = [
    (GTIN, {"HTTP_IF_MATCH": '"1"\x00'}, 400, "control_character"),
    (GTIN, {"HTTP_IF_MATCH": "' OR 1=1 --"}, 412, "stale_version"),
    (GTIN, {"HTTP_IF_MATCH": "W/" + '"1"' * 2000}, 412, "stale_version"),
    (GTIN, {}, 428, "if_match_required"),
    ("2073300015486", {"HTTP_IF_MATCH": "*"}, 404, "not_found"),
    (FORTY_DIGITS, {"HTTP_IF_MATCH": "*"}, 404, "not_found"),
    ("%27%20OR%201=1", {"HTTP_IF_MATCH": "*"}, 404, "not_found"),
    ("2073300015485%00", {"HTTP_IF_MATCH": "*"}, 400, "control_character"),
]


@pytest.mark.parametrize(("gtin", "headers", "status", "code"), HOSTILE_DELETES)
def test_hostile_delete_gets_a_4xx_envelope_and_deletes_nothing(
    client, staff_headers, write_draft, gtin, headers, status, code
):
    before = database_fingerprint()

    response = client.delete(f"{API}/products/{gtin}/", **staff_headers, **headers)

    assert_answer(response, status, code)
    assert database_fingerprint() == before


def test_template_and_sql_text_in_a_body_is_stored_as_text(client, staff_headers):
    name = "{{7*7}}{% debug %}'; DROP TABLE products_product; --"
    body = encoded(valid_body(name=name))

    response = send(client, "post", f"{API}/products/", body, JSON, **staff_headers)

    assert response.status_code == 201, response.content
    assert response.json()["name"] == name
    assert Product.objects.get(gtin=WRITE_GTIN).name == name


def test_parser_keeps_decimals_exact():
    parsed = StrictJSONParser().parse(_Stream(b'{"a": 0.1, "b": 1e400, "c": 40}'))

    assert parsed == {"a": Decimal("0.1"), "b": Decimal("1E+400"), "c": 40}


@pytest.mark.parametrize(
    ("raw", "depth"),
    [
        (b"1", 0),
        (b"[]", 1),
        (b'{"a": [1, {"b": []}]}', 4),
        (b'["[[[", "]"]', 1),
        (b'["\\"[[["]', 1),
    ],
)
def test_nesting_depth_ignores_brackets_inside_strings(raw, depth):
    assert nesting_depth(raw) == depth


class _Stream:
    def __init__(self, raw):
        self.raw = raw

    def read(self, size=-1):
        return self.raw if size < 0 else self.raw[:size]
