"""Read endpoints answered from the cache, and revalidated without rendering.

A rendered read is stored under the language and the full URL together with the catalogue
version it was read under, so any write (which bumps the version) makes every stored read
stale at once; the version and the stored read come from the cache in one round trip. A client that
revalidates a stored answer with its ETag gets a 304 before anything is read or rendered.

It works inside the DRF view, after authentication, permissions and throttling, so a cached
answer still counts against a client's rate. Shared by every layer's read endpoints, so it
lives in the lowest one, next to the version.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse, HttpResponseNotModified
from django.utils.cache import parse_etags

from formulary.common.catalogue_version import catalogue_version_with
from formulary.common.localization import current_language

BYPASS_HEADER = "X-Cache-Bypass"


def catalogue_etag(version: int, language: str) -> str:
    return f'"catalogue-{version}-{language}"'


class CachedReadMixin:
    """For read-only viewsets: ``list`` and ``retrieve`` through the response cache.

    ``API_CACHE_SECONDS`` (0: nothing is stored) bounds how long an entry may live;
    a request carrying ``X-Cache-Bypass: <API_CACHE_BYPASS_TOKEN>`` is rendered afresh
    and not stored, so the benchmark can measure the uncached path on a live server.
    """

    def list(self, request, *args, **kwargs):
        return self.read_through_cache(request, super().list, *args, **kwargs)

    def retrieve(self, request, *args, **kwargs):
        return self.read_through_cache(request, super().retrieve, *args, **kwargs)

    def read_through_cache(self, request, read, *args, **kwargs):
        self.read_cache_entry = None
        # An authenticated read may see what the public may not (a draft by its GTIN), so
        # it neither comes from the shared cache nor goes into it.
        if request.auth is not None or bypasses_cache(request):
            return read(request, *args, **kwargs)
        language = current_language()
        # The whole URL, scheme and host included: the answer's next and previous links are
        # absolute, so a page read over http://a must not be served to https://b.
        url = hashlib.sha256(request.build_absolute_uri().encode()).hexdigest()
        key = f"read:{language}:{url}"
        version, stored = catalogue_version_with(key)
        if version is None:
            return read(request, *args, **kwargs)
        self.read_cache_entry = (key, catalogue_etag(version, language), version)
        if stored is not None and stored[0] == version:
            _, content, headers = stored
            # Only a stored answer is revalidated, against its own ETag: the catalogue's
            # version alone says nothing about whether this URL exists (an unknown GTIN got
            # a 304), and a product's ETag is its own version.
            if "If-None-Match" in request.headers and headers.get("ETag") in parse_etags(
                request.headers["If-None-Match"]
            ):
                return HttpResponseNotModified(headers={"ETag": headers["ETag"]})
            return HttpResponse(content, headers=headers)
        return read(request, *args, **kwargs)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        entry = getattr(self, "read_cache_entry", None)
        if entry is None or response.status_code != 200 or not hasattr(response, "render"):
            return response
        key, etag, version = entry
        # A view's own ETag (a product's version, for If-Match) is left as it is.
        response.headers.setdefault("ETag", etag)
        seconds = settings.API_CACHE_SECONDS
        if seconds:
            response.render()
            # Stored with the version it was read under: a later version finds it stale and
            # renders afresh over it, so old versions leave no entries behind.
            cache.set(key, (version, response.content, dict(response.headers)), seconds)
        return response


def bypasses_cache(request) -> bool:
    token = settings.API_CACHE_BYPASS_TOKEN
    return bool(token) and request.headers.get(BYPASS_HEADER) == token
