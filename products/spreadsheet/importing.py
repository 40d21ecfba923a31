"""Importing a product spreadsheet: every row is validated before anything is written.

Rows sharing a GTIN form one product (upsert by GTIN; the file's lines replace the product's).
Each cell is checked by its model field (the same validators as the admin and the API), the
line rules by ``services.validate_lines``. One problem anywhere rejects the whole file; the write
itself is one transaction through the bulk services (``products_create_in_bulk``,
``products_changed_in_bulk``), with audit history recorded as the "import" path.
"""

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from compounds.models import CompoundForm
from formulary.common.history import ChangePath, history_attrs, recording_path
from formulary.common.statistics import tables_analyze_after_bulk_write
from formulary.common.text import TEXT_CONTROL_CHARACTER
from formulary.models import Nutrient
from products.models import Brand, IngredientLine, NutrientLine, Product, ProductIndication
from products.services import (
    IngredientInput,
    NutrientInput,
    products_changed_in_bulk,
    products_create_in_bulk,
    validate_amounts,
    validate_lines,
)
from products.spreadsheet.columns import (
    BOOLEAN_COLUMNS,
    BOOLEAN_HINT,
    NUTRIENT_AMOUNT_SEPARATOR,
    NUTRIENT_SEPARATOR,
    PRODUCT_COLUMNS,
    parse_boolean,
)
from products.spreadsheet.reading import Sheet, open_sheet

BATCH = 1000
INTERNED_CHARS = 40
PROGRESS_EVERY_ROWS = 10_000
# Product fields an import sets; "brand" and "nutrients" are resolved separately.
FIELD_COLUMNS = tuple(c for c in PRODUCT_COLUMNS if c not in ("gtin", "brand", "nutrients"))
# Cells whose parsed value is worth remembering: few distinct values, many rows.
UNCACHED = frozenset({"gtin", "name"})


@dataclass(frozen=True)
class Problem:
    row: int | None
    column: str | None
    message: str


# Drafts are kept for every product of the file until it is written: slots, and a product's
# cells as an interned tuple rather than a dict of strings, keep a 1M-row file under 1 GiB.
@dataclass(slots=True)
class LineDraft:
    row: int
    compound: CompoundForm
    amount_mg: Decimal
    amount_basis: str


@dataclass(slots=True)
class ProductDraft:
    gtin: str
    row: int
    # The product columns' texts of its first row, in ``ProductImport.product_columns`` order.
    cells: tuple[str, ...]
    fields: dict = field(default_factory=dict)
    brand_name: str = ""
    lines: list[LineDraft] = field(default_factory=list)
    nutrients: list[tuple[Nutrient, Decimal]] | None = None


@dataclass
class Change:
    """An existing product that the file changes, and which of its line sets."""

    draft: ProductDraft
    pk: int
    lines_changed: bool
    nutrients_changed: bool


@dataclass
class ImportReport:
    rows: int = 0
    products: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    new_brands: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    written: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems


def quiet(_message: str) -> None:
    """The default progress reporter: says nothing."""


def message_of(error: ValidationError) -> str:
    return " ".join(error.messages)


class CellParser:
    """Turns a cell's text into a field value through the model field's own validation."""

    def __init__(self):
        self.cache: dict[tuple[type, str, str], object] = {}

    def value(self, model: type[models.Model], name: str, text: str):
        key = (model, name, text)
        if key in self.cache:
            return self.cache[key]
        value = self.parse(model, name, text)
        if name not in UNCACHED:
            self.cache[key] = value
        return value

    @staticmethod
    def parse(model: type[models.Model], name: str, text: str):
        if name in BOOLEAN_COLUMNS:
            value = parse_boolean(text)
            if value is None:
                raise ValidationError(
                    _("“%(text)s” is not yes or no. ") % {"text": text} + BOOLEAN_HINT
                )
            return value
        model_field = model._meta.get_field(name)
        if text == "":
            if model_field.null:
                return None
            raise ValidationError(_("This cell is empty, but a value is required."))
        numeric = isinstance(model_field, models.DecimalField | models.IntegerField)
        # -0 passes a "not below zero" validator; no amount or count is written with a sign.
        if numeric and text.startswith("-"):
            raise ValidationError(
                _("“%(text)s” is negative; write a positive number.") % {"text": text}
            )
        try:
            return model_field.clean(text, None)
        except ValidationError as error:
            if model_field.choices and error.code == "invalid_choice":
                raise ValidationError(
                    _("“%(text)s” is not one of: %(choices)s.")
                    % {
                        "text": text,
                        "choices": ", ".join(str(v) for v, _label in model_field.choices),
                    }
                ) from error
            if numeric and "," in text:
                raise ValidationError(
                    _("“%(text)s” is not a number: use a point as the decimal separator.")
                    % {"text": text}
                ) from error
            raise


