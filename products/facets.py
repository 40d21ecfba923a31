"""Facet counts for the catalogue's filter sidebar: how many products each value would list.

A facet counts under every other active filter but ignores its own, so a sidebar shows the
alternatives to what is chosen ("Capsule (14)" while tablets are chosen). Each count is one
aggregate over the filtered products, through the same tables the filters read: the stored
match rows for indications (and the symptoms and risk groups linked to them), the ingredient
lines for compounds, classifications and carriers, the product columns for the rest. A count
is then exactly the number of products the list gives with that value chosen instead
(tests/test_facets.py holds them equal).
"""

from django.db.models import Count, QuerySet

from formulary.enums import SignKind
from products.models import IngredientLine, ProductIndication

# name -> (rows of the facet, the value column, whether a product can appear twice)
FACETS = {
    "indication": (ProductIndication, "indication__slug", False),
    "symptom": (ProductIndication, "indication__deficiency_signs__slug", True),
    "risk_group": (ProductIndication, "indication__risk_groups__slug", True),
    "compound": (IngredientLine, "compound__slug", False),
    "classification": (IngredientLine, "compound__classification", True),
    "carrier": (IngredientLine, "compound__carrier__slug", True),
    "dosage_form": (None, "dosage_form", False),
    "brand": (None, "brand__slug", False),
    "vegan": (None, "vegan", False),
    "gluten_free": (None, "gluten_free", False),
    "lactose_free": (None, "lactose_free", False),
}
# Rows a facet leaves out, as its filter does: a condition merely associated with low
# magnesium (cardiovascular disease) is not a symptom (products.api.filters.filter_symptom).
FACET_CONDITIONS = {"symptom": {"indication__deficiency_signs__kind": SignKind.SIGN}}
# The filters a facet ignores: its own.
OWN_FILTERS = {"indication": ("indication", "indication_match")}


def own_filters(facet: str) -> tuple[str, ...]:
    return OWN_FILTERS.get(facet, (facet,))


def facet_counts(facet: str, products: QuerySet) -> list[dict]:
    """``[{"value": ..., "count": n}]`` over ``products``, most products first, then by value."""
    model, column, may_repeat = FACETS[facet]
    if model is None:
        rows = products.order_by().values(column)
        counted = Count("pk")
    else:
        rows = (
            model.objects.filter(product__in=products.order_by().values("pk"))
            .filter(**FACET_CONDITIONS.get(facet, {}))
            .values(column)
        )
        # A product with two lines of one classification counts once.
        counted = Count("product_id", distinct=may_repeat)
    found = rows.exclude(**{f"{column}__isnull": True}).annotate(count=counted).order_by()
    return sorted(
        ({"value": row[column], "count": row["count"]} for row in found),
        key=lambda item: (-item["count"], str(item["value"])),
    )
