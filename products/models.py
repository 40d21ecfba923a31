"""Brands, products and their ingredient lines. The dose arithmetic is in calculations.py."""

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from compounds.enums import EvidenceGrade
from compounds.models import CompoundForm
from formulary.common.history import audit_history
from formulary.common.localized_numbers import number_text
from formulary.enums import choices_check
from formulary.models import Indication, Nutrient
from products.enums import AmountBasis, DosageForm, ImportJobStatus, ProductStatus
from products.gtin import GtinError, validate_gtin

POSITIVE = [MinValueValidator(Decimal("0.001"))]


def gtin_validator(value: str):
    try:
        validate_gtin(value)
    except GtinError as error:
        raise ValidationError(error.message, code=error.code) from error


class Brand(models.Model):
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=100, unique=True)

    history = audit_history()

    class Meta:
        verbose_name = _("brand")
        verbose_name_plural = _("brands")
        ordering = ["name", "slug"]

    def __str__(self):
        return self.name


class Product(models.Model):
    gtin = models.CharField(
        _("GTIN"),
        max_length=14,
        unique=True,
        validators=[gtin_validator],
        help_text=_("The barcode number: 8, 12, 13 or 14 digits with a valid GS1 check digit."),
    )
    brand = models.ForeignKey(
        Brand, on_delete=models.PROTECT, related_name="products", verbose_name=_("brand")
    )
    name = models.CharField(_("name"), max_length=200)
    dosage_form = models.CharField(_("dosage form"), max_length=20, choices=DosageForm.choices)
    units_per_package = models.PositiveIntegerField(
        _("units per package"), validators=[MinValueValidator(1)]
    )
    units_per_serving = models.DecimalField(
        _("units per serving"), max_digits=7, decimal_places=3, validators=POSITIVE
    )
    servings_per_day = models.DecimalField(
        _("servings per day"), max_digits=5, decimal_places=2, validators=POSITIVE
    )
    status = models.CharField(
        _("status"), max_length=12, choices=ProductStatus.choices, default=ProductStatus.DRAFT
    )
    vegan = models.BooleanField(_("vegan"), default=False)
    gluten_free = models.BooleanField(_("gluten-free"), default=False)
    lactose_free = models.BooleanField(_("lactose-free"), default=False)
    price_eur = models.DecimalField(
        _("price (€)"),
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    label_elemental_mg_per_serving = models.DecimalField(
        _("magnesium on the label (mg per serving)"),
        max_digits=9,
        decimal_places=3,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text=_("Magnesium per serving as the label's nutrition table declares it."),
    )
    # Stored copies of calculations.py's results so lists can filter and sort on them;
    # products.services recomputes them on every write to the product or its lines.
    elemental_mg_per_serving = models.DecimalField(
        _("elemental magnesium per serving (mg)"),
        max_digits=12,
        decimal_places=4,
        default=0,
        editable=False,
    )
    elemental_mg_per_day = models.DecimalField(
        _("elemental magnesium per day (mg)"),
        max_digits=12,
        decimal_places=4,
        default=0,
        editable=False,
        db_index=True,
    )
    # The indications the match rows link the product to, as "|2|7|" (their ids in order;
    # NULL for none): the list's indication filter tests the product's own row with it, where
    # probing the match rows cost three index pages per product it read (and a list for a
    # rare indication reads twenty products for each it shows). products.matching.index
    # writes it with the match rows. Nullable (NULL: no link, one meaning), so SQLite adds the
    # column without rebuilding the table under the change log's triggers.
    linked_indications = models.TextField(  # noqa: DJ001
        _("linked indications"), null=True, editable=False
    )
    updated_at = models.DateTimeField(_("last changed"), auto_now=True)
    version = models.PositiveIntegerField(
        _("version"),
        default=1,
        editable=False,
        help_text=_("Raised by every save; the API's ETag and the admin's stale-save check."),
    )

    # Derived amounts and links and the concurrency version are bookkeeping, not curated facts.
    history = audit_history(
        excluded_fields=[
            "elemental_mg_per_serving",
            "elemental_mg_per_day",
            "linked_indications",
            "version",
        ]
    )

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
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
        # Only these: every product write maintains each index, and one whose columns begin
        # another's serves no read the longer one does not (tests/test_indexes.py).
        indexes = [
            # The catalogue lists published products in one of these orders, often within one
            # dosage form: an index per order lets a page stop after page_size rows.
            models.Index(
                fields=["status", "dosage_form", "elemental_mg_per_day", "gtin"],
                name="product_form_day_idx",
            ),
            models.Index(fields=["status", "elemental_mg_per_day", "gtin"], name="product_day_idx"),
            models.Index(fields=["status", "name", "gtin"], name="product_name_idx"),
            models.Index(fields=["status", "price_eur", "gtin"], name="product_price_idx"),
        ]
        permissions = [
            ("import_products", "Can import products from a spreadsheet"),
            ("export_products", "Can export products to a spreadsheet"),
        ]

    def __str__(self):
        return f"{self.brand} {self.name}"

    def save(self, *args, **kwargs):
        # Raised in the database, not from the copy in memory: two saves of copies loaded at
        # the same version must still end on different versions.
        if not self._state.adding:
            self.version = F("version") + 1
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "version"}
        super().save(*args, **kwargs)
        if not isinstance(self.version, int):
            self.refresh_from_db(fields=["version"])


