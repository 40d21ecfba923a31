"""Reads of products, with the prefetching their derived values need."""

from decimal import Decimal
from functools import reduce
from operator import or_

from django.db.models import (
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    Lookup,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
)

from compounds.models import CompoundIndication
from formulary.selectors import adult_nrv_mg, adult_upper_limits_mg
from products import calculations
from products.enums import ProductStatus
from products.models import IngredientLine, NutrientLine, Product


def products_with_lines(lines=None) -> QuerySet[Product]:
    # `lines or ...` would run the lines query (every line of every product) to test it.
    if lines is None:
        lines = IngredientLine.objects.select_related("compound")
    return Product.objects.select_related("brand").prefetch_related(
        Prefetch("ingredients", lines),
        Prefetch("nutrients", NutrientLine.objects.select_related("nutrient")),
    )


def catalogue_products() -> QuerySet[Product]:
    """Products with their lines and the evidence of their compounds, in catalogue order."""
    evidence = CompoundIndication.objects.select_related("indication")
    lines = IngredientLine.objects.select_related("compound").prefetch_related(
        Prefetch("compound__evidence", evidence)
    )
    return products_with_lines(lines).order_by("name", "gtin")


def published_products() -> QuerySet[Product]:
    """The public catalogue, plain: its read path (products.catalogue_rows) loads the rest."""
    return Product.objects.filter(status=ProductStatus.PUBLISHED).order_by("name", "gtin")


def with_ingredient(**line_conditions) -> Exists:
    """Products with at least one ingredient line matching ``line_conditions``.

    A subquery rather than a join, so a product with two matching lines is listed once.
    """
    return Exists(IngredientLine.objects.filter(product=OuterRef("pk"), **line_conditions))


class Like(Lookup):
    """``lhs LIKE rhs``, the pattern given whole: one parameter, so a compiled statement
    (formulary.common.statements) can take it in a marker's place."""

    lookup_name = "like"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} LIKE {rhs}", (*lhs_params, *rhs_params)


def indication_pattern(indication_id: int) -> str:
    """The pattern that finds one indication in ``Product.linked_indications``."""
    return f"%|{indication_id}|%"


def with_indication(patterns: list[str]) -> Q:
    """Products with a compound linked to any of the indications (their
    ``indication_pattern``), by the links products.matching.index stores on the product.

    A test of the row the list reads anyway; the match rows would be an index probe per
    product read, the lines, compounds and evidence links three nested joins.
    """
    return reduce(or_, (Q(Like(F("linked_indications"), pattern)) for pattern in patterns))


def with_source_of_magnesium(minimum_mg: Decimal) -> Q:
    """Products with at least ``minimum_mg`` elemental magnesium per daily dose.

    The SQL twin of products.claims.source_of_verdict for magnesium, on the stored daily
    amount (all compounds summed); a test holds the two equal on every demo product.
    """
    return Q(elemental_mg_per_day__gte=minimum_mg)


def with_source_of_nutrient(nutrient_id: int, minimum_per_day: Decimal) -> Exists:
    """Products whose line of the nutrient gives at least ``minimum_per_day`` (in the
    nutrient's own unit) per daily dose: amount per serving * servings per day."""
    per_day = ExpressionWrapper(
        F("amount") * OuterRef("servings_per_day"),
        output_field=DecimalField(max_digits=14, decimal_places=5),
    )
    return Exists(
        NutrientLine.objects.filter(product=OuterRef("pk"), nutrient_id=nutrient_id)
        .annotate(per_day=per_day)
        .filter(per_day__gte=minimum_per_day)
    )


def dose_lines(lines) -> list[calculations.DoseLine]:
    """Ingredient lines (with their compounds loaded) as inputs to the dose arithmetic."""
    return [
        calculations.DoseLine(
            amount_mg=line.amount_mg,
            amount_basis=line.amount_basis,
            elemental_fraction=line.compound.elemental_magnesium_fraction,
        )
        for line in lines
    ]


def product_dose(
    product: Product, *, nrv_mg=None, upper_limits_mg=None
) -> calculations.ProductDose:
    """The derived amounts of one product; pass the intakes when computing many."""
    return calculations.product_dose(
        lines=dose_lines(product.ingredients.all()),
        units_per_serving=product.units_per_serving,
        servings_per_day=product.servings_per_day,
        label_elemental_mg_per_serving=product.label_elemental_mg_per_serving,
        nrv_mg=adult_nrv_mg() if nrv_mg is None else nrv_mg,
        upper_limits_mg=adult_upper_limits_mg() if upper_limits_mg is None else upper_limits_mg,
    )
