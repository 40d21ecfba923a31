"""A product's lines as one JSON array from a correlated subquery, for a query over products.

Its own module below the read paths, so the catalogue rows and the match ranking share it.
"""

from products.models import Product


def lines_json_sql(table: str, columns: tuple[str, ...], vendor: str) -> str:
    """The lines of the outer query's product as one JSON array of arrays, in id order.

    A correlated subquery in the page's own query: the page and its lines come in one round
    trip. Numbers arrive as JSON text and are read back as Decimal (``parse_lines``).
    """
    fields = ", ".join(f"line.{column}" for column in columns)
    outer = f"{Product._meta.db_table}.id"
    if vendor == "postgresql":
        sql = (
            f"SELECT json_agg(json_build_array({fields}) ORDER BY line.id)::text "
            f"FROM {table} line WHERE line.product_id = {outer}"
        )
    else:  # SQLite keeps the order its ordered FROM subquery gives the aggregate
        sql = (
            f"SELECT json_group_array(json_array({fields})) FROM (SELECT * FROM {table} "
            f"WHERE product_id = {outer} ORDER BY id) line"
        )
    return f"({sql})"
