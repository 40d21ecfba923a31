"""Querysets whose SQL is compiled once per process and database, then only run.

Building and compiling a ``values()`` queryset of two dozen columns costs the ORM about
0.6 ms of CPU per request, five times what running the statement and reading its row costs
(a product detail, measured at 100,000 products). Where a read always has one shape and only
its values change (a product by its GTIN), ``CompiledValues`` lets the ORM write the statement
once, with a marker in the place of each value, and afterwards puts the values in the markers'
places. The rows are what the queryset itself gives: dicts by the same names, through the
same converters of its fields (SQLite's decimals and booleans need them), or for a queryset of
model instances the instances ModelIterable builds (``run_model_statement``: the match's
ranking). On PostgreSQL the statement is prepared once per connection, so the server does not
parse it again, and keeps one plan where one suits every value (``plan_cache_mode`` auto).

Only for querysets whose SQL does not depend on the values: one value per marker, none that
picks a branch (a list of any length, ``None``, a value that changes the joins). A test of
each user holds its rows equal to the queryset's own.
"""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db import connections
from django.db.models import Lookup, QuerySet
from django.db.models.query import get_related_populators


@dataclass(frozen=True)
class Statement:
    sql: str
    params: tuple
    # The position of each value in ``params``, in the order the values are given.
    slots: tuple[int, ...]
    names: tuple[str, ...]
    converters: tuple[tuple[int, tuple[Callable, ...], object], ...]
    # For a queryset of model instances: how a row becomes one (``run_model_statement``).
    instances: "InstanceLayout | None" = None


@dataclass(frozen=True)
class InstanceLayout:
    """Where a model queryset's row holds the model's fields, its select_related objects and
    its annotations: what Django's ModelIterable reads from the compiler, kept with the SQL."""

    model: type
    field_names: tuple[str, ...]
    fields: slice
    klass_info: dict
    select: tuple
    annotations: tuple[tuple[str, int], ...]

    @classmethod
    def of(cls, compiler) -> "InstanceLayout":
        klass_info = compiler.klass_info
        columns = klass_info["select_fields"]
        fields = slice(columns[0], columns[-1] + 1)
        return cls(
            model=klass_info["model"],
            field_names=tuple(column[0].target.attname for column in compiler.select[fields]),
            fields=fields,
            klass_info=klass_info,
            select=tuple(compiler.select),
            annotations=tuple(compiler.annotation_col_map.items()),
        )


class CompiledValues:
    """``build(*values)`` (a values queryset) as a statement compiled on first use.

    ``rows(alias, *values)`` runs it with the values and returns the queryset's rows. The
    values take the markers' places as given, so give them as the field would store them (a
    ``str`` for a CharField).
    """

    def __init__(self, build: Callable[..., QuerySet], *, markers: int):
        self.build = build
        self.markers = tuple(marker_for("", position) for position in range(markers))
        self.statements: dict[str, Statement] = {}

    def statement(self, alias: str) -> Statement:
        found = self.statements.get(alias)
        if found is None:
            # Two threads may compile at once: both write the same statement.
            found = self.statements[alias] = compile_statement(
                self.build(*self.markers), alias, self.markers
            )
        return found

    def rows(self, alias: str, *values) -> list[dict]:
        with prepared_cursor(connections[alias]) as cursor:
            return run_statement(self.statement(alias), alias, values, cursor)


class AnyOf(Lookup):
    """``lhs = ANY(rhs)``: a list of values in one marker's place, as a PostgreSQL array, so a
    statement reads any number of rows by their ids with one shape (and one plan)."""

    lookup_name = "any_of"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs})", (*lhs_params, *rhs_params)


def marker_for(value, position: int):
    """A stand-in for ``value`` that no real value equals and its field lets through unchanged:
    text for text, a negative number for an id, a decimal of six places for a decimal (a
    backend that rounds decimals to the column's places would change it, and so be found
    out)."""
    if isinstance(value, bool):
        raise TypeError("A boolean picks a branch of the statement: it cannot be a marker.")
    if isinstance(value, int):
        return -(7_300_000_000 + position)
    if isinstance(value, float):
        return -(7_300_000_000.5 + position)
    if isinstance(value, Decimal):
        return Decimal(f"-73000.{position:06d}")
    return f"\x1fvalue-{position}\x1f"


def compile_statement(queryset: QuerySet, alias: str, markers) -> Statement:
    """``queryset``'s SQL with the place of each of ``markers`` among its parameters; a
    ValueError when a marker is not there exactly once (unchanged, and of its type)."""
    query = queryset.using(alias).query
    compiler = query.get_compiler(alias)
    sql, params = compiler.as_sql()
    positions = [
        [i for i, value in enumerate(params) if type(value) is type(marker) and value == marker]
        for marker in markers
    ]
    if any(len(found) != 1 for found in positions):
        raise ValueError("Each value must appear exactly once among the statement's parameters.")
    # The names as Django's ValuesIterable gives them.
    if query.selected:
        names = tuple(query.selected)
    else:
        names = (*query.extra_select, *query.values_select, *query.annotation_select)
    converters = tuple(
        (position, tuple(functions), expression)
        for position, (functions, expression) in compiler.get_converters(
            [column for column, _, _ in compiler.select[: compiler.col_count]]
        ).items()
    )
    return Statement(
        sql,
        tuple(params),
        tuple(found[0] for found in positions),
        names,
        converters,
        instances=InstanceLayout.of(compiler) if compiler.klass_info else None,
    )


def statement_rows(statement: Statement, alias: str, values, cursor, suffix) -> list[list]:
    """The statement's rows with ``values`` in its markers' places, each through its fields'
    converters."""
    params = list(statement.params)
    for slot, value in zip(statement.slots, values, strict=True):
        params[slot] = value
    cursor.execute(statement.sql + suffix[0], [*params, *suffix[1]])
    connection = connections[alias]
    rows = []
    for row in cursor.fetchall():
        row = list(row)
        for position, functions, expression in statement.converters:
            for convert in functions:
                row[position] = convert(row[position], expression, connection)
        rows.append(row)
    return rows


def run_statement(statement: Statement, alias: str, values, cursor, *, suffix=("", ())) -> list:
    """The statement's rows with ``values`` in its markers' places, as the values queryset
    gives them. ``suffix``: SQL and parameters appended (a page's LIMIT and OFFSET)."""
    rows = statement_rows(statement, alias, values, cursor, suffix)
    return [dict(zip(statement.names, row, strict=True)) for row in rows]


def run_model_statement(statement: Statement, alias: str, values, cursor, *, suffix=("", ())):
    """The statement's rows as the model queryset gives them: instances with their
    select_related objects and annotations, built as Django's ModelIterable builds them."""
    layout = statement.instances
    populators = get_related_populators(layout.klass_info, list(layout.select), alias)
    instances = []
    for row in statement_rows(statement, alias, values, cursor, suffix):
        instance = layout.model.from_db(alias, layout.field_names, row[layout.fields])
        for populator in populators:
            populator.populate(row, instance)
        for name, position in layout.annotations:
            setattr(instance, name, row[position])
        instances.append(instance)
    return instances


def prepared_cursor(connection):
    """A cursor whose statements the database keeps prepared (PostgreSQL, config/postgresql/),
    else an ordinary one. Only for statements whose plan suits any values: after five runs
    PostgreSQL may keep one plan made without them."""
    prepared = getattr(connection, "prepared_cursor", None)
    return prepared() if prepared is not None else connection.cursor()
