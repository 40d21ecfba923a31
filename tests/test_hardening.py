"""Hardening, round 2: each finding of the attack test, with the behaviour that fixes it.

Bodies read whole or refused (chunked transfer encoding), the response cache keyed by scheme
and host and revalidating only what it stored, CORS for conditional writes, and no demo
superuser in production.
"""

import io
import json
import sys

import pytest
from django.contrib.auth.models import Group
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from knox.models import AuthToken

from config.wsgi import application
from products.models import Product

pytestmark = pytest.mark.django_db

API = "/api/v1"
GTIN = "2073300015485"


@pytest.fixture
def staff_token(django_user_model):
    user = django_user_model.objects.create_user(username="winkel", password="x")
    user.groups.add(Group.objects.get(name="Shop staff"))
    return AuthToken.objects.create(user)[1]


@pytest.fixture
def wsgi_call():
    """Calls the project's WSGI application (config.wsgi) as a server would, in this test's
    transaction: the request signals must not close the test's database connection."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)

    def call(method, path, body=b"", *, terminated=True, **headers):
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": "testserver",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "HTTP_TRANSFER_ENCODING": "chunked",
            "HTTP_ACCEPT_LANGUAGE": "en",
            **headers,
        }
        if terminated:  # gunicorn decodes the chunks and says the stream ends with the body
            environ["wsgi.input_terminated"] = True
        answer = {}

        def start_response(status, response_headers, exc_info=None):
            answer["status"] = int(status.split()[0])
            answer["headers"] = dict(response_headers)

        response = application(environ, start_response)
        try:
            content = b"".join(response)
        finally:
            response.close()
        return answer["status"], json.loads(content) if content else None

    yield call
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_chunked_patch_is_read_whole_and_changes_the_product(wsgi_call, staff_token):
    product = Product.objects.get(gtin=GTIN)
    body = json.dumps({"name": "Chunked naam", "price_eur": "12.34"}).encode()

    status, answer = wsgi_call(
        "PATCH",
        f"{API}/products/{GTIN}/",
        body,
        CONTENT_TYPE="application/json",
        HTTP_AUTHORIZATION=f"Token {staff_token}",
        HTTP_IF_MATCH=f'"{product.version}"',
    )

    assert status == 200, answer
    product.refresh_from_db()
    assert (product.name, str(product.price_eur)) == ("Chunked naam", "12.34")
    assert answer["name"] == "Chunked naam"


def test_chunked_post_is_read_whole_and_creates_the_product(wsgi_call, staff_token):
    body = {
        "gtin": "2099800000011",
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

    status, answer = wsgi_call(
        "POST",
        f"{API}/products/",
        json.dumps(body).encode(),
        CONTENT_TYPE="application/json",
        HTTP_AUTHORIZATION=f"Token {staff_token}",
    )

    assert status == 201, answer
    assert Product.objects.filter(gtin="2099800000011", name="Nachtrust").exists()


def test_chunked_body_a_server_cannot_decode_is_refused_with_411_and_changes_nothing(
    wsgi_call, staff_token
):
    product = Product.objects.get(gtin=GTIN)

    status, answer = wsgi_call(
        "PATCH",
        f"{API}/products/{GTIN}/",
        b'{"name": "Kwijt"}',
        terminated=False,
        CONTENT_TYPE="application/json",
        HTTP_AUTHORIZATION=f"Token {staff_token}",
        HTTP_IF_MATCH=f'"{product.version}"',
    )

    assert (status, answer) == (
        411,
        {
            "error": {
                "status": 411,
                "code": "length_required",
                "message": "This server reads a request body only with a Content-Length header.",
                "details": [],
            }
        },
    )
    assert Product.objects.get(gtin=GTIN).version == product.version


def test_chunked_body_over_the_limit_is_refused_with_413(wsgi_call, staff_token, settings):
    settings.MAX_REQUEST_BODY_BYTES = 100
    product = Product.objects.get(gtin=GTIN)

    status, answer = wsgi_call(
        "PATCH",
        f"{API}/products/{GTIN}/",
        json.dumps({"name": "x" * 200}).encode(),
        CONTENT_TYPE="application/json",
        HTTP_AUTHORIZATION=f"Token {staff_token}",
        HTTP_IF_MATCH=f'"{product.version}"',
    )

    assert (status, answer["error"]["code"]) == (413, "request_too_large")
    assert Product.objects.get(gtin=GTIN).version == product.version


def test_body_declared_over_the_limit_is_refused_before_it_is_read(client, settings):
    settings.MAX_REQUEST_BODY_BYTES = 100

    response = client.post("/admin/login/", {"username": "x" * 200, "password": "y"})

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"


# ---- the response cache -------------------------------------------------------------------


def test_cached_page_links_follow_the_host_and_scheme_of_each_request(client, settings):
    settings.ALLOWED_HOSTS = ["a.example", "b.example"]
    url = f"{API}/products/?page_size=1"

    first = client.get(url, HTTP_HOST="a.example").json()["next"]
    second = client.get(url, HTTP_HOST="b.example").json()["next"]
    secure = client.get(url, HTTP_HOST="b.example", secure=True).json()["next"]

    assert first.startswith("http://a.example/")
    assert second.startswith("http://b.example/")
    assert secure.startswith("https://b.example/")


def test_conditional_get_of_an_unknown_gtin_is_a_404_not_a_304(client):
    etag = client.get(f"{API}/products/").headers["ETag"]

    response = client.get(f"{API}/products/2073300015486/", HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_conditional_get_with_another_urls_etag_answers_in_full(client):
    etag = client.get(f"{API}/products/").headers["ETag"]
    client.get(f"{API}/compounds/")

    response = client.get(f"{API}/products/{GTIN}/", HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 200


# ---- CORS -------------------------------------------------------------------------------


def test_cors_preflight_allows_if_match_for_a_conditional_write(client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://shop.example"]

    response = client.options(
        f"{API}/products/{GTIN}/",
        HTTP_ORIGIN="https://shop.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="PATCH",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type, if-match",
    )

    allowed = {h.strip() for h in response.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "if-match", "if-none-match"} <= allowed


def test_cors_read_exposes_the_etag_to_the_browser(client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://shop.example"]

    response = client.get(f"{API}/products/{GTIN}/", HTTP_ORIGIN="https://shop.example")

    exposed = {h.strip() for h in response.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"ETag", "Retry-After"} <= exposed
