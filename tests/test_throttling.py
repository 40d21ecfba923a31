"""Throttles that hold: one client-address rule behind proxies (throttle and lockout alike),
wrong tokens limited, a scope for uncached work, atomic counters shared by processes, and a
fail-safe fallback when the shared cache is down."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis

from config.throttling import LOCAL_COUNTERS, counters

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
PROXY = "10.0.0.1"  # the load balancer: every request connects from it
LOGIN = "/admin/login/"
PASSWORD = "a-long-staff-password"


@pytest.fixture
def rates(settings):
    def set_rates(**rates):
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}

    yield set_rates
    LOCAL_COUNTERS.clear()
    counters.shared_down_until = 0.0


def statuses(client, url, times, **headers):
    return [client.get(url, **headers).status_code for _ in range(times)]


def test_client_behind_a_proxy_is_throttled_by_its_own_address(client, settings, rates):
    settings.API_NUM_PROXIES = 1
    rates(anon="3/min")
    url = "/api/v1/indications/"

    first = statuses(client, url, 4, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.5")
    # The same client forging a first entry is still the entry the proxy appended.
    forged = statuses(
        client, url, 1, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.5"
    )
    other = statuses(client, url, 1, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.6")

    assert (first, forged, other) == ([200, 200, 200, 429], [429], [200])


def log_in(client, password, forwarded_for):
    return client.post(
        LOGIN,
        {"username": "pharmacist", "password": password, "next": "/admin/"},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=forwarded_for,
    )


def test_lockout_behind_a_proxy_locks_the_guesser_not_the_real_user(
    client, settings, django_user_model
):
    settings.API_NUM_PROXIES = 1
    settings.AXES_FAILURE_LIMIT = 3
    django_user_model.objects.create_user(username="pharmacist", password=PASSWORD, is_staff=True)
    for _ in range(3):
        log_in(client, "wrong", forwarded_for="198.51.100.66")

    guesser = log_in(client, PASSWORD, forwarded_for="198.51.100.66")
    real_user = log_in(client, PASSWORD, forwarded_for="192.0.2.10")

    assert guesser.status_code == 429
    assert (real_user.status_code, real_user.headers["Location"]) == (302, "/admin/")


def test_wrong_tokens_are_throttled_per_address(client, rates):
    rates(failed_token="3/min")
    url = "/api/v1/products/"

    answers = statuses(client, url, 5, HTTP_AUTHORIZATION="Token " + "f" * 64)

    assert answers == [401, 401, 401, 429, 429]
    refused = client.get(url, HTTP_AUTHORIZATION="Token x")  # Dutch, the default language
    wait = int(refused.headers["Retry-After"])
    assert refused.json() == {
        "error": {
            "status": 429,
            "code": "throttled",
            "message": f"Te veel verzoeken; probeer het over {wait} seconden opnieuw.",
            "details": [],
        }
    }
    assert client.get(url).status_code == 200  # reads without a token stay open


def test_uncached_work_has_its_own_per_client_limit(client, rates):
    rates(uncached="2/min")
    match = "/api/v1/products/match/?indication=sleep&page_size={}"

    varied = [client.get(match.format(n)).status_code for n in range(1, 4)]
    calculator = client.get("/api/v1/calculate/elemental/?formula=MgO").status_code
    catalogue = client.get("/api/v1/products/").status_code

    assert (varied, calculator, catalogue) == ([200, 200, 429], 429, 200)


def test_answers_from_the_cache_do_not_count_as_uncached_work(client, rates):
    """A webshop asking the same match a thousand times a minute is served from the cache;
    only answers that must be rendered count against the limit."""
    rates(uncached="2/min")
    match = "/api/v1/products/match/?indication=sleep&page_size={}"

    repeated = [client.get(match.format(1)).status_code for _ in range(5)]
    varied = [client.get(match.format(n)).status_code for n in range(2, 4)]

    assert (repeated, varied) == ([200] * 5, [200, 429])


class DownCache:
    """The shared cache as the throttle sees it when Redis is down."""

    def add(self, *args, **kwargs):
        raise ConnectionError("Redis does not answer")

    incr = get = ttl = add


class IgnoringCache:
    """django-redis with IGNORE_EXCEPTIONS: every call answers None."""

    def add(self, *args, **kwargs):
        return None

    incr = get = ttl = add


def test_throttle_falls_back_to_this_process_when_the_shared_cache_is_down(
    client, rates, monkeypatch
):
    rates(anon="3/min")

    monkeypatch.setattr("config.throttling.cache", DownCache())

    answers = statuses(client, "/api/v1/indications/", 5)

    assert answers == [200, 200, 200, 429, 429]


def test_throttle_falls_back_when_ignored_exceptions_turn_into_none(client, rates, monkeypatch):
    rates(anon="2/min")
    monkeypatch.setattr("config.throttling.cache", IgnoringCache())

    answers = statuses(client, "/api/v1/indications/", 3)

    assert answers == [200, 200, 429]


REDIS_URL = os.environ.get("THROTTLE_TEST_REDIS_URL", "redis://127.0.0.1:6379/6")
SEND = """
from django.test import Client
client = Client(REMOTE_ADDR="192.0.2.99")
print(" ".join(str(client.get("/api/v1/calculate/elemental/?formula=MgO").status_code)
               for _ in range({n})))
"""


def redis_answers() -> bool:
    try:
        return redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False


@pytest.mark.skipif(not redis_answers(), reason=f"no Redis at {REDIS_URL}")
def test_limit_holds_across_two_processes_sharing_redis(tmp_path):
    prefix = f"throttle-test-{os.getpid()}-{tmp_path.name}"
    environment = {
        **{k: v for k, v in os.environ.items() if k not in {"DJANGO_ENV", "SECRET_KEY"}},
        "REDIS_URL": REDIS_URL,
        "CACHE_KEY_PREFIX": prefix,
        "API_THROTTLE_ANON": "10/min",
        "API_THROTTLE_UNCACHED": "off",
        # The calculator reads no table: an empty database file is enough.
        "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
    }
    command = [sys.executable, "manage.py", "shell", "-c", SEND.format(n=6)]
    try:
        runs = [
            subprocess.Popen(command, cwd=ROOT, env=environment, stdout=subprocess.PIPE, text=True)
            for _ in range(2)
        ]
        outputs = [run.communicate(timeout=120)[0] for run in runs]
        answers = [code for output in outputs for code in output.splitlines()[-1].split()]
    finally:
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)

    assert sorted(answers) == ["200"] * 10 + ["429"] * 2
