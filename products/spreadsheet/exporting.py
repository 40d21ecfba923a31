"""Exporting products in the import format: one row per ingredient line, by GTIN and line.

Rows are produced from an iterator() over the products in chunks, so memory stays constant
however large the catalogue; an export imports back unchanged.
"""

import csv
from collections.abc import Iterator
from typing import IO

from django.db.models import Prefetch, QuerySet
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from products.models import IngredientLine, NutrientLine, Product
from products.spreadsheet.columns import (
    ALL_COLUMNS,
    BOOLEAN_COLUMNS,
    format_boolean,
    format_decimal,
    format_nutrients,
    neutralise_formula,
)

CHUNK = 2000


def export_queryset(products: QuerySet[Product]) -> QuerySet[Product]:
    return (
        products.select_related("brand")
        .prefetch_related(
            Prefetch(
                "ingredients",
                queryset=IngredientLine.objects.select_related("compound").order_by("id"),
            ),
            Prefetch(
                "nutrients",
                queryset=NutrientLine.objects.select_related("nutrient").order_by("id"),
            ),
        )
        .order_by("gtin")
    )


def product_cells(product: Product) -> dict[str, str]:
    cells = {
        "gtin": product.gtin,
        "brand": product.brand.name,
        "name": product.name,
        "dosage_form": product.dosage_form,
        "units_per_package": str(product.units_per_package),
        "units_per_serving": format_decimal(product.units_per_serving),
        "servings_per_day": format_decimal(product.servings_per_day),
        "status": product.status,
        "price_eur": format_decimal(product.price_eur),
        "label_elemental_mg_per_serving": format_decimal(product.label_elemental_mg_per_serving),
        "nutrients": format_nutrients(
            (line.nutrient.slug, line.amount) for line in product.nutrients.all()
        ),
    }
    for column in BOOLEAN_COLUMNS:
        cells[column] = format_boolean(getattr(product, column))
    return cells


def export_rows(products: QuerySet[Product] | None = None) -> Iterator[list[str]]:
    """The header, then one row per ingredient line of ``products`` (default: all)."""
    yield list(ALL_COLUMNS)
    queryset = export_queryset(Product.objects.all() if products is None else products)
    for product in queryset.iterator(chunk_size=CHUNK):
        cells = product_cells(product)
        for line in product.ingredients.all():
            cells["compound"] = line.compound.slug
            cells["amount_mg"] = format_decimal(line.amount_mg)
            cells["amount_basis"] = line.amount_basis
            yield [cells[column] for column in ALL_COLUMNS]


def csv_safe(row: list[str]) -> list[str]:
    """Cells no spreadsheet program runs as formulas. XLSX cells need no such care: each is
    written as text, which is never evaluated."""
    return [neutralise_formula(cell) for cell in row]


def write_csv(rows: Iterator[list[str]], stream: IO[str]) -> int:
    """Write ``rows`` as CSV; returns the number of data rows."""
    writer = csv.writer(stream, lineterminator="\n")
    count = -1
    for count, row in enumerate(rows):  # noqa: B007 - the count is the result
        writer.writerow(csv_safe(row))
    return max(count, 0)


def write_xlsx(rows: Iterator[list[str]], target) -> int:
    """Write ``rows`` to an XLSX workbook at ``target`` (a path or a binary file)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("products")
    count = -1
    for count, row in enumerate(rows):  # noqa: B007 - the count is the result
        # Every cell is text, so a GTIN keeps its leading zeros and amounts stay exact.
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"
            cells.append(cell)
        sheet.append(cells)
    workbook.save(target)
    return max(count, 0)


class Echo:
    """A write-only file whose write() returns the text: lets csv.writer feed a streaming
    HTTP response one row at a time."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterator[list[str]]) -> Iterator[str]:
    writer = csv.writer(Echo(), lineterminator="\n")
    for row in rows:
        yield writer.writerow(csv_safe(row))
