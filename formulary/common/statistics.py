"""Planner statistics after bulk writes.

A bulk write (the catalogue generator, a large import) changes a table's size and the spread
of its values at once. The planner plans by the statistics ANALYZE last gathered, and
autovacuum gathers them only when it gets round to it (not at all where it is off): straight
after generating 100,000 products on such a server the filtered list chose a plan that read
34,000 rows for a page of 20 and served 25 requests/s, and 187/s after ANALYZE. So the bulk
paths analyse the tables they wrote, and the first user after them gets the good plans.
Both PostgreSQL and SQLite know ``ANALYZE <table>``.

A path that writes outside a transaction (the generator) vacuums as well on PostgreSQL:
VACUUM marks the freshly written pages all-visible, so the index-only scans of the match rows
and the list's indication filter read no table pages (at 10,000 products the filtered list
took 5.1 ms instead of 5.7 in process, ``match/`` 9.0 instead of 9.5).
"""

from collections.abc import Iterable

from django.db import connections, router, transaction
from django.db.models import Model

ANALYZE_AFTER_ROWS = 1_000
"""Rows a bulk write must have written before it analyses: fewer hardly move the statistics
(autovacuum's own threshold is 50 rows plus a tenth of the table), and an admin upload of a
few products should not wait for ANALYZE of a large catalogue."""


def tables_analyze(models: Iterable[type[Model]]) -> None:
    """ANALYZE the tables of ``models`` now (inside a transaction too, on both backends)."""
    for model in models:
        connection = connections[router.db_for_write(model)]
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def tables_vacuum_analyze(models: Iterable[type[Model]]) -> None:
    """``VACUUM (ANALYZE)`` the tables of ``models`` on PostgreSQL; only ANALYZE inside a
    transaction (where VACUUM cannot run) and on SQLite (whose VACUUM rewrites the whole
    database file and marks nothing)."""
    for model in models:
        connection = connections[router.db_for_write(model)]
        if connection.vendor != "postgresql" or connection.in_atomic_block:
            tables_analyze([model])
            continue
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(model._meta.db_table)}")


def tables_analyze_after_bulk_write(models: Iterable[type[Model]], *, rows: int) -> None:
    """Analyse once the current transaction commits, when it wrote ``rows`` rows or more; a
    rolled-back write leaves the statistics as they were."""
    if rows >= ANALYZE_AFTER_ROWS:
        models = list(models)
        transaction.on_commit(lambda: tables_analyze(models))
