"""Read endpoints answered from the cache, and revalidated without rendering.

A rendered read is stored under the language and the full URL together with the version of
what it depends on (``formulary.common.catalogue_version``: the keys a view names in
``read_depends_on``), so a write makes exactly the answers that may contain it stale. The
version is read from the database first, the stored read after: from this process's copy when
it has that version, else from the shared cache. A client that revalidates a stored answer
with its ETag gets a 304 before anything else is read or rendered.
The cache key is the whole URL, scheme and host included: the answers' next links are absolute.

It works inside the DRF view, after authentication, permissions and throttling, so a cached
answer still counts against a client's rate. Anonymous answers carry the edge-cache headers
(``formulary.common.edge_cache``). Shared by every layer's read endpoints, so it lives in the
lowest one, next to the version.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache
from django.http import HttpResponse, HttpResponseNotModified
from django.utils.cache import parse_etags

from formulary.common.catalogue_version import KNOWLEDGE_ANSWER, answer_versions
from formulary.common.edge_cache import public_cache_headers
from formulary.common.localization import current_language

BYPASS_HEADER = "X-Cache-Bypass"
# "hit" on an answer from the response cache, "miss" on one rendered and stored: what the
# benchmark's hit ratio counts (Varnish's own X-Cache says HIT, MISS or PASS at the edge).
CACHE_HEADER = "X-App-Cache"


def catalogue_etag(version: tuple[int, ...], language: str) -> str:
    digest = hashlib.sha256(repr(version).encode()).hexdigest()[:20]
    return f'"catalogue-{digest}-{language}"'


class CachedReadMixin:
    """For read-only viewsets: ``list`` and ``retrieve`` through the response cache.

    ``read_depends_on`` names the version keys an answer depends on (by default the
    knowledge base's); a view whose answers depend on more overrides ``read_dependencies``.
    ``API_CACHE_SECONDS`` (0: nothing is stored) bounds how long an entry may live;
    a request carrying ``X-Cache-Bypass: <API_CACHE_BYPASS_TOKEN>`` is rendered afresh
    and not stored, so the benchmark can measure the uncached path on a live server.
    """

    read_depends_on: tuple[str, ...] = KNOWLEDGE_ANSWER

    def read_dependencies(self, request, **kwargs) -> tuple[str, ...]:
        return self.read_depends_on

    def list(self, request, *args, **kwargs):
        return self.read_through_cache(request, super().list, *args, **kwargs)

    def retrieve(self, request, *args, **kwargs):
        return self.read_through_cache(request, super().retrieve, *args, **kwargs)

    def read_through_cache(self, request, read, *args, **kwargs):
        stored = self.stored_answer(request, **kwargs)
        if stored is None:
            return read(request, *args, **kwargs)
        _, content, headers = stored
        # Only a stored answer is revalidated, against its own ETag: the versions alone say
        # nothing about whether this URL exists (an unknown GTIN got a 304), and a product's
        # ETag is its own version.
        if "If-None-Match" in request.headers and headers.get("ETag") in parse_etags(
            request.headers["If-None-Match"]
        ):
            return HttpResponseNotModified(headers={"ETag": headers["ETag"]})
        return HttpResponse(content, headers={**headers, CACHE_HEADER: "hit"})

    def stored_answer(self, request, **kwargs):
        """The stored answer to this request under the current versions, or None; looked up
        once per request (the per-client limit on uncached work asks first, config.throttling)."""
        if not hasattr(self, "stored_answer_found"):
            self.stored_answer_found = self.look_up_stored_answer(request, **kwargs)
        return self.stored_answer_found

    def look_up_stored_answer(self, request, **kwargs):
        self.read_cache_entry = None
        # Only reads are answers: an OPTIONS asked first (the throttle looks up every method)
        # was stored under the GET's key and served to the GET. An authenticated read may see
        # what the public may not (a draft by its GTIN), so it neither comes from the shared
        # cache nor goes into it.
        if request.method not in ("GET", "HEAD") or request.auth is not None:
            return None
        dependencies = self.read_dependencies(request, **kwargs)
        # The version before anything it stands for: the stored read, or the data. Read for a
        # bypassing request too, in the one query a miss makes: what the view keeps per version
        # (match/'s signatures) asks for the same keys.
        version = answer_versions(dependencies)
        if bypasses_cache(request):
            return None
        language = current_language()
        # The whole URL, scheme and host included: the answer's next and previous links are
        # absolute, so a page read over http://a must not be served to https://b.
        url = hashlib.sha256(request.build_absolute_uri().encode()).hexdigest()
        key = f"read:{language}:{url}"
        etag = catalogue_etag(version, language)
        self.read_cache_entry = (key, etag, version, dependencies)
        return answer_stored_under(key, version)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        entry = getattr(self, "read_cache_entry", None)
        if entry is None or response.status_code not in (200, 304):
            return response
        key, etag, version, dependencies = entry
        # A view's own ETag (a product's version, for If-Match) is left as it is.
        response.headers.setdefault("ETag", etag)
        public_cache_headers(response, dependencies)
        # An answer from the cache says "hit" already; a rendered one is a miss.
        response.headers.setdefault(CACHE_HEADER, "miss")
        seconds = settings.API_CACHE_SECONDS
        if seconds and response.status_code == 200 and hasattr(response, "render"):
            response.render()
            # Stored with the version it was read under: a later version finds it stale and
            # renders afresh over it, so old versions leave no entries behind.
            answer_store(key, (version, response.content, dict(response.headers)), seconds)
        return response


# Answers are kept in this process's memory too, in front of the shared cache: a popular read
# is then answered without asking Redis (in process, that call was nearly half of a hit's CPU).
# An entry is used only under the versions it was stored with, read from the database on each
# request like the shared cache's, so a copy here is never stale, only maybe not the newest
# one stored. While the shared cache is away (the breaker of config.redis_cache is open) it is
# the only store, and reads keep most of their speed (the fault drill's Redis phases).
LOCAL_ANSWERS = LocMemCache("answers-of-this-process", {"OPTIONS": {"MAX_ENTRIES": 500}})
# Larger answers (a page of 100 products is about 180 kB) stay in the shared cache only, so
# the copies take at most 500 * 64 kB of a process's memory.
MAX_LOCAL_ANSWER_BYTES = 64 * 1024


def shared_cache_away() -> bool:
    shared_away = getattr(cache, "is_unavailable", None)
    return shared_away is not None and shared_away()


def answer_stored_under(key: str, version: tuple[int, ...]):
    """The answer stored under ``key`` for ``version``, or None: this process's copy if it has
    that version, else the shared cache's (then kept here too)."""
    local = LOCAL_ANSWERS.get(key)
    if local is not None and local[0] == version:
        return local
    if shared_cache_away():
        return None
    shared = cache.get(key)
    if shared is None or shared[0] != version:
        return None
    keep_here(key, shared, settings.API_CACHE_SECONDS)
    return shared


def answer_store(key: str, entry, seconds: int) -> None:
    keep_here(key, entry, seconds)
    if not shared_cache_away():
        cache.set(key, entry, seconds)


def keep_here(key: str, entry, seconds: int) -> None:
    if len(entry[1]) <= MAX_LOCAL_ANSWER_BYTES:
        LOCAL_ANSWERS.set(key, entry, seconds)


def bypasses_cache(request) -> bool:
    token = settings.API_CACHE_BYPASS_TOKEN
    return bool(token) and request.headers.get(BYPASS_HEADER) == token
