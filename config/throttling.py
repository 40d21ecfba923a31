"""Request-rate limits for the API: per client address (anonymous), per account (token), per
client for uncached work (``throttle_scope = "uncached"``: match, advice, the calculator), and
per address for wrong tokens.

Counters are windows that start with a client's first request and last the rate's period
(the key's expiry), raised with the cache's atomic ``incr`` (Redis ``INCR`` with
``REDIS_URL``), so every worker shares them. DRF's own throttles read a list of timestamps,
append and write it back: two workers doing that at once both pass, which is how 1,500 of
1,500 requests passed a limit of 1,200 a minute at 16 connections.

Fail safe: when the shared cache does not answer (Redis down, frozen, or IGNORE_EXCEPTIONS
turning its errors into None), the counters fall back to this process's memory for
``SHARED_RETRY_SECONDS``, so every process still limits on its own, nothing is let through
unlimited, no request waits on a frozen Redis more than once in that time, and none is a 500.
The client address is ``config.client_address.client_address``: the lockout's too.
"""

import threading
import time

from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache
from rest_framework import throttling
from rest_framework.settings import api_settings

from config.client_address import client_address

SHARED_RETRY_SECONDS = 5
# Counters of this process while the shared cache is away; enough for every client of a
# busy minute before the oldest are culled.
LOCAL_COUNTERS = LocMemCache("throttle-fallback", {"OPTIONS": {"MAX_ENTRIES": 100_000}})


class Counters:
    """Fixed-window hit counters in the shared cache, else in this process."""

    def __init__(self):
        self.shared_down_until = 0.0
        self.lock = threading.Lock()

    def hit(self, key: str, seconds: int) -> int:
        if time.monotonic() >= self.shared_down_until:
            count = self.shared_hit(key, seconds)
            if count is not None:
                return count
            with self.lock:
                self.shared_down_until = time.monotonic() + SHARED_RETRY_SECONDS
        return self.local_hit(key, seconds)

    def count(self, key: str) -> int:
        if time.monotonic() >= self.shared_down_until:
            try:
                value = cache.get(key)
            except Exception:
                value = None
            if value is not None:
                return int(value)
        return int(LOCAL_COUNTERS.get(key) or 0)

    def seconds_left(self, key: str, seconds: int) -> int:
        """Until the window ends: the key's expiry where the cache can tell (Redis), else the
        whole period, an upper bound."""
        ttl = getattr(cache, "ttl", None)
        if ttl is not None and time.monotonic() >= self.shared_down_until:
            try:
                left = ttl(key)
            except Exception:
                left = None
            if isinstance(left, int) and left > 0:
                return left
        return seconds

    @staticmethod
    def shared_hit(key: str, seconds: int) -> int | None:
        try:
            # add() starts the window's counter; incr() is atomic in Redis and locmem alike.
            if cache.add(key, 0, timeout=seconds) is None:
                return None  # django-redis with IGNORE_EXCEPTIONS: the server did not answer
            return cache.incr(key)
        except ValueError:
            return None  # the window expired between add() and incr()
        except Exception:
            return None

    @staticmethod
    def local_hit(key: str, seconds: int) -> int:
        LOCAL_COUNTERS.add(key, 0, timeout=seconds)
        try:
            return LOCAL_COUNTERS.incr(key)
        except ValueError:
            LOCAL_COUNTERS.set(key, 1, timeout=seconds)
            return 1


counters = Counters()


class WindowRateThrottle(throttling.SimpleRateThrottle):
    """A DRF throttle counting in fixed windows with ``counters``; rates read per request
    from the settings (DRF binds them when the class is imported), so tests may change them."""

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def __init__(self):
        self.rate = None

    def get_ident(self, request):
        return client_address(request)

    def client_key(self, request) -> str | None:
        raise NotImplementedError

    def window_key(self, ident: str) -> str:
        return f"throttle:{self.scope}:{ident}"

    def allow_request(self, request, view):
        self.rate = self.get_rate()
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        ident = self.client_key(request, view)
        if ident is None:
            return True
        self.key = self.window_key(ident)
        return counters.hit(self.key, self.duration) <= self.num_requests

    def wait(self):
        return counters.seconds_left(self.key, self.duration)


class AnonymousClientThrottle(WindowRateThrottle):
    scope = "anon"

    def client_key(self, request, view):
        return None if request.user else self.get_ident(request)


class AccountThrottle(WindowRateThrottle):
    scope = "user"

    def client_key(self, request, view):
        return f"user-{request.user.pk}" if request.user else None


class ScopedWorkThrottle(WindowRateThrottle):
    """For views with ``throttle_scope`` (``uncached``: work the response cache cannot
    absorb): per account, or per address, so one client varying its parameters cannot keep
    all of that capacity to itself."""

    def allow_request(self, request, view):
        self.scope = getattr(view, "throttle_scope", None)
        if self.scope is None:
            return True
        stored_answer = getattr(view, "stored_answer", None)
        if stored_answer is not None and stored_answer(request, **view.kwargs) is not None:
            return True  # answered from the response cache: no work to limit
        return super().allow_request(request, view)

    def client_key(self, request, view):
        return f"user-{request.user.pk}" if request.user else self.get_ident(request)


class FailedTokenThrottle(WindowRateThrottle):
    """Wrong tokens, per address: authentication runs before DRF's throttles, so a client
    guessing tokens was answered 401 as fast as it could ask."""

    scope = "failed_token"

    def exceeded(self, request) -> bool:
        self.rate = self.get_rate()
        if self.rate is None:
            return False
        self.num_requests, self.duration = self.parse_rate(self.rate)
        self.key = self.window_key(self.get_ident(request))
        return counters.count(self.key) >= self.num_requests

    def record_failure(self, request) -> None:
        if self.get_rate() is None:
            return
        self.num_requests, self.duration = self.parse_rate(self.get_rate())
        counters.hit(self.window_key(self.get_ident(request)), self.duration)
