"""EXPLAIN ANALYZE of the catalogue's main queries, as Markdown (run by bench/bench.py)."""

import os
import sys
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from django.http import QueryDict  # noqa: E402

from formulary.selectors import adult_upper_limit  # noqa: E402
from products.api.filters import ProductFilter  # noqa: E402
from products.api.match import ProductMatchView  # noqa: E402
from products.api.match_filters import MatchFilter  # noqa: E402
from products.catalogue_rows import PRODUCT_COLUMNS  # noqa: E402
from products.knowledge import knowledge  # noqa: E402
from products.matching.ranking import ranked_matches  # noqa: E402
from products.models import IngredientLine  # noqa: E402
from products.selectors import published_products  # noqa: E402


def page_query(query: str):
    """The page query of products/ as ProductViewSet builds it."""
    filtered = ProductFilter(QueryDict(query), queryset=published_products()).qs
    return filtered.order_by(*filtered.query.order_by, "gtin").values(*PRODUCT_COLUMNS)[:21]


def match_query(query: str):
    """The ranking query of products/match/ as ProductMatchView builds it (jurisdiction eu)."""
    filterset = MatchFilter(QueryDict(query), queryset=ProductMatchView().get_queryset())
    assert filterset.is_valid(), filterset.errors
    ids = [knowledge().indication_ids[slug] for slug in filterset.form.cleaned_data["indication"]]
    limit = adult_upper_limit("eu")
    return ranked_matches(filterset.qs, indication_ids=ids, limit_mg=limit.amount_mg)[:21]


def main(arguments: list[str]):
    queries = [query for query in arguments if not query.startswith("match:")]
    for query in queries:
        print(f"### products/?{query}\n\n```\n{page_query(query).explain(analyze=True)}\n```\n")
    for query in (a.removeprefix("match:") for a in arguments if a.startswith("match:")):
        plan = match_query(query).explain(analyze=True)
        print(f"### products/match/?{query} (the ranking)\n\n```\n{plan}\n```\n")
    if not queries:
        return
    ids = [row["id"] for row in page_query(queries[0])]
    lines = IngredientLine.objects.filter(product_id__in=ids).order_by("product_id", "id")
    print("### Ingredient lines of that first page\n\n```")
    print(lines.values_list("product_id", "compound_id", "amount_mg").explain(analyze=True))
    print("```")


if __name__ == "__main__":
    main(sys.argv[1:])
