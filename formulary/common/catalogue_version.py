"""The catalogue version: one counter in the cache that every write path bumps.

Read responses are cached under it and their ETag derives from it, so a bump makes every
cached read stale at once, on every app server that shares the cache. It lives in the
lowest layer so that products, compounds and the composition layer can all bump it.

Bumped by: the model signals connected below (saves, deletes and many-to-many changes of
every formulary, compounds and products model), and explicitly where the ORM bypasses
signals (``QuerySet.update`` in admin bulk actions, ``bulk_create`` in generators and
imports): call ``catalogue_version_bump()`` after such a write.
"""

import functools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

from django.apps import apps
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

VERSION_KEY = "catalogue-version"
CATALOGUE_APPS = ("formulary", "compounds", "products")
T = TypeVar("T")
SIGNALS = {"save": post_save, "delete": post_delete, "m2m": m2m_changed}
# Inside one request the version is read from the cache once (see ``version_read_once``).
request_memo: ContextVar[dict | None] = ContextVar("catalogue_version_memo", default=None)


@contextmanager
def version_read_once() -> Iterator[None]:
    """Within this block ``catalogue_version()`` asks the cache once, until a bump.

    The response cache, the reference data and the known slugs each need the version; a
    request then makes one cache round trip for it instead of one per use. Reading it once, at
    the first use, keeps the order that makes everything stale-proof: the version is read
    before any data it stands for.
    """
    token = request_memo.set({})
    try:
        yield
    finally:
        request_memo.reset(token)


def catalogue_version() -> int | None:
    """The current version; None while the cache cannot be reached (then nothing is kept)."""
    memo = request_memo.get()
    if memo is not None and "version" in memo:
        return memo["version"]
    version = read_version()
    if memo is not None:
        memo["version"] = version
    return version


def catalogue_version_with(key: str) -> tuple[int | None, object]:
    """The current version and the cache entry ``key``, in one round trip to the cache."""
    memo = request_memo.get()
    if memo is not None and "version" in memo:
        return memo["version"], cache.get(key)
    found = cache.get_many([VERSION_KEY, key])
    version = found.get(VERSION_KEY)
    if version is None:
        version = read_version()
    if memo is not None:
        memo["version"] = version
    return version, found.get(key)


def read_version() -> int | None:
    version = cache.get(VERSION_KEY)
    if version is None:
        # Start from the clock, not from 1: after the cache was emptied or evicted the new
        # versions never repeat old ones that other caches or clients may still hold.
        cache.add(VERSION_KEY, time.time_ns() // 1000, timeout=None)
        version = cache.get(VERSION_KEY)
    return version


def catalogue_version_bump() -> None:
    """Make every cached read stale now, and again when the current transaction commits.

    The bump at commit closes the window in which a concurrent reader could cache data of
    before the commit under the new version; the immediate bump makes the write visible to
    reads inside the same transaction.
    """
    bump_now()
    # Once per transaction is enough at commit; the pending list empties on rollback too.
    if not any(callback is bump_now for _, callback, _ in connection.run_on_commit):
        transaction.on_commit(bump_now)


def bump_now() -> None:
    memo = request_memo.get()
    if memo is not None:
        memo.clear()
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        read_version()
        cache.incr(VERSION_KEY)


def bump_on_catalogue_write(sender, **kwargs):
    catalogue_version_bump()


def connect_catalogue_signals() -> None:
    """Connected for every model of the catalogue apps (the through tables included)."""
    for label in CATALOGUE_APPS:
        for model in apps.get_app_config(label).get_models(include_auto_created=True):
            for name, signal in SIGNALS.items():
                signal.connect(
                    bump_on_catalogue_write,
                    sender=model,
                    dispatch_uid=f"catalogue-version-{name}-{model._meta.label}",
                )


def kept_per_version(build: Callable[[], T]) -> Callable[[], T]:
    """``build()`` once per catalogue version and process, for small reference data.

    The request path then reads the knowledge base (a few hundred rows) from memory; a bump
    rebuilds it on the next request in every process that shares the cache.
    """
    kept: dict = {}

    @functools.wraps(build)
    def current() -> T:
        version = catalogue_version()
        if version is None:
            return build()
        if kept.get("version") != version:
            # The version is read before building: a write during the build stays stale-proof.
            kept["value"] = build()
            kept["version"] = version
        return kept["value"]

    return current
