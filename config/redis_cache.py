"""django-redis that stops asking a Redis that did not answer, for a few seconds.

With ``IGNORE_EXCEPTIONS`` django-redis turns a failed call into a miss, but every call still
waits for its socket timeout: against a frozen Redis (the process stopped, the connection
open) a cached read waits for its get and its set, so the drill's reads fell to 4 % of normal.
After a call fails, this process skips Redis for ``REDIS_RETRY_SECONDS``: answers are cached
in this process's memory meanwhile (formulary.common.read_cache), the throttles count there
too (config.throttling), and one call per period tries Redis again. Nothing served can be
stale: the catalogue version that every cached answer is stored under lives in the database,
not in Redis.
"""

import threading
import time

from django.conf import settings
from django_redis.cache import RedisCache
from django_redis.exceptions import ConnectionInterrupted


class Breaker:
    """Open for ``seconds`` after a failure; thread-safe, one per process and cache."""

    def __init__(self):
        self.open_until = 0.0
        self.lock = threading.Lock()

    def is_open(self) -> bool:
        return time.monotonic() < self.open_until

    def trip(self) -> None:
        with self.lock:
            self.open_until = time.monotonic() + settings.REDIS_RETRY_SECONDS


class GuardedClient:
    """The django-redis client's calls, refused at once while the breaker is open."""

    def __init__(self, client, breaker: Breaker):
        self.client = client
        self.breaker = breaker

    def __getattr__(self, name):
        attribute = getattr(self.client, name)
        if not callable(attribute):
            return attribute

        def call(*args, **kwargs):
            if self.breaker.is_open():
                raise ConnectionInterrupted(connection=None) from ConnectionError(
                    "Redis skipped: it did not answer a moment ago"
                )
            try:
                return attribute(*args, **kwargs)
            except ConnectionInterrupted:
                self.breaker.trip()
                raise

        return call


class RedisCacheWithBreaker(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self.breaker = Breaker()

    @property
    def client(self):
        return GuardedClient(super().client, self.breaker)

    def is_unavailable(self) -> bool:
        """Whether calls are being skipped (formulary.common.read_cache keeps answers in the
        process meanwhile)."""
        return self.breaker.is_open()
