"""EXPLAIN ANALYZE of the catalogue's main queries, as Markdown (run by bench/bench.py)."""

import os
import sys
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from django.http import QueryDict  # noqa: E402

from products.catalogue_rows import PRODUCT_COLUMNS  # noqa: E402
from products.filters import ProductFilter  # noqa: E402
from products.models import IngredientLine  # noqa: E402
from products.selectors import published_products  # noqa: E402


def page_query(query: str):
    """The page query of products/ as ProductViewSet builds it."""
    filtered = ProductFilter(QueryDict(query), queryset=published_products()).qs
    return filtered.order_by(*filtered.query.order_by, "gtin").values(*PRODUCT_COLUMNS)[:21]


def main(queries: list[str]):
    for query in queries:
        print(f"### products/?{query}\n\n```\n{page_query(query).explain(analyze=True)}\n```\n")
    ids = [row["id"] for row in page_query(queries[0])]
    lines = IngredientLine.objects.filter(product_id__in=ids).order_by("product_id", "id")
    print("### Ingredient lines of that first page\n\n```")
    print(lines.values_list("product_id", "compound_id", "amount_mg").explain(analyze=True))
    print("```")


if __name__ == "__main__":
    main(sys.argv[1:])
