"""The edge cache in front (Varnish with xkey, or a CDN with surrogate keys).

Anonymous cached reads carry three things (``public_cache_headers``):

- ``Cache-Control: public, max-age=0, must-revalidate``: browsers and caches we cannot purge
  keep the answer but ask again each time; the ETag makes that a 304.
- ``Surrogate-Control: max-age=N, stale-while-revalidate=M``, only when purging is configured
  (``VARNISH_PURGE_URL``): the edge, which we purge, may keep it for N seconds. Serving stale
  while revalidating is safe there because every write purges its answers outright (a hard
  purge removes them, so a stale copy of a written answer is never served); only an answer
  that merely aged out is served stale for M seconds, and nothing has written it. Without
  purging nothing may be kept at the edge, and the header is left out.
- ``xkey`` and ``Surrogate-Key``: the answer's tags, the keys of the catalogue version it
  depends on (``catalogue``, ``knowledge``, ``products``, ``product-details``,
  ``product-<gtin>``).

Everything else under the API (authenticated reads, writes, errors) is ``private, no-store``
(``config.middleware.CacheControlMiddleware``). A write's bump purges its tags when its
transaction commits (``purge_on_commit``), so the next read through the edge is fresh.
"""

import logging
import urllib.request
from collections.abc import Iterable

from django.conf import settings
from django.db import connections

logger = logging.getLogger(__name__)

TAG_HEADER = "xkey"
SURROGATE_KEY_HEADER = "Surrogate-Key"
PUBLIC_CACHE_CONTROL = "public, max-age=0, must-revalidate"
PRIVATE_CACHE_CONTROL = "private, no-store"
# Tags per PURGE request: keeps the header well under Varnish's 8 KiB header limit.
TAGS_PER_PURGE = 200
PURGE_TIMEOUT_SECONDS = 2


def purge_urls() -> list[str]:
    return [url.strip() for url in settings.VARNISH_PURGE_URL.split(",") if url.strip()]


def public_cache_headers(response, tags: Iterable[str]) -> None:
    tag_text = " ".join(tags)
    response.headers["Cache-Control"] = PUBLIC_CACHE_CONTROL
    if purge_urls():
        response.headers["Surrogate-Control"] = (
            f"max-age={settings.EDGE_CACHE_SECONDS}, "
            f"stale-while-revalidate={settings.EDGE_STALE_SECONDS}"
        )
    response.headers[TAG_HEADER] = tag_text
    response.headers[SURROGATE_KEY_HEADER] = tag_text


class PendingPurge:
    """The tags a transaction bumped, purged once when it commits."""

    def __init__(self):
        self.tags: set[str] = set()

    def __call__(self):
        purge(sorted(self.tags))


def purge_on_commit(tags: Iterable[str], *, using: str) -> None:
    """Purge ``tags`` at the edge when the current transaction commits (now, outside one)."""
    if not purge_urls():
        return
    connection = connections[using]
    if not connection.in_atomic_block:
        purge(sorted(tags))
        return
    active = set(connection.savepoint_ids)
    for savepoints, callback, _robust in connection.run_on_commit:
        # Reusable only if registered where it cannot be rolled back without this write.
        if isinstance(callback, PendingPurge) and savepoints <= active:
            callback.tags.update(tags)
            return
    pending = PendingPurge()
    pending.tags.update(tags)
    connection.on_commit(pending, robust=True)


def purge(tags: list[str]) -> None:
    """PURGE by xkey at every configured edge server. A failure is logged, not raised: the
    write has committed, and the edge's max-age bounds how long the answer can outlive it."""
    for url in purge_urls():
        for start in range(0, len(tags), TAGS_PER_PURGE):
            chunk = " ".join(tags[start : start + TAGS_PER_PURGE])
            request = urllib.request.Request(url, method="PURGE", headers={TAG_HEADER: chunk})
            try:
                with urllib.request.urlopen(request, timeout=PURGE_TIMEOUT_SECONDS):
                    pass
            except OSError as error:
                logger.warning("Edge purge of %s at %s failed: %s", chunk, url, error)
