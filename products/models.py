"""Brands, products and their ingredient lines. The dose arithmetic is in calculations.py."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from compounds.models import CompoundForm
from formulary.enums import choices_check
from formulary.history import audit_history
from formulary.models import Nutrient
from products.enums import AmountBasis, DosageForm, ProductStatus
from products.gtin import GtinError, validate_gtin

POSITIVE = [MinValueValidator(Decimal("0.001"))]


def gtin_validator(value: str):
    try:
        validate_gtin(value)
    except GtinError as error:
        raise ValidationError(error.message, code=error.code) from error


class Brand(models.Model):
    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=100, unique=True)

    history = audit_history()

    class Meta:
        ordering = ["name", "slug"]

    def __str__(self):
        return self.name


class Product(models.Model):
    gtin = models.CharField(
        "GTIN",
        max_length=14,
        unique=True,
        validators=[gtin_validator],
        help_text="The barcode number: 8, 12, 13 or 14 digits with a valid GS1 check digit.",
    )
    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="products")
    name = models.CharField(max_length=200)
    dosage_form = models.CharField(max_length=20, choices=DosageForm.choices)
    units_per_package = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    units_per_serving = models.DecimalField(max_digits=7, decimal_places=3, validators=POSITIVE)
    servings_per_day = models.DecimalField(max_digits=5, decimal_places=2, validators=POSITIVE)
    status = models.CharField(
        max_length=12, choices=ProductStatus.choices, default=ProductStatus.DRAFT
    )
    vegan = models.BooleanField(default=False)
    gluten_free = models.BooleanField(default=False)
    lactose_free = models.BooleanField(default=False)
    price_eur = models.DecimalField(
        max_digits=8, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    label_elemental_mg_per_serving = models.DecimalField(
        max_digits=9,
        decimal_places=3,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="Magnesium per serving as the label's nutrition table declares it.",
    )
    # Stored copies of calculations.py's results so lists can filter and sort on them;
    # products.services recomputes them on every write to the product or its lines.
    elemental_mg_per_serving = models.DecimalField(
        max_digits=12, decimal_places=4, default=0, editable=False
    )
    elemental_mg_per_day = models.DecimalField(
        max_digits=12, decimal_places=4, default=0, editable=False, db_index=True
    )
    updated_at = models.DateTimeField(auto_now=True)

    history = audit_history(excluded_fields=["elemental_mg_per_serving", "elemental_mg_per_day"])

    class Meta:
        ordering = ["name", "gtin"]
        constraints = [
            choices_check("dosage_form", DosageForm, "product_dosage_form_valid"),
            choices_check("status", ProductStatus, "product_status_valid"),
            models.CheckConstraint(
                condition=Q(units_per_package__gte=1), name="product_units_per_package_positive"
            ),
            models.CheckConstraint(
                condition=Q(units_per_serving__gt=0), name="product_units_per_serving_positive"
            ),
            models.CheckConstraint(
                condition=Q(servings_per_day__gt=0), name="product_servings_per_day_positive"
            ),
            models.CheckConstraint(
                condition=Q(price_eur__isnull=True) | Q(price_eur__gte=0),
                name="product_price_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(label_elemental_mg_per_serving__isnull=True)
                | Q(label_elemental_mg_per_serving__gte=0),
                name="product_label_amount_not_negative",
            ),
        ]
        indexes = [models.Index(fields=["status", "dosage_form"], name="product_status_form_idx")]
        permissions = [
            ("import_products", "Can import products from a spreadsheet"),
            ("export_products", "Can export products to a spreadsheet"),
        ]

    def __str__(self):
        return f"{self.brand} {self.name}"


class IngredientLine(models.Model):
    """A magnesium compound in one serving, with the amount as the label states it."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="ingredients")
    compound = models.ForeignKey(
        CompoundForm, on_delete=models.PROTECT, related_name="ingredient_lines"
    )
    amount_mg = models.DecimalField(
        max_digits=9,
        decimal_places=3,
        validators=POSITIVE,
        help_text="Per serving, in the basis below.",
    )
    amount_basis = models.CharField(max_length=10, choices=AmountBasis.choices)

    history = audit_history()

    class Meta:
        ordering = ["product_id", "id"]
        constraints = [
            choices_check("amount_basis", AmountBasis, "ingredient_basis_valid"),
            models.CheckConstraint(condition=Q(amount_mg__gt=0), name="ingredient_amount_positive"),
            models.UniqueConstraint(
                fields=["product", "compound"], name="ingredient_compound_once_per_product"
            ),
        ]

    def __str__(self):
        return f"{self.compound.slug} {self.amount_mg} mg ({self.amount_basis})"


class NutrientLine(models.Model):
    """A nutrient other than magnesium in one serving, in the nutrient's own unit."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="nutrients")
    nutrient = models.ForeignKey(Nutrient, on_delete=models.PROTECT, related_name="lines")
    amount = models.DecimalField(max_digits=9, decimal_places=3, validators=POSITIVE)

    history = audit_history()

    class Meta:
        ordering = ["product_id", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="nutrient_amount_positive"),
            models.UniqueConstraint(
                fields=["product", "nutrient"], name="nutrient_once_per_product"
            ),
        ]

    def __str__(self):
        return f"{self.nutrient.slug} {self.amount} {self.nutrient.unit}"