class IngredientLine(models.Model):
    """A magnesium compound in one serving, with the amount as the label states it."""

    # No index of its own: the unique (product, compound) constraint's index begins with it.
    product = models.ForeignKey(
        Product,
        on_delete=models.CASCADE,
        related_name="ingredients",
        verbose_name=_("product"),
        db_index=False,
    )
    compound = models.ForeignKey(
        CompoundForm,
        on_delete=models.PROTECT,
        related_name="ingredient_lines",
        verbose_name=_("compound"),
    )
    amount_mg = models.DecimalField(
        _("amount (mg)"),
        max_digits=9,
        decimal_places=3,
        validators=POSITIVE,
        help_text=_("Per serving, in the basis below."),
    )
    amount_basis = models.CharField(_("amount basis"), max_length=10, choices=AmountBasis.choices)

    history = audit_history()

    class Meta:
        verbose_name = _("ingredient line")
        verbose_name_plural = _("ingredient lines")
        ordering = ["product_id", "id"]
        constraints = [
            choices_check("amount_basis", AmountBasis, "ingredient_basis_valid"),
            models.CheckConstraint(condition=Q(amount_mg__gt=0), name="ingredient_amount_positive"),
            models.UniqueConstraint(
                fields=["product", "compound"], name="ingredient_compound_once_per_product"
            ),
        ]

    def __str__(self):
        # Read by staff (the inline's saved row, delete confirmations, history): their words.
        return f"{self.compound}: {number_text(self.amount_mg)} {self.get_amount_basis_display()}"


class NutrientLine(models.Model):
    """A nutrient other than magnesium in one serving, in the nutrient's own unit."""

    # No index of its own: the unique (product, nutrient) constraint's index begins with it.
    product = models.ForeignKey(
        Product,
        on_delete=models.CASCADE,
        related_name="nutrients",
        verbose_name=_("product"),
        db_index=False,
    )
    nutrient = models.ForeignKey(
        Nutrient, on_delete=models.PROTECT, related_name="lines", verbose_name=_("nutrient")
    )
    amount = models.DecimalField(_("amount"), max_digits=9, decimal_places=3, validators=POSITIVE)

    history = audit_history()

    class Meta:
        verbose_name = _("nutrient line")
        verbose_name_plural = _("nutrient lines")
        ordering = ["product_id", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="nutrient_amount_positive"),
            models.UniqueConstraint(
                fields=["product", "nutrient"], name="nutrient_once_per_product"
            ),
        ]

    def __str__(self):
        unit = self.nutrient.get_unit_display()
        return f"{self.nutrient}: {number_text(self.amount)} {unit}"


