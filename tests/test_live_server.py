"""Chunked request bodies against a real gunicorn, as a client on the network sends them.

The attack test found that a chunked PATCH answered 200 and changed nothing: Django reads no
body without a Content-Length. This starts gunicorn (2 workers) on a database of its own and
sends real chunked requests with http.client.
"""

import http.client
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PORT = int(os.environ.get("LIVE_TEST_PORT", "8620"))
GTIN = "2073300015485"
TOKEN_SCRIPT = """
from django.contrib.auth.models import Group, User
from knox.models import AuthToken
user = User.objects.create_user(username="winkel", password="x")
user.groups.add(Group.objects.get(name="Shop staff"))
print(AuthToken.objects.create(user)[1])
"""


def manage(env, *args):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    folder = tmp_path_factory.mktemp("live")
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"DJANGO_ENV", "REDIS_URL"}},
        "DATABASE_URL": f"sqlite:///{folder / 'live.sqlite3'}",
        "API_THROTTLE_ANON": "off",
        "API_THROTTLE_USER": "off",
    }
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "load_knowledge_base")
    manage(env, "load_demo_products")
    token = manage(env, "shell", "-c", TOKEN_SCRIPT).strip().splitlines()[-1]
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{PORT}", "-w", "2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(120):
            try:
                if send("GET", "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.5)
        yield token
    finally:
        server.terminate()
        server.wait(30)


def send(method, path, chunks=None, **headers):
    connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    try:
        if chunks is None:
            connection.request(method, path, headers=headers)
        else:
            headers["Transfer-Encoding"] = "chunked"
            connection.request(
                method, path, body=iter(chunks), headers=headers, encode_chunked=True
            )
        response = connection.getresponse()
        body = response.read()
        return response.status, dict(response.getheaders()), json.loads(body) if body else None
    finally:
        connection.close()


def test_gunicorn_reads_a_chunked_patch_whole_and_the_product_changes(live):
    auth = {"Authorization": f"Token {live}", "Accept-Language": "en"}
    _, headers, _ = send("GET", f"/api/v1/products/{GTIN}/", **auth)

    status, _, answer = send(
        "PATCH",
        f"/api/v1/products/{GTIN}/",
        [b'{"name": "Live', b' chunked", ', b'"price_eur": "7.77"}'],
        **auth,
        **{"Content-Type": "application/json", "If-Match": headers["ETag"]},
    )

    assert status == 200, answer
    read_back = send("GET", f"/api/v1/products/{GTIN}/", **auth)[2]
    assert (read_back["name"], read_back["price_eur"]) == ("Live chunked", 7.77)


def test_gunicorn_reads_a_chunked_post_whole_and_creates_the_product(live):
    body = json.dumps(
        {
            "gtin": "2099800000011",
            "brand": "noctura",
            "name": "Nachtrust",
            "dosage_form": "capsule",
            "units_per_package": 60,
            "units_per_serving": 2,
            "servings_per_day": 1,
            "ingredients": [
                {
                    "compound": "magnesium-bisglycinate",
                    "amount_mg": 1000,
                    "amount_basis": "compound",
                }
            ],
        }
    ).encode()
    auth = {"Authorization": f"Token {live}", "Content-Type": "application/json"}

    status, _, answer = send(
        "POST", "/api/v1/products/", [body[:40], body[40:90], body[90:]], **auth
    )

    assert status == 201, answer
    assert send("GET", "/api/v1/products/2099800000011/", **auth)[2]["name"] == "Nachtrust"
