"""The catalogue version: counters in the database, raised by every write, per kind of answer.

The interface for write paths
-----------------------------
    catalogue_version_bump()                          everything may have changed
    catalogue_version_bump(products=[pk, ...])        these products (or their lines) changed
    catalogue_version_bump(gtins=["2073...", ...])    the same by GTIN (a deleted row has no pk)
    catalogue_version_bump(knowledge=True)            the knowledge base (formulary, compounds)
    catalogue_version_bump(all_products=True)         every product (a brand, a bulk load)
    catalogue_version_bump(products=[...], terms=True) and which products are published with
                                                      which compounds changed (the counts)

The keywords combine (``products=[...], knowledge=True``). Call it inside the transaction that
writes, or right after an autocommitted write; never before the write. The model signals
connected below call it for every save, delete and many-to-many change of the catalogue apps'
models, so only writes that send no signals (``QuerySet.update``, ``bulk_create``,
``bulk_update``, raw SQL) must call it themselves. Pass the entities where they are known: a
bare call makes every cached answer stale, on every server and in the edge cache.

What an answer depends on
-------------------------
Every cached answer names the keys it depends on (``formulary.common.read_cache``):

    CATALOGUE         every answer; raised by the bare bump
    KNOWLEDGE         every answer (a product shows its compounds' names and evidence)
    PRODUCTS          collections of products: the list and match (any product write)
    PRODUCT_DETAILS   every product detail (a bump of many products at once)
    product-<gtin>    that product's detail
    PRODUCT_TERMS     the vocabularies' product counts: which products are published, with
                      which compounds (a product created, deleted, its status or compounds
                      changed); a name or price edit leaves them cached

A write raises the keys it affects; an answer goes stale exactly when one of its keys is raised,
so a product's name or price edit leaves ``compounds/`` and the other products' details
cached, and a knowledge-base write leaves nothing that shows knowledge. The same keys are the
answers' edge-cache tags, purged when the transaction commits (``formulary.common.edge_cache``).

Why it is never stale
---------------------
Each key is a row of ``formulary_catalogueversion``. The bump raises the rows in the writing
transaction, so in every process the new values become visible in the same instant as the data
they stand for: there is no moment in which committed data hides behind an old answer. A reader
reads the values first (one query per request, remembered for the request) and the data after,
so an answer stored under some values holds data at least as new as they are: an old answer is
never stored under a new version. Values only grow: a bump sets ``max(value + 1, now in µs)``,
and the epoch row starts from the clock, so a database made afresh or restored from a backup
does not repeat values a shared cache may still hold answers under.

The price: one indexed primary-key query per cached read, and concurrent writers of products
queue on the ``products`` row until they commit (SQLite has one writer anyway).

With a read replica (``DATABASE_REPLICA_URL``) the values are read from the database the
request's data comes from (the router's choice), so the pair stays ordered on the replica too:
a lagging replica serves answers as old as its data, never old data under a newer version. A
pooler in front of several replicas must keep one request's statements on one replica.
"""

import functools
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

from django.apps import apps
from django.db import connections, router, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from simple_history.models import HistoricalChanges

from formulary.common import edge_cache
from formulary.common.models import CatalogueVersion
from formulary.common.statements import prepared_cursor

CATALOGUE = "catalogue"
KNOWLEDGE = "knowledge"
PRODUCTS = "products"
PRODUCT_DETAILS = "product-details"
PRODUCT_TERMS = "product-terms"
# Above this many products one bump raises PRODUCT_DETAILS instead of a row per product.
MAX_PRODUCT_KEYS = 200

KNOWLEDGE_APPS = ("formulary", "compounds")
PRODUCT_APP = "products"
# Models of the catalogue apps that no answer reads (their writes make nothing stale).
NOT_READ_BY_ANSWERS = frozenset({"formulary.CatalogueVersion", "products.ImportJob"})

KNOWLEDGE_ANSWER = (CATALOGUE, KNOWLEDGE)
COLLECTION_ANSWER = (CATALOGUE, KNOWLEDGE, PRODUCTS)
# A vocabulary with the number of published products per term (products.api.vocabulary).
COUNTED_ANSWER = (CATALOGUE, KNOWLEDGE, PRODUCT_TERMS)

T = TypeVar("T")

# Inside one request each key's value is read once (see ``version_read_once``).
request_memo: ContextVar[dict | None] = ContextVar("catalogue_version_memo", default=None)


def product_key(gtin: str) -> str:
    return f"product-{gtin}"


def detail_answer(gtin: str) -> tuple[str, ...]:
    return (CATALOGUE, KNOWLEDGE, PRODUCT_DETAILS, product_key(gtin))


