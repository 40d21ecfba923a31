"""Reads to a replica database, writes to the primary (enabled by DATABASE_REPLICA_URL).

The admin, every request that may write (not GET/HEAD/OPTIONS) and any read inside a
transaction on the primary use the primary: staff and services see their own writes at once,
while the public reads, which tolerate a replica's lag of a moment, spread over replicas.
"""

from contextvars import ContextVar

from django.db import connections

PRIMARY = "default"
REPLICA = "replica"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
ADMIN_PREFIX = "/admin/"

primary_pinned: ContextVar[bool] = ContextVar("primary_pinned", default=False)


class PrimaryReplicaRouter:
    def db_for_read(self, model, **hints):
        if primary_pinned.get() or connections[PRIMARY].in_atomic_block:
            return PRIMARY
        return REPLICA

    def db_for_write(self, model, **hints):
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        # The replica holds the same rows as the primary.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == PRIMARY


class PrimaryForWritesMiddleware:
    """Pins the primary for the admin and for requests that may write."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        pinned = request.method not in SAFE_METHODS or request.path.startswith(ADMIN_PREFIX)
        token = primary_pinned.set(pinned)
        try:
            return self.get_response(request)
        finally:
            primary_pinned.reset(token)
