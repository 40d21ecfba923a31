"""EXPLAIN ANALYZE of the catalogue's main queries, as Markdown (run by bench/bench.py)."""

import os
import sys
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from django.db import connection  # noqa: E402
from django.http import QueryDict  # noqa: E402

from formulary.selectors import adult_upper_limit  # noqa: E402
from products.api.catalogue import CATALOGUE_PAGE  # noqa: E402
from products.api.filters import ProductFilter  # noqa: E402
from products.api.match import ProductMatchView  # noqa: E402
from products.api.match_filters import MatchFilter  # noqa: E402
from products.knowledge import knowledge  # noqa: E402
from products.matching.ranking import (  # noqa: E402
    CANDIDATES_PER_RESULT,
    groups_sql,
    points_field,
    proven_target,
    ranked_matches,
    signature_floors,
    signature_groups,
)
from products.selectors import published_products  # noqa: E402


def page_plans(query: str) -> list[tuple[str, str]]:
    """EXPLAIN ANALYZE of the page of products/ as ProductViewSet reads it on PostgreSQL
    (products.api.list_statement): its ids, then their rows; a search, never compiled, in
    one query."""
    filterset = ProductFilter(QueryDict(query), queryset=published_products())
    filtered = filterset.qs
    if filterset.never_compiled & filterset.given().keys():
        return [("the page (one query)", CATALOGUE_PAGE.rows(filtered)[:21].explain(analyze=True))]
    ids_query = CATALOGUE_PAGE.ids(filtered)[:21]
    ids = [row["id"] for row in ids_query]
    return [
        ("the page's ids", ids_query.explain(analyze=True)),
        ("their rows by id", CATALOGUE_PAGE.rows_by_id.build(ids).explain(analyze=True)),
    ]


def match_plans(query: str) -> list[tuple[str, str]]:
    """EXPLAIN ANALYZE of products/match/'s top-k as ProductMatchView runs it (jurisdiction
    eu, the first page): the evidence signatures with their best points, and the ranking
    above the target the best groups prove."""
    filterset = MatchFilter(QueryDict(query), queryset=ProductMatchView().get_queryset())
    assert filterset.is_valid(), filterset.errors
    slugs = filterset.form.cleaned_data["indication"]
    ids = [knowledge().indication_ids[slug] for slug in slugs]
    count = 21
    field = points_field("eu")
    groups = signature_groups(ids, field)
    target = proven_target(groups, field, count, CANDIDATES_PER_RESULT * count, 0.0)
    floors = signature_floors(groups, target * 100, 0.0)
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN ANALYZE {groups_sql(len(ids), field)}", ids)
        groups_plan = "\n".join(line for (line,) in cursor.fetchall())
    ranking = ranked_matches(
        filterset.qs,
        indication_ids=ids,
        limit_mg=adult_upper_limit("eu").amount_mg,
        floors=(field, floors),
    )[:count]
    return [
        (
            f"the {len(groups)} evidence signatures with their best points (read once per "
            "catalogue version and kept)",
            groups_plan,
        ),
        (
            f"the ranking above a score of {target * 100:.2f} ({len(floors)} signatures' floors)",
            ranking.explain(analyze=True),
        ),
    ]


def main(arguments: list[str]):
    queries = [query for query in arguments if not query.startswith("match:")]
    for query in queries:
        for title, plan in page_plans(query):
            print(f"### products/?{query}: {title}\n\n```\n{plan}\n```\n")
    for query in (a.removeprefix("match:") for a in arguments if a.startswith("match:")):
        for title, plan in match_plans(query):
            print(f"### products/match/?{query}: {title}\n\n```\n{plan}\n```\n")


if __name__ == "__main__":
    main(sys.argv[1:])