@contextmanager
def version_read_once() -> Iterator[None]:
    """Within this block each key's value is read from the database once, until a bump.

    The response cache, the knowledge snapshots and the known slugs all need the values; a
    request then makes one query for them. Reading them at the first use keeps the order that
    makes everything stale-proof: the versions are read before any data they stand for.
    """
    token = request_memo.set({})
    try:
        yield
    finally:
        request_memo.reset(token)


def answer_versions(keys: Sequence[str]) -> tuple[int, ...]:
    """The current values of ``keys`` (0 for a key never raised), in their order."""
    memo = request_memo.get()
    known = memo if memo is not None else {}
    missing = [key for key in keys if key not in known]
    if missing:
        found = dict(read_versions(missing, using=router.db_for_read(CatalogueVersion)))
        for key in missing:
            known[key] = found.get(key, 0)
    return tuple(known[key] for key in keys)


def read_versions(keys: Sequence[str], *, using: str) -> list[tuple[str, int]]:
    """The stored (key, value) rows of ``keys``. Plain SQL: every request reads them, and
    building the ORM query cost more than the database's answer; a prepared statement where
    the database has them (``prepared_cursor``), since its plan is the same for any keys."""
    connection = connections[using]
    table = connection.ops.quote_name(CatalogueVersion._meta.db_table)
    key, value = (connection.ops.quote_name(name) for name in ("key", "value"))
    with prepared_cursor(connection) as cursor:
        cursor.execute(
            f"SELECT {key}, {value} FROM {table} WHERE {key} IN ({', '.join(['%s'] * len(keys))})",
            list(keys),
        )
        return cursor.fetchall()


def catalogue_version(keys: Sequence[str] = COLLECTION_ANSWER) -> tuple[int, ...]:
    """The version of an answer that depends on ``keys`` (by default a product list's)."""
    return answer_versions(keys)


def catalogue_version_bump(
    *,
    products: Iterable[int] | None = None,
    gtins: Iterable[str] | None = None,
    knowledge: bool = False,
    all_products: bool = False,
    terms: bool = False,
) -> None:
    """Make the answers that may contain what was written stale: see the module docstring."""
    keys = bumped_keys(
        products=products, gtins=gtins, knowledge=knowledge, all_products=all_products
    )
    if terms or all_products:
        keys.append(PRODUCT_TERMS)
    if not keys:
        return
    alias = router.db_for_write(CatalogueVersion)
    raise_versions(keys, using=alias)
    memo = request_memo.get()
    if memo is not None:
        for key in keys:
            memo.pop(key, None)
    edge_cache.purge_on_commit(keys, using=alias)


def bumped_keys(*, products, gtins, knowledge, all_products) -> list[str]:
    if products is None and gtins is None and not knowledge and not all_products:
        return [CATALOGUE]  # the bare bump: CATALOGUE is in every answer, the counted too
    keys = [KNOWLEDGE] if knowledge else []
    if all_products:
        return [*keys, PRODUCTS, PRODUCT_DETAILS]
    if products is None and gtins is None:
        return keys
    changed = set(gtins or ())
    ids = list(products or ())
    if ids and len(ids) <= MAX_PRODUCT_KEYS:
        # Looked up by label: the platform sits below the products app and may not import it.
        product_model = apps.get_model(PRODUCT_APP, "Product")
        changed.update(product_model.objects.filter(pk__in=ids).values_list("gtin", flat=True))
    if not ids and not changed:
        return keys
    keys.append(PRODUCTS)
    if len(ids) > MAX_PRODUCT_KEYS or len(changed) > MAX_PRODUCT_KEYS:
        keys.append(PRODUCT_DETAILS)
    else:
        keys.extend(sorted(product_key(gtin) for gtin in changed))
    return keys


def raise_versions(keys: Sequence[str], *, using: str) -> None:
    """Each key to ``max(value + 1, now in µs)``, created if missing: one upsert per 500 keys.

    The rows are locked in one order (the keys sorted) so that two writers cannot deadlock
    over the rows one bump raises.
    """
    connection = connections[using]
    table = connection.ops.quote_name(CatalogueVersion._meta.db_table)
    key, value = (connection.ops.quote_name(name) for name in ("key", "value"))
    now = time.time_ns() // 1000
    ordered = sorted(set(keys))
    with transaction.atomic(using=using), connection.cursor() as cursor:
        for start in range(0, len(ordered), 500):
            chunk = ordered[start : start + 500]
            cursor.execute(
                f"INSERT INTO {table} ({key}, {value}) VALUES "
                + ", ".join(["(%s, %s)"] * len(chunk))
                + f" ON CONFLICT ({key}) DO UPDATE SET {value} = CASE"
                f" WHEN {table}.{value} >= excluded.{value} THEN {table}.{value} + 1"
                f" ELSE excluded.{value} END",
                [item for name in chunk for item in (name, now)],
            )


