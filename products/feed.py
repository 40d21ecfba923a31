"""The full feed and the change feed: how a webshop copies the catalogue and keeps it current.

A cursor names a position in the change log (``products.CatalogueChange``) as
``<transaction>-<row>``. The log is read in (transaction id, row id) order and a row is handed
out only when its transaction is older than the oldest transaction still running
(``pg_snapshot_xmin``): every row not yet handed out then belongs to a transaction at least
that new, so it sorts after every row handed out and a cursor never moves past a change that
commits late. SQLite runs one writer at a time and logs transaction 0, so there the row ids
are the order.

A change names a GTIN; what the feed says of it is the product as it is when the change is
read: an upsert of the published product, or a tombstone when it is no longer published.
Reading the state rather than replaying each write makes a change idempotent: a client that
reads one twice, or reads a newer state early, still ends with the catalogue.
"""

import re
from dataclasses import dataclass

from django.db import connections, router, transaction
from django.db.models import Max, Q
from django.db.models.expressions import RawSQL

from formulary.common.catalogue_version import version_read_once
from products.catalogue_rows import product_rows, product_values
from products.models import CatalogueChange
from products.selectors import published_products

CURSOR_PATTERN = re.compile(r"^([0-9]{1,19})-([0-9]{1,19})$")
FEED_CHUNK = 500
MAX_CHANGES_PAGE = 1000
# Transactions that ended before the snapshot was taken all have ids below this.
SNAPSHOT_XMIN_SQL = "pg_snapshot_xmin(pg_current_snapshot())::text::bigint"


@dataclass(frozen=True, order=True)
class Cursor:
    xact: int
    row: int

    def __str__(self):
        return f"{self.xact}-{self.row}"


class InvalidCursor(ValueError):
    pass


def cursor_parse(text: str) -> Cursor:
    found = CURSOR_PATTERN.match(text)
    if found is None or max(int(found[1]), int(found[2])) >= 2**63:
        raise InvalidCursor(text)
    return Cursor(int(found[1]), int(found[2]))


def database_alias() -> str:
    return router.db_for_write(CatalogueChange)


def on_postgresql() -> bool:
    return connections[database_alias()].vendor == "postgresql"


def snapshot_cursor() -> Cursor:
    """The cursor of the current snapshot: every change not in it sorts after this cursor.

    On PostgreSQL, call as the first statement of a REPEATABLE READ transaction, so the
    snapshot it names is the one the rest of the transaction reads.
    """
    if on_postgresql():
        with connections[database_alias()].cursor() as cursor:
            cursor.execute(f"SELECT {SNAPSHOT_XMIN_SQL}")
            # Every change of a transaction at or above xmin is read from (xmin, 0) on.
            return Cursor(cursor.fetchone()[0], 0)
    last = CatalogueChange.objects.aggregate(last=Max("id"))["last"]
    return Cursor(0, last or 0)


def feed_lines():
    """Yields the snapshot's cursor, then lists of product rows: the published catalogue.

    Keyset pages by GTIN in one snapshot, so memory stays at one chunk whatever the size,
    and the rows agree with the cursor.
    """
    alias = database_alias()
    outermost = not connections[alias].in_atomic_block
    with transaction.atomic(using=alias):
        # Inside a transaction already (a test), the snapshot is that transaction's.
        if outermost and on_postgresql():
            with connections[alias].cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield snapshot_cursor()
        last_gtin = ""
        # The knowledge snapshots' versions once, in the feed's snapshot: not once per chunk
        # and snapshot (the response streams after the request's own memo has ended).
        with version_read_once():
            while True:
                rows = list(
                    product_values(
                        published_products()
                        .using(alias)
                        .filter(gtin__gt=last_gtin)
                        .order_by("gtin")
                    )[:FEED_CHUNK]
                )
                if not rows:
                    return
                yield product_rows(rows, with_health_claims=True)
                last_gtin = rows[-1]["gtin"]


@dataclass(frozen=True)
class ChangesPage:
    changes: list[dict]
    cursor: Cursor
    has_more: bool


def changes_after(after: Cursor, *, limit: int) -> ChangesPage:
    """The changes after ``after`` that no running transaction can still precede."""
    alias = database_alias()
    with transaction.atomic(using=alias):
        log = CatalogueChange.objects.using(alias).filter(
            Q(xact__gt=after.xact) | Q(xact=after.xact, id__gt=after.row)
        )
        if on_postgresql():
            log = log.filter(xact__lt=RawSQL(SNAPSHOT_XMIN_SQL, []))
        entries = list(log.order_by("xact", "id").values_list("xact", "id", "gtin")[: limit + 1])
        has_more = len(entries) > limit
        entries = entries[:limit]
        if not entries:
            return ChangesPage(changes=[], cursor=after, has_more=False)
        # One change per GTIN, where it last appears: its state is read once, now.
        last_position = {gtin: position for position, (_, _, gtin) in enumerate(entries)}
        gtins = sorted(last_position, key=last_position.get)
        published = {
            row["gtin"]: row
            for row in product_rows(
                list(
                    product_values(
                        published_products().using(alias).filter(gtin__in=gtins).order_by("gtin")
                    )
                ),
                with_health_claims=True,
            )
        }
    changes = [
        {"gtin": gtin, "change": "upsert", "product": published[gtin]}
        if gtin in published
        else {"gtin": gtin, "change": "delete", "product": None}
        for gtin in gtins
    ]
    last_xact, last_row, _ = entries[-1]
    return ChangesPage(changes=changes, cursor=Cursor(last_xact, last_row), has_more=has_more)
