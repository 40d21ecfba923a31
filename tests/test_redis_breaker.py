"""A frozen Redis (connection open, no answer) is asked once per retry period, not per call.

The stand-in accepts connections and reads what it is sent but never answers, as a Redis
stopped with SIGSTOP does; it counts the commands that reach it.
"""

import socket
import threading

import pytest

from config.redis_cache import RedisCacheWithBreaker
from formulary.models import Indication


class FrozenRedis:
    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.commands = 0
        self.connections = []
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections.append(conn)
            threading.Thread(target=self.read, args=(conn,), daemon=True).start()

    def read(self, conn):
        while True:
            try:
                data = conn.recv(65536)
            except OSError:
                return
            if not data:
                return
            # A command starts with "*<count>"; redis-py may first send HELLO or CLIENT.
            self.commands += data.count(b"\r\n*") + data.startswith(b"*")

    def close(self):
        for conn in self.connections:
            conn.close()
        self.listener.close()


@pytest.fixture
def frozen():
    redis = FrozenRedis()
    yield redis
    redis.close()


def cache_on(port) -> RedisCacheWithBreaker:
    return RedisCacheWithBreaker(
        f"redis://127.0.0.1:{port}/0",
        {
            "OPTIONS": {
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": 0.1,
                "SOCKET_TIMEOUT": 0.1,
            }
        },
    )


def test_frozen_redis_is_asked_once_then_left_alone_for_the_retry_period(frozen, settings):
    settings.REDIS_RETRY_SECONDS = 60
    cache = cache_on(frozen.port)

    answers = [cache.get("answer", "miss") for _ in range(10)]
    stored = cache.set("answer", "x")
    asked = frozen.commands

    assert answers == ["miss"] * 10
    assert stored is None
    assert asked == 1, "only the first call waited on the frozen server"


def test_after_the_retry_period_redis_is_asked_again(frozen, settings):
    settings.REDIS_RETRY_SECONDS = 0
    cache = cache_on(frozen.port)

    answers = [cache.get("answer", "miss") for _ in range(3)]

    assert answers == ["miss"] * 3
    assert frozen.commands == 3


def test_a_redis_that_answers_is_used(settings):
    settings.REDIS_RETRY_SECONDS = 60
    cache = cache_on(6379)
    if cache.set("breaker-test", "kept") is None and cache.get("breaker-test") is None:
        pytest.skip("no Redis on 127.0.0.1:6379")

    assert cache.get("breaker-test") == "kept"
    cache.delete("breaker-test")


@pytest.mark.django_db
def test_reads_while_redis_is_frozen_are_cached_in_the_process_and_never_stale(
    frozen, settings, client
):
    settings.REDIS_RETRY_SECONDS = 60
    settings.CACHES = {
        "default": {
            "BACKEND": "config.redis_cache.RedisCacheWithBreaker",
            "LOCATION": f"redis://127.0.0.1:{frozen.port}/0",
            "OPTIONS": {
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": 0.1,
                "SOCKET_TIMEOUT": 0.1,
            },
        }
    }
    url = "/api/v1/indications/sleep/?lang=en"
    first, second = client.get(url), client.get(url)
    indication = Indication.objects.get(slug="sleep")
    indication.name_en = "Sleep, renamed"
    indication.save()
    after_write = client.get(url)

    assert [r["X-App-Cache"] for r in (first, second, after_write)] == ["miss", "hit", "miss"]
    assert after_write.json()["name"] == "Sleep, renamed"
    assert frozen.commands == 1
