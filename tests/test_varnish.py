"""Through Varnish (config/varnish/default.vcl): a write is visible on the next read,
anonymous reads are cached, authenticated reads and writes never are, and only allowed
addresses may purge.

Needs Debian's varnish and varnish-modules (xkey); `.ci/run` installs them. Without varnishd
the test says so and skips.
"""

import gzip
import http.client
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.live import (
    ROOT,
    Server,
    free_port,
    manage,
    prepare_database,
    process_env,
    request,
    sqlite_database,
)

VARNISHD = shutil.which("varnishd") or (
    "/usr/sbin/varnishd" if shutil.which("/usr/sbin/varnishd") else None
)
pytestmark = pytest.mark.skipif(
    VARNISHD is None,
    reason="varnishd is not installed (apt-get install varnish varnish-modules)",
)

API = "/api/v1"
TOKEN_SCRIPT = (
    "from django.contrib.auth.models import Group, User; from knox.models import AuthToken; "
    "u = User.objects.create_user('varnish-staff', password='x'); "
    "u.groups.add(Group.objects.get(name='Shop staff')); "
    "print(AuthToken.objects.create(u)[1])"
)
RENAME = (
    "from compounds.models import CompoundForm; "
    "c = CompoundForm.objects.get(slug='magnesium-bisglycinate'); "
    "c.name_en = 'Renamed behind Varnish'; c.save()"
)