def kept_per_version(
    build: Callable[[], T], *, depends_on: Sequence[str] = KNOWLEDGE_ANSWER
) -> Callable[[], T]:
    """``build()`` once per version of ``depends_on`` and process, for small reference data.

    The request path then reads the knowledge base (a few hundred rows) from memory. The
    version comes from the database, so a write by any process rebuilds it on the next
    request, and an unreachable cache changes nothing: the snapshot stays.
    """
    kept: dict = {}

    @functools.wraps(build)
    def current() -> T:
        version = answer_versions(depends_on)
        entry = kept.get("entry")
        if entry is None or entry[0] != version:
            # The version is read before building: a write during the build stays stale-proof.
            # One assignment, so a thread never sees one version with another's value.
            entry = kept["entry"] = (version, build())
        return entry[1]

    return current


def depends_on_model(label: str) -> tuple[str, ...]:
    """What a snapshot of one model's rows depends on (``app.Model``)."""
    return COLLECTION_ANSWER if label.startswith(f"{PRODUCT_APP}.") else KNOWLEDGE_ANSWER


# ---- Signals: every save, delete and many-to-many change of a catalogue model bumps.


# Per model, the columns whose change alters the vocabularies' product counts.
TERM_COLUMNS = {"Product": "status", "IngredientLine": "compound_id"}


def remember_before_save(sender, instance, **kwargs):
    """What a save may change that the bump needs to know: the GTIN a product's cached detail
    is stored under, and the column that puts a product under a term (TERM_COLUMNS)."""
    if instance.pk is None:
        return
    column = TERM_COLUMNS[sender.__name__]
    names = ("gtin", column) if sender.__name__ == "Product" else (column,)
    stored = sender.objects.filter(pk=instance.pk).values(*names).first() or {}
    instance._gtin_before_save = stored.get("gtin")
    instance._terms_changed = column not in stored or stored[column] != getattr(instance, column)


def terms_changed(instance, kwargs) -> bool:
    """Whether this save or delete of a product or ingredient line changes the counts."""
    if type(instance).__name__ not in TERM_COLUMNS:
        return False
    if "created" not in kwargs or kwargs["created"]:
        return True  # a delete or a new row
    return getattr(instance, "_terms_changed", True)


def bump_on_catalogue_write(sender, instance=None, action=None, **kwargs):
    if instance is None or sender._meta.label in NOT_READ_BY_ANSWERS:
        return
    if action is not None and not action.startswith("post_"):
        return  # a many-to-many change sends pre_ and post_: one bump is enough
    app = sender._meta.app_label
    if app in KNOWLEDGE_APPS:
        catalogue_version_bump(knowledge=True)
    elif sender._meta.label == f"{PRODUCT_APP}.Product":
        gtins = {instance.gtin, getattr(instance, "_gtin_before_save", None)} - {None}
        catalogue_version_bump(gtins=sorted(gtins), terms=terms_changed(instance, kwargs))
    elif getattr(instance, "product_id", None) is not None:
        # Ingredient, nutrient and match lines.
        catalogue_version_bump(
            products=[instance.product_id], terms=terms_changed(instance, kwargs)
        )
    else:
        # A brand (its name shows in every product of it) or a model added later: every
        # product answer, until a narrower rule is written here.
        catalogue_version_bump(all_products=True)


SIGNALS = {"save": post_save, "delete": post_delete, "m2m": m2m_changed}


def connect_catalogue_signals() -> None:
    """Connected for every model of the catalogue apps (the through tables included), except
    the history tables: no answer reads them."""
    for label in (*KNOWLEDGE_APPS, PRODUCT_APP):
        for model in apps.get_app_config(label).get_models(include_auto_created=True):
            if issubclass(model, HistoricalChanges):
                continue
            for name, signal in SIGNALS.items():
                signal.connect(
                    bump_on_catalogue_write,
                    sender=model,
                    dispatch_uid=f"catalogue-version-{name}-{model._meta.label}",
                )
    for name in TERM_COLUMNS:
        pre_save.connect(
            remember_before_save,
            sender=apps.get_model(PRODUCT_APP, name),
            dispatch_uid=f"catalogue-version-before-save-{name}",
        )
