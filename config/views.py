"""Probes for load balancers and orchestrators, outside the versioned API and its schema."""

from django.core.cache import cache
from django.db import DatabaseError, connections
from django.http import JsonResponse

from config.errors import error_response

RETRY_AFTER_SECONDS = 10
PROBE_KEY = "readyz-probe"


def healthz(request):
    """Liveness: the process answers. Touches neither the database nor the cache."""
    return JsonResponse({"status": "ok"})


def readyz(request):
    """Readiness: every database answers; otherwise a 503 with Retry-After.

    The cache is reported, not required: without it reads are rendered afresh (the knowledge
    snapshots stay in each process, keyed by the version in the database) and writes stay
    visible, so taking every server out of the load balancer for a cache outage would turn a
    slower service into none.
    """
    problems = []
    for alias in connections:
        try:
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT 1")
        except DatabaseError:
            problems.append(
                {
                    "field": None,
                    "code": "database_unavailable",
                    "message": f"The database '{alias}' does not answer.",
                }
            )
    try:
        cache.set(PROBE_KEY, 1, 10)
        cache_answers = cache.get(PROBE_KEY) == 1
    except Exception:  # any client error means the same: the cache is not usable
        cache_answers = False
    cache_state = "ok" if cache_answers else "unavailable"
    if problems:
        response = error_response(503, "not_ready", "The service is not ready.", problems)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return JsonResponse({"status": "ready", "cache": cache_state})