class ProductIndication(models.Model):
    """Derived, never edited: what matching needs per product and indication, kept current.

    One row per indication that at least one of the product's compounds has evidence for.
    products.matching.index rebuilds the rows on every product write, compound change and
    evidence link change, so ranking reads stored values instead of scoring in Python.
    """

    # Neither key has an index of its own: the unique (product, indication) constraint's
    # index begins with the product, product_indication_idx with the indication.
    product = models.ForeignKey(
        Product,
        on_delete=models.CASCADE,
        related_name="indication_matches",
        verbose_name=_("product"),
        db_index=False,
    )
    indication = models.ForeignKey(
        Indication,
        on_delete=models.CASCADE,
        related_name="product_matches",
        verbose_name=_("indication"),
        db_index=False,
    )
    evidence_strength = models.DecimalField(
        _("evidence strength"),
        max_digits=5,
        decimal_places=4,
        help_text=_("Value (0-1) of the best evidence link among the product's compounds."),
    )
    best_grade = models.CharField(_("best grade"), max_length=1, choices=EvidenceGrade.choices)
    # The product's own score values (0-1), copied on each of its rows so the ranking reads
    # them instead of computing them per request. Floats: the SQL computes them in floating
    # point, and a Decimal column would round them away from the Python values.
    tolerability = models.DecimalField(
        _("tolerability"),
        max_digits=5,
        decimal_places=4,
        help_text=_("The product's tolerability value (0-1)."),
    )
    dose_value = models.FloatField(_("dose value"), help_text=_("The product's dose value (0-1)."))
    price_value = models.FloatField(
        _("price value"), help_text=_("The product's price value (0-1).")
    )
    # The part of the score that depends on the product and the asked jurisdiction, not on
    # the asked indications: dose, price, tolerability and the headroom under that
    # jurisdiction's adult upper limit, weighted. The top-k ranking (products.matching.ranking)
    # walks the rows of an indication in this order and stops once no row further down can
    # reach the page. Rebuilt when an upper limit changes (products.receivers).
    points_eu = models.FloatField(
        _("points (EU)"),
        help_text=_("The weighted dose, price, tolerability and EU headroom values (0-0.6)."),
    )
    points_us = models.FloatField(
        _("points (US)"),
        help_text=_("The weighted dose, price, tolerability and US headroom values (0-0.6)."),
    )
    # The product's evidence over every indication, the same on each of its rows: "indication
    # id:strength" pairs in id order. Products of one signature have the same evidence for any
    # asked indications, so within it they rank by points alone: the top-k ranking reads the
    # best rows of each signature instead of every row above one floor (ranking.top_matches).
    evidence_signature = models.CharField(
        _("evidence signature"),
        max_length=255,
        # In the table too: the rebuild's INSERT ... SELECT writes the rows without it, and
        # the UPDATE after it fills it in.
        db_default="",
        help_text=_("The product's evidence strength per indication, as id:strength pairs."),
    )

    # Rebuilt by the code, never written by staff: the admin's delete confirmation omits them.
    derived_rows = True

    class Meta:
        verbose_name = _("product match row")
        verbose_name_plural = _("product match rows")
        ordering = ["product_id", "indication_id"]
        constraints = [
            choices_check("best_grade", EvidenceGrade, "product_indication_grade_valid"),
            models.UniqueConstraint(
                fields=["product", "indication"], name="product_indication_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["indication", "product"], name="product_indication_idx"),
            models.Index(
                fields=["indication", "evidence_signature", "-points_eu"],
                name="product_signature_eu_idx",
            ),
            models.Index(
                fields=["indication", "evidence_signature", "-points_us"],
                name="product_signature_us_idx",
            ),
        ]

    def __str__(self):
        return f"{self.product_id} → {self.indication_id} ({self.best_grade})"


class CatalogueChange(models.Model):
    """One row per write that may change what the feed shows of a product (see products.feed).

    Written by database triggers (migration 0009), never by Python: bulk updates, raw SQL and
    cascades cannot slip past them. ``xact`` is the writing transaction's id on PostgreSQL
    (0 on SQLite, whose single writer commits in id order); the change feed hands out a row
    only once every transaction that could still add an earlier one has ended.
    """

    id = models.BigAutoField(_("ID"), primary_key=True)
    gtin = models.CharField(_("GTIN"), max_length=14)
    xact = models.BigIntegerField(_("transaction"), default=0)

    class Meta:
        verbose_name = _("catalogue change")
        verbose_name_plural = _("catalogue changes")
        ordering = ["xact", "id"]
        indexes = [models.Index(fields=["xact", "id"], name="catalogue_change_order_idx")]

    def __str__(self):
        return f"{self.xact}-{self.id} {self.gtin}"


class ImportJob(models.Model):
    """A spreadsheet import run by a worker: first checked (the preview), then, once
    confirmed, written all or nothing. The upload waits under ``stored_name`` in the upload
    folder, a random name never shown; the public handle is ``token``."""

    token = models.UUIDField(_("token"), default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="product_imports",
        verbose_name=_("user"),
    )
    file_name = models.CharField(_("file name"), max_length=255)
    stored_name = models.CharField(_("stored name"), max_length=64)
    # The uploader's language: the worker writes the report's messages in it.
    language = models.CharField(_("language"), max_length=8, blank=True)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=ImportJobStatus.choices,
        default=ImportJobStatus.QUEUED,
    )
    confirmed = models.BooleanField(_("confirmed"), default=False)
    # The report of the last run: counts, the first problems, or why the file is unreadable.
    report = models.JSONField(_("report"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")
        ordering = ["-created_at", "-id"]
        constraints = [choices_check("status", ImportJobStatus, "import_job_status_valid")]

    def __str__(self):
        return f"{self.file_name} ({self.status})"
