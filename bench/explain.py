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
from products.catalogue_rows import product_values  # noqa: E402
from products.knowledge import knowledge  # noqa: E402
from products.matching import weights as match_weights  # noqa: E402
from products.matching.ranking import (  # noqa: E402
    CANDIDATES_PER_RESULT,
    evidence_bound,
    evidence_spread,
    points_field,
    points_floor,
    points_needed,
    ranked_matches,
)
from products.models import ProductIndication  # noqa: E402
from products.selectors import published_products  # noqa: E402


def page_query(query: str):
    """The page query of products/ as ProductViewSet builds it."""
    filtered = ProductFilter(QueryDict(query), queryset=published_products()).qs
    return product_values(filtered.order_by(*filtered.query.order_by, "gtin"))[:21]


def match_queries(query: str):
    """The queries of products/match/'s top-k as ProductMatchView runs them (jurisdiction eu,
    the first page): the floor of points, and the ranking above the floor it ends with."""
    filterset = MatchFilter(QueryDict(query), queryset=ProductMatchView().get_queryset())
    assert filterset.is_valid(), filterset.errors
    slugs = filterset.form.cleaned_data["indication"]
    ids = [knowledge().indication_ids[slug] for slug in slugs]
    limit = adult_upper_limit("eu").amount_mg
    count = 21
    field = points_field("eu")
    # As top_matches: the scan starts the evidence spread below the floor of points.
    spread = float(match_weights.EVIDENCE_WEIGHT * evidence_spread(knowledge(), slugs))
    floor = points_floor(ids, field, CANDIDATES_PER_RESULT * count) - spread
    options = {"indication_ids": ids, "limit_mg": limit}
    found = list(ranked_matches(filterset.qs, **options, floor=(field, floor))[:count])
    needed = min(floor, points_needed(found[-1].match_score, evidence_bound(knowledge(), slugs)))
    nth = (
        ProductIndication.objects.filter(indication_id=ids[0])
        .order_by(f"-{field}")
        .values(field)[CANDIDATES_PER_RESULT * count - 1 :][:1]
    )
    return [
        ("the floor of points (one indication's)", nth),
        (
            f"the ranking above {needed:.4f} points",
            ranked_matches(filterset.qs, **options, floor=(field, needed))[:count],
        ),
    ]


def main(arguments: list[str]):
    queries = [query for query in arguments if not query.startswith("match:")]
    for query in queries:
        print(f"### products/?{query}\n\n```\n{page_query(query).explain(analyze=True)}\n```\n")
    for query in (a.removeprefix("match:") for a in arguments if a.startswith("match:")):
        for title, queryset in match_queries(query):
            plan = queryset.explain(analyze=True)
            print(f"### products/match/?{query}: {title}\n\n```\n{plan}\n```\n")


if __name__ == "__main__":
    main(sys.argv[1:])
