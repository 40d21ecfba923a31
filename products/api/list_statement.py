"""The catalogue list's one query, compiled once per shape of its filters.

Validating a page's filters is cheap; building the filtered values queryset and compiling it
cost the ORM about 2 ms of CPU per page (10,000 products, measured in process), more than the
database takes to run it. The SQL depends on which filters are given and on a few of their
values (an ordering, a boolean, a claim's threshold), not on the slugs, ids and amounts a
webshop asks for: ``ProductFilter.statement_parameters`` names those, and they take markers'
places (formulary.common.statements), so one statement serves every value. The page's LIMIT
and OFFSET are parameters too.

The statements are kept per knowledge version: a claim's threshold and a jurisdiction's upper
limit are written into them. Django's own cursor runs them, so PostgreSQL plans each page for
its values, as it plans the queryset's. A test holds the rows equal to the queryset's over
generated filter combinations.
"""

from collections.abc import Callable

from django.db import connections, router
from django.db.models import QuerySet

from formulary.common.catalogue_version import kept_per_version
from formulary.common.statements import compile_statement, marker_for, run_statement
from products.api.filters import EACH, ONE, UNUSED
from products.models import Product

# Shapes kept per process and knowledge version; past this a page is compiled afresh.
MAX_SHAPES = 1000
# A shape whose statement could not take its values as parameters: built afresh each time.
UNCOMPILABLE = object()

statements_kept = kept_per_version(dict)


class CompiledPage:
    """The filtered, ordered products as a sliceable sequence of ``product_values`` rows:
    what the paginator reads from a queryset, one statement run per slice."""

    def __init__(self, statement, alias: str, values: list):
        self.statement, self.alias, self.values = statement, alias, values

    def __getitem__(self, page: slice) -> list[dict]:
        with connections[self.alias].cursor() as cursor:
            return run_statement(
                self.statement,
                self.alias,
                self.values,
                cursor,
                suffix=(" LIMIT %s OFFSET %s", (page.stop - page.start, page.start)),
            )


def catalogue_page_rows(filterset, base: QuerySet, build: Callable[..., QuerySet]):
    """``build(filtered)`` (the values queryset of ``base`` under the filters) as a
    ``CompiledPage`` where its shape compiles, else the queryset itself.

    ``filterset``: the validated ProductFilter, or None when nothing is filtered.
    """
    given = filterset.given() if filterset is not None else {}
    shape = statement_shape(filterset, given)
    if shape is None:
        return build(filterset.filter_queryset(base))
    key, values, markers = shape
    alias = router.db_for_read(Product)
    kept = statements_kept()
    statement = kept.get((alias, key))
    if statement is None:
        try:
            statement = compile_statement(
                build(filter_with_markers(filterset, base, given, markers)),
                alias,
                [marker for marked in markers.values() for marker in marked],
            )
        except ValueError:
            statement = UNCOMPILABLE
        if len(kept) < MAX_SHAPES:
            kept[alias, key] = statement
    if statement is UNCOMPILABLE:
        # Only a filtered shape can fail to compile: the unfiltered one has no markers.
        return build(filterset.filter_queryset(base))
    return CompiledPage(statement, alias, values)


def statement_shape(filterset, given: dict):
    """(key, parameter values, markers by filter) of the given filters, or None when one of
    them never compiles. The key holds every filter given: a parameter's by how many values
    it binds, any other's by its value."""
    if filterset is None:
        return (), [], {}
    if filterset.never_compiled & given.keys():
        return None
    key, values, markers = [], [], {}
    for name, value in given.items():
        binding = filterset.statement_binding(name)
        if binding == UNUSED:
            continue
        if binding is None:
            key.append((name, tuple(value) if isinstance(value, list) else value))
            continue
        bound = parameters_of(filterset, binding, value)
        markers[name] = [marker_for(item, len(values) + i) for i, item in enumerate(bound)]
        values.extend(bound)
        key.append((name, len(bound)))
    return tuple(key), values, markers


def parameters_of(filterset, binding, value) -> list:
    if binding == ONE:
        return [value]
    if binding == EACH:
        return list(value)
    to_parameters, _ = binding
    return getattr(filterset, to_parameters)(value)


def filter_with_markers(filterset, base: QuerySet, given: dict, markers: dict) -> QuerySet:
    """``base`` under the given filters, in their order, with markers for the parameters."""
    queryset = base
    for name, value in given.items():
        binding = filterset.statement_binding(name)
        if binding == UNUSED:
            continue
        if binding is None:
            queryset = filterset.apply_filter(queryset, name, value)
        elif binding == ONE:
            queryset = filterset.apply_filter(queryset, name, markers[name][0])
        elif binding == EACH:
            queryset = filterset.apply_filter(queryset, name, markers[name])
        else:
            _, filter_by_parameters = binding
            queryset = getattr(filterset, filter_by_parameters)(queryset, name, markers[name])
    return queryset