class Varnish:
    def __init__(self, backend_port: int, port: int):
        self.port = port
        # varnishd reads its VCL as its own unprivileged user: not from pytest's private tmp.
        folder = Path(tempfile.mkdtemp(prefix="formulary-varnish-"))
        folder.chmod(0o755)
        self.folder = folder
        self.url = f"http://127.0.0.1:{self.port}"
        self.vcl = folder / "default.vcl"
        source = (ROOT / "config" / "varnish" / "default.vcl").read_text()
        self.vcl.write_text(source.replace('.port = "8000"', f'.port = "{backend_port}"'))
        self.workdir = folder / "varnish"
        self.process = None

    def __enter__(self):
        self.process = subprocess.Popen(
            [
                VARNISHD,
                "-F",
                "-n",
                str(self.workdir),
                "-a",
                f"127.0.0.1:{self.port}",
                "-f",
                str(self.vcl),
                "-s",
                "malloc,32m",
                "-p",
                "default_grace=0",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                problem = self.process.stderr.read()[-3000:]
                self.process.stderr.close()
                shutil.rmtree(self.folder, ignore_errors=True)
                raise AssertionError(f"varnishd stopped:\n{problem}")
            try:
                request(f"{self.url}/healthz")
                return self
            except OSError:
                time.sleep(0.2)
        raise AssertionError("varnishd did not answer within 30 s.")

    def __exit__(self, *exc):
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stderr.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def get(self, path, **headers):
        return request(f"{self.url}{path}", headers=headers)

    def json(self, path, **headers):
        status, response_headers, body = self.get(path, **headers)
        assert status == 200, (path, status, body[:300])
        return response_headers, json.loads(body)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """Varnish -> gunicorn (2 workers) -> SQLite, the app purging Varnish on commit."""
    folder = tmp_path_factory.mktemp("varnish")
    database = sqlite_database(folder)
    env = process_env(DATABASE_URL=database)
    prepare_database(env)
    token = manage("shell", "-c", TOKEN_SCRIPT, env=env).stdout.strip().splitlines()[-1]
    backend_port = free_port()
    edge_port = free_port(taken={backend_port})
    env = {**env, "VARNISH_PURGE_URL": f"http://127.0.0.1:{edge_port}/"}
    with Server(env, port=backend_port), Varnish(backend_port, edge_port) as edge:
        yield {"edge": edge, "env": env, "token": token}


def test_varnish_second_anonymous_read_is_a_hit(stack):
    edge = stack["edge"]
    first, _ = edge.json(f"{API}/compounds/?page_size=5")
    second, _ = edge.json(f"{API}/compounds/?page_size=5")

    assert (first["x-cache"], second["x-cache"]) == ("MISS", "HIT")
    assert "age" in second
    assert second["cache-control"] == "public, max-age=0, must-revalidate"
    assert "xkey" not in second and "surrogate-control" not in second


def test_varnish_keeps_answers_compressed_for_clients_that_ask(stack):
    edge = stack["edge"]
    path = f"{API}/compounds/?page_size=4"
    edge.get(path)

    status, zipped_headers, zipped = edge.get(path, **{"Accept-Encoding": "gzip"})
    _, plain_headers, plain = edge.get(path)

    assert status == 200
    assert (zipped_headers["x-cache"], plain_headers["x-cache"]) == ("HIT", "HIT")
    assert zipped_headers["content-encoding"] == "gzip"
    assert "content-encoding" not in plain_headers
    assert gzip.decompress(zipped) == plain
    assert json.loads(plain)["results"]


def test_varnish_keeps_one_variant_per_language(stack):
    edge = stack["edge"]
    path = f"{API}/indications/sleep/"
    edge.json(path, **{"Accept-Language": "en-GB,en;q=0.9"})

    headers, english = edge.json(path, **{"Accept-Language": "en-US"})
    _, dutch = edge.json(path, **{"Accept-Language": "nl-BE,nl;q=0.9"})

    assert headers["x-cache"] == "HIT"
    assert (english["name"], dutch["name"]) == ("Sleep quality", "Slaapkwaliteit")


def test_varnish_never_caches_authenticated_reads(stack):
    edge, token = stack["edge"], stack["token"]
    path = f"{API}/compounds/?page_size=3"
    answers = [edge.get(path, Authorization=f"Token {token}") for _ in range(2)]

    assert [status for status, _, _ in answers] == [200, 200]
    assert [headers["x-cache"] for _, headers, _ in answers] == ["PASS", "PASS"]
    assert answers[1][1]["cache-control"] == "private, no-store"


def test_varnish_write_is_visible_on_the_next_read_and_never_cached(stack):
    edge, token = stack["edge"], stack["token"]
    _, listing = edge.json(f"{API}/products/?page_size=1")
    gtin = listing["results"][0]["gtin"]
    path = f"{API}/products/{gtin}/"
    edge.json(path)
    headers, before = edge.json(path)
    assert headers["x-cache"] == "HIT"
    everything = f"{API}/products/?page_size=100"
    edge.json(everything)
    _, status_headers, _ = edge.get(path, Authorization=f"Token {token}")

    status, written_headers, body = request(
        f"{edge.url}{path}",
        method="PATCH",
        headers={
            "Authorization": f"Token {token}",
            "Content-Type": "application/json",
            "If-Match": status_headers["etag"],
        },
        body=json.dumps({"name": "Renamed through Varnish"}).encode(),
    )

    assert status == 200, body
    assert written_headers["x-cache"] == "PASS"
    assert written_headers["cache-control"] == "private, no-store"
    headers, after = edge.json(path)
    assert (before["name"], after["name"]) == (
        listing["results"][0]["name"],
        "Renamed through Varnish",
    )
    assert headers["x-cache"] == "MISS"
    _, listed = edge.json(everything)
    assert {row["name"] for row in listed["results"] if row["gtin"] == gtin} == {after["name"]}


def test_varnish_write_by_a_command_is_visible_on_the_next_read(stack):
    edge = stack["edge"]
    path = f"{API}/compounds/magnesium-bisglycinate/?lang=en"
    edge.json(path)
    headers, _ = edge.json(path)
    assert headers["x-cache"] == "HIT"

    manage("shell", "-c", RENAME, env=stack["env"])

    headers, after = edge.json(path)
    assert (headers["x-cache"], after["name"]) == ("MISS", "Renamed behind Varnish")


def test_varnish_refuses_purges_from_other_addresses(stack):
    edge = stack["edge"]
    connection = http.client.HTTPConnection(
        "127.0.0.1", edge.port, timeout=10, source_address=("127.0.0.2", 0)
    )
    connection.request("PURGE", "/", headers={"xkey": "catalogue"})
    refused = connection.getresponse().status
    connection.close()
    allowed, _, _ = request(f"{edge.url}/", method="PURGE", headers={"xkey": "catalogue"})

    assert (refused, allowed) == (403, 200)
