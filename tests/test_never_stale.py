"""Never stale, with real processes: a running server, a write from another process, the
next read shows it. In the embedded default (SQLite, no Redis), with Redis down, and on
PostgreSQL with Redis when the suite runs on PostgreSQL.

Each server is gunicorn with two workers, each with its own memory; the writes come from
management commands, processes of their own. No test database of pytest's is used.
"""

import os
import uuid
from contextlib import contextmanager

import pytest

from products.gtin import gs1_check_digit
from tests.live import (
    Server,
    manage,
    postgres_database,
    prepare_database,
    process_env,
    redis_answers,
    redis_forget,
    sqlite_database,
)

API = "/api/v1"
SEARCH = f"{API}/products/?search=Livetest"
COMPOUND = f"{API}/compounds/magnesium-bisglycinate/?lang=en"
MATCH = f"{API}/products/match/?indication=sleep&page_size=100"
GENERATED = f"{API}/products/?search=29&page_size=100"
GTIN = "2099811" + "00001"
GTIN += str(gs1_check_digit(GTIN))
CSV = (
    "gtin,brand,name,dosage_form,units_per_serving,servings_per_day,status,units_per_package,"
    "compound,amount_mg,amount_basis\n"
    f"{GTIN},Livetest,Livetest Magnesium,capsule,2,1,published,60,"
    "magnesium-bisglycinate,1000,compound\n"
)
RENAME = (
    "from compounds.models import CompoundForm; "
    "c = CompoundForm.objects.get(slug='magnesium-bisglycinate'); "
    "c.name_en = 'Livetest renamed'; c.save()"
)
# Requests per check: sent on fresh connections, so both workers answer some of them.
READS = 4
BASE_URL = os.environ.get("DATABASE_URL", "")
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"


@pytest.fixture(scope="module")
def template_database(tmp_path_factory):
    """One migrated and loaded SQLite database; each configuration works on a copy."""
    folder = tmp_path_factory.mktemp("never-stale")
    url = sqlite_database(folder)
    prepare_database(process_env(DATABASE_URL=url))
    return url.removeprefix("sqlite:///")


@contextmanager
def sqlite_without_redis(template, folder):
    yield process_env(DATABASE_URL=sqlite_database(folder, template))


@contextmanager
def sqlite_with_redis_down(template, folder):
    # Nothing listens on port 1: every cache call fails at once, as with a Redis that is down.
    closed = "redis://127.0.0.1:1/0"
    yield process_env(DATABASE_URL=sqlite_database(folder, template), REDIS_URL=closed)


@contextmanager
def postgres_with_redis(template, folder):
    if not redis_answers(REDIS_URL):
        pytest.skip(f"Redis does not answer at {REDIS_URL} (set REDIS_URL)")
    prefix = f"live-{uuid.uuid4().hex[:8]}"
    with postgres_database(BASE_URL) as url:
        env = process_env(DATABASE_URL=url, REDIS_URL=REDIS_URL, CACHE_KEY_PREFIX=prefix)
        prepare_database(env)
        try:
            yield env
        finally:
            redis_forget(REDIS_URL, prefix)


CONFIGURATIONS = [sqlite_without_redis, sqlite_with_redis_down]
if BASE_URL.startswith("postgres"):
    CONFIGURATIONS.append(postgres_with_redis)


def names(server, path):
    return {row["name"] for row in server.json(path)["results"]}


@pytest.mark.parametrize("configuration", CONFIGURATIONS, ids=lambda c: c.__name__)
def test_write_by_another_process_is_seen_by_the_next_read(
    configuration, template_database, tmp_path
):
    csv = tmp_path / "livetest.csv"
    csv.write_text(CSV)
    with configuration(template_database, tmp_path) as env, Server(env) as server:
        for _ in range(READS):  # cached in both workers
            assert names(server, SEARCH) == set()
            assert "Livetest Magnesium" not in names(server, MATCH)
            original = server.json(COMPOUND)["name"]
            assert names(server, GENERATED) == set()

        manage("import_products", str(csv), env=env)
        for _ in range(READS):
            assert names(server, SEARCH) == {"Livetest Magnesium"}
            assert "Livetest Magnesium" in names(server, MATCH)
            assert server.json(f"{API}/products/{GTIN}/")["brand"]["name"] == "Livetest"

        manage("shell", "-c", RENAME, env=env)
        for _ in range(READS):
            assert server.json(COMPOUND)["name"] == "Livetest renamed"
            ingredient = server.json(f"{API}/products/{GTIN}/?lang=en")["ingredients"][0]
            assert ingredient["compound"]["name"] == "Livetest renamed"

        manage("load_knowledge_base", env=env)
        for _ in range(READS):
            assert server.json(COMPOUND)["name"] == original

        manage("generate_catalog", "--products", "5", "--seed", "1", "--brands", "1", env=env)
        for _ in range(READS):
            assert names(server, GENERATED)

        status, _, body = server.get("/readyz")
        assert status == 200, body