class ProductImport:
    """One file's import: ``validate()`` checks it all, ``write()`` stores it or nothing."""

    def __init__(self, sheet: Sheet, *, progress: Callable[[str], None] = quiet):
        self.sheet = sheet
        self.progress = progress
        self.parser = CellParser()
        self.report = ImportReport()
        self.drafts: dict[str, ProductDraft] = {}
        self.compounds = {c.slug: c for c in CompoundForm.objects.all()}
        self.nutrients = {n.slug: n for n in Nutrient.objects.all()}
        self.product_columns = [c for c in PRODUCT_COLUMNS if c in sheet.columns]
        self.brands: dict[str, Brand] = {}
        self.new_drafts: list[ProductDraft] = []
        self.changed: list[Change] = []

    def problem(self, row: int | None, column: str | None, message: str) -> None:
        self.report.problems.append(Problem(row, column, message))

    # ---- validation ---------------------------------------------------------------------

    def validate(self) -> ImportReport:
        for number, cells in self.sheet.rows:
            record = dict(zip(self.sheet.columns, cells, strict=True))
            if not self.has_control_characters(number, record):
                self.read_row(number, record)
            self.report.rows += 1
            if self.report.rows % PROGRESS_EVERY_ROWS == 0:
                self.progress(_("%(rows)d rows validated") % {"rows": self.report.rows})
        self.progress(_("%(rows)d rows validated") % {"rows": self.report.rows})
        if not self.report.rows:
            self.problem(None, None, _("The file has no rows below the header."))
        self.report.products = len(self.drafts)
        for draft in self.drafts.values():
            self.check_lines(draft)
        self.resolve_brands()
        self.compare_with_catalogue()
        self.report.problems.sort(key=lambda p: (p.row or 0, p.column or ""))
        return self.report

    def has_control_characters(self, number: int, record: dict[str, str]) -> bool:
        """The API's rule for text (a NUL passed the preview and failed on PostgreSQL)."""
        found = False
        for column, text in record.items():
            if TEXT_CONTROL_CHARACTER.search(text):
                found = True
                self.problem(
                    number,
                    column,
                    _("The cell contains a control character (such as NUL); remove it."),
                )
        return found

    def read_row(self, number: int, record: dict[str, str]) -> None:
        gtin = record["gtin"]
        try:
            self.parser.value(Product, "gtin", gtin)
        except ValidationError as error:
            self.problem(number, "gtin", message_of(error))
            # Not a product to write, but its other cells are still checked and reported.
            draft = ProductDraft(gtin=gtin, row=number, cells=())
            self.read_product(draft, record)
        else:
            draft = self.drafts.get(gtin)
            if draft is None:
                draft = self.drafts[gtin] = ProductDraft(
                    gtin=gtin, row=number, cells=self.product_cells(record)
                )
                self.read_product(draft, record)
            else:
                self.check_agreement(draft, number, record)
        line = self.read_line(number, record)
        if line is not None:
            draft.lines.append(line)

    def read_product(self, draft: ProductDraft, record: dict[str, str]) -> None:
        for column in self.product_columns:
            text = record[column]
            try:
                if column == "brand":
                    draft.brand_name = self.parser.value(Brand, "name", text)
                elif column == "nutrients":
                    draft.nutrients = self.read_nutrients(text)
                elif column != "gtin":
                    draft.fields[column] = self.parser.value(Product, column, text)
            except ValidationError as error:
                self.problem(draft.row, column, message_of(error))

    def read_nutrients(self, text: str) -> list[tuple[Nutrient, Decimal]]:
        lines = []
        for part in filter(None, (p.strip() for p in text.split(NUTRIENT_SEPARATOR))):
            slug, separator, amount = (s.strip() for s in part.partition(NUTRIENT_AMOUNT_SEPARATOR))
            if not separator:
                raise ValidationError(
                    _("“%(part)s” has no amount: write nutrient:amount, e.g. vitamin-b6:1.4.")
                    % {"part": part}
                )
            nutrient = self.nutrients.get(slug)
            if nutrient is None:
                raise ValidationError(
                    _("Unknown nutrient “%(slug)s”. Known: %(known)s.")
                    % {"slug": slug, "known": ", ".join(sorted(self.nutrients))}
                )
            try:
                lines.append((nutrient, self.parser.value(NutrientLine, "amount", amount)))
            except ValidationError as error:
                raise ValidationError(f"{slug}: {message_of(error)}") from error
        return lines

    def product_cells(self, record: dict[str, str]) -> tuple[str, ...]:
        # Short texts (forms, flags, amounts, brands) repeat on every product: one copy each.
        return tuple(
            sys.intern(text) if len(text) <= INTERNED_CHARS else text
            for text in (record[column] for column in self.product_columns)
        )

    def check_agreement(self, draft: ProductDraft, number: int, record: dict[str, str]) -> None:
        for column, there in zip(self.product_columns, draft.cells, strict=True):
            here = record[column]
            if here == there or self.same_value(column, here, there):
                continue
            self.problem(
                number,
                column,
                _(
                    "“%(here)s” differs from “%(there)s” in row %(row)d, the first row of GTIN "
                    "%(gtin)s. The product columns must agree on every row of one product."
                )
                % {"here": here, "there": there, "row": draft.row, "gtin": draft.gtin},
            )

    def same_value(self, column: str, here: str, there: str) -> bool:
        if column in ("brand", "nutrients", "gtin", "name"):
            return False
        try:
            return self.parser.value(Product, column, here) == self.parser.value(
                Product, column, there
            )
        except ValidationError:
            return False

    def read_line(self, number: int, record: dict[str, str]) -> LineDraft | None:
        values = {}
        slug = record["compound"]
        compound = self.compounds.get(slug)
        if compound is None:
            self.problem(
                number,
                "compound",
                _(
                    "Unknown compound “%(slug)s”. Use the compound's slug as the API lists it "
                    "(/api/v1/compounds/), e.g. magnesium-bisglycinate."
                )
                % {"slug": slug},
            )
        for column in ("amount_mg", "amount_basis"):
            try:
                values[column] = self.parser.value(IngredientLine, column, record[column])
            except ValidationError as error:
                self.problem(number, column, message_of(error))
        if compound is None or len(values) < 2:
            return None
        return LineDraft(number, compound, values["amount_mg"], values["amount_basis"])

    def check_lines(self, draft: ProductDraft) -> None:
        if not draft.lines:
            return  # each of its rows already has a problem in a line column
        ingredients = [
            IngredientInput(line.compound, line.amount_mg, line.amount_basis)
            for line in draft.lines
        ]
        nutrients = [NutrientInput(n, amount) for n, amount in draft.nutrients or []]
        try:
            validate_lines(ingredients, nutrients)
        except ValidationError as error:
            for key, messages in error.message_dict.items():
                text = " ".join(messages)
                if key == "nutrients":
                    self.problem(draft.row, "nutrients", text)
                    continue
                seen = set()
                for line in draft.lines:
                    if line.compound.slug in seen:
                        self.problem(line.row, "compound", text)
                    seen.add(line.compound.slug)
            return
        try:
            validate_amounts(
                ingredients=ingredients, servings_per_day=draft.fields.get("servings_per_day")
            )
        except ValidationError as error:
            self.problem(draft.row, "amount_mg", " ".join(error.message_dict["ingredients"]))

    def resolve_brands(self) -> None:
        names = {draft.brand_name for draft in self.drafts.values() if draft.brand_name}
        by_name = {b.name: b for b in Brand.objects.filter(name__in=names)}
        slugs = {name: slugify(name)[:60].strip("-") for name in names if name not in by_name}
        by_slug = {b.slug: b for b in Brand.objects.filter(slug__in=slugs.values())}
        first_row = {}
        for draft in self.drafts.values():
            first_row.setdefault(draft.brand_name, draft.row)
        new_by_slug: dict[str, Brand] = {}
        for name in sorted(names):
            if name in by_name:
                self.brands[name] = by_name[name]
                continue
            slug = slugs[name]
            if slug in by_slug:
                self.brands[name] = by_slug[slug]
            elif not slug:
                self.problem(
                    first_row[name],
                    "brand",
                    _("The brand name “%(name)s” needs at least one letter or digit.")
                    % {"name": name},
                )
            elif slug in new_by_slug:
                self.problem(
                    first_row[name],
                    "brand",
                    _(
                        "The brands “%(name)s” and “%(other)s” are one brand written two ways; "
                        "write it the same way everywhere."
                    )
                    % {"name": name, "other": new_by_slug[slug].name},
                )
            else:
                new_by_slug[slug] = self.brands[name] = Brand(name=name, slug=slug)
        self.report.new_brands = sorted(b.name for b in new_by_slug.values())

    def compare_with_catalogue(self) -> None:
        drafts = list(self.drafts.values())
        for start in range(0, len(drafts), BATCH):
            batch = {d.gtin: d for d in drafts[start : start + BATCH]}
            existing = {
                row["gtin"]: row
                for row in Product.objects.filter(gtin__in=batch).values(
                    "pk", "gtin", "brand_id", *FIELD_COLUMNS
                )
            }
            lines = self.lines_by_gtin(
                IngredientLine, batch, "compound_id", "amount_mg", "amount_basis"
            )
            nutrients = self.lines_by_gtin(NutrientLine, batch, "nutrient_id", "amount")
            for gtin, draft in batch.items():
                current = existing.get(gtin)
                if current is None:
                    self.new_drafts.append(draft)
                    if "units_per_package" not in draft.fields:
                        self.problem(
                            draft.row,
                            "units_per_package",
                            _("GTIN %(gtin)s is a new product: fill in units_per_package.")
                            % {"gtin": gtin},
                        )
                    continue
                brand = self.brands.get(draft.brand_name)
                fields_changed = (brand is None or brand.pk != current["brand_id"]) or any(
                    current[name] != value for name, value in draft.fields.items()
                )
                lines_changed = sorted(
                    (line.compound.pk, line.amount_mg, line.amount_basis) for line in draft.lines
                ) != sorted(lines.get(gtin, []))
                nutrients_changed = draft.nutrients is not None and sorted(
                    (n.pk, amount) for n, amount in draft.nutrients
                ) != sorted(nutrients.get(gtin, []))
                if fields_changed or lines_changed or nutrients_changed:
                    self.changed.append(
                        Change(draft, current["pk"], lines_changed, nutrients_changed)
                    )
                else:
                    self.report.unchanged += 1
        self.report.created = len(self.new_drafts)
        self.report.updated = len(self.changed)

    @staticmethod
    def lines_by_gtin(model, gtins, *columns) -> dict[str, list[tuple]]:
        grouped: dict[str, list[tuple]] = {}
        for gtin, *values in model.objects.filter(product__gtin__in=gtins).values_list(
            "product__gtin", *columns
        ):
            grouped.setdefault(gtin, []).append(tuple(values))
        return grouped

    # ---- writing ------------------------------------------------------------------------

    @transaction.atomic
    def write(self, *, user=None) -> ImportReport:
        if not self.report.ok:
            raise ValueError("A file with problems is never written.")
        with recording_path(ChangePath.IMPORT):
            new_brands = [b for b in self.brands.values() if b.pk is None]
            bulk_create_with_history(
                new_brands, Brand, default_user=user, custom_historical_attrs=history_attrs()
            )
            self.write_new(user)
            self.write_changed(user)
        tables_analyze_after_bulk_write(
            (Brand, Product, IngredientLine, NutrientLine, ProductIndication),
            rows=len(self.new_drafts) + len(self.changed),
        )
        self.report.written = True
        return self.report

    def product_from(self, draft: ProductDraft, product: Product) -> Product:
        product.brand = self.brands[draft.brand_name]
        for name, value in draft.fields.items():
            setattr(product, name, value)
        return product

    @staticmethod
    def ingredient_lines(draft: ProductDraft, product: Product) -> list[IngredientLine]:
        return [
            IngredientLine(
                product=product,
                compound=line.compound,
                amount_mg=line.amount_mg,
                amount_basis=line.amount_basis,
            )
            for line in draft.lines
        ]

    @staticmethod
    def nutrient_lines(draft: ProductDraft, product: Product) -> list[NutrientLine]:
        return [
            NutrientLine(product=product, nutrient=nutrient, amount=amount)
            for nutrient, amount in draft.nutrients or []
        ]

    def write_new(self, user) -> None:
        total = len(self.new_drafts)
        for start in range(0, total, BATCH):
            drafts = self.new_drafts[start : start + BATCH]
            products_create_in_bulk(
                products=[self.product_from(d, Product(gtin=d.gtin)) for d in drafts],
                ingredient_lines=lambda saved, drafts=drafts: [
                    line
                    for d, p in zip(drafts, saved, strict=True)
                    for line in self.ingredient_lines(d, p)
                ],
                nutrient_lines=lambda saved, drafts=drafts: [
                    line
                    for d, p in zip(drafts, saved, strict=True)
                    for line in self.nutrient_lines(d, p)
                ],
                user=user,
            )
            self.progress(
                _("%(done)d of %(total)d new products written")
                % {"done": start + len(drafts), "total": total}
            )

    def write_changed(self, user) -> None:
        total = len(self.changed)
        for start in range(0, total, BATCH):
            batch = self.changed[start : start + BATCH]
            in_bulk = Product.objects.in_bulk([change.pk for change in batch])
            pairs = [(c, self.product_from(c.draft, in_bulk[c.pk])) for c in batch]
            changed_lines = [(c.draft, p) for c, p in pairs if c.lines_changed]
            changed_nutrients = [(c.draft, p) for c, p in pairs if c.nutrients_changed]
            products_changed_in_bulk(
                products=[product for _change, product in pairs],
                fields=["brand", *sorted({name for c in batch for name in c.draft.fields})],
                line_replacements=[
                    (
                        IngredientLine,
                        [p for _d, p in changed_lines],
                        [line for d, p in changed_lines for line in self.ingredient_lines(d, p)],
                    ),
                    (
                        NutrientLine,
                        [p for _d, p in changed_nutrients],
                        [line for d, p in changed_nutrients for line in self.nutrient_lines(d, p)],
                    ),
                ],
                user=user,
            )
            self.progress(
                _("%(done)d of %(total)d changed products written")
                % {"done": start + len(batch), "total": total}
            )


def import_products(
    path: Path,
    *,
    name: str | None = None,
    dry_run: bool = False,
    user=None,
    progress: Callable[[str], None] = quiet,
) -> ImportReport:
    """Validate the file at ``path`` and, unless ``dry_run`` or it has problems, write it.

    Raises reading.SpreadsheetError when the file as a whole cannot be read.
    """
    job = ProductImport(open_sheet(Path(path), name), progress=progress)
    report = job.validate()
    if report.ok and not dry_run:
        job.write(user=user)
    return report
