"""Restoring a product to an earlier version of its audit history, lines included.

simple-history keeps the product and each line in tables of their own. The lines of version V
are those that existed just before the product's next version was saved: every path (admin,
API, import) saves the product first and its lines after it.
"""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction

from compounds.models import CompoundForm
from formulary.models import Nutrient
from products.models import IngredientLine, NutrientLine, Product
from products.services import (
    IngredientInput,
    NutrientInput,
    product_lines_saved,
    product_save,
)

JUST_BEFORE = timedelta(microseconds=1)


def product_lines_at_version(product: Product, version_id: int):
    """The (ingredients, nutrients) of that version, or None when they are the current ones."""
    version = product.history.get(history_id=version_id)
    following = (
        product.history.filter(history_date__gt=version.history_date)
        .order_by("history_date")
        .first()
    )
    if following is None:
        return None
    moment = following.history_date - JUST_BEFORE
    ingredients = IngredientLine.history.as_of(moment).filter(product_id=product.pk)
    nutrients = NutrientLine.history.as_of(moment).filter(product_id=product.pk)
    try:
        return (
            [
                IngredientInput(
                    CompoundForm.objects.get(pk=line.compound_id), line.amount_mg, line.amount_basis
                )
                for line in ingredients
            ],
            [
                NutrientInput(Nutrient.objects.get(pk=line.nutrient_id), line.amount)
                for line in nutrients
            ],
        )
    except (CompoundForm.DoesNotExist, Nutrient.DoesNotExist) as error:
        raise ValidationError(
            "A compound or nutrient of that version no longer exists; restore it first."
        ) from error


@transaction.atomic
def product_restore_lines(*, product: Product, version_id: int) -> None:
    """After the product's own fields were restored: restore its lines and amounts too."""
    lines = product_lines_at_version(product, version_id)
    if lines is None:
        product_lines_saved(product=product)
        return
    ingredients, nutrients = lines
    # The product row itself was just saved (and recorded) by the revert.
    product.skip_history_when_saving = True
    try:
        product_save(product=product, ingredients=ingredients, nutrients=nutrients)
    finally:
        del product.skip_history_when_saving
