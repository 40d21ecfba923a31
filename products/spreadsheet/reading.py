"""Opening a product spreadsheet: CSV (UTF-8) or XLSX, chosen by the file name's extension.

Rows come out one at a time as lists of stripped strings, so a large file is never held in
memory whole. Row numbers are the spreadsheet's own: the header is row 1.
"""

import csv
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from products.spreadsheet.columns import ALL_COLUMNS, REQUIRED

FORMATS = (".csv", ".xlsx")


class SpreadsheetError(Exception):
    """The file as a whole cannot be read: wrong type, encoding or columns."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class Sheet:
    columns: list[str]
    rows: Iterator[tuple[int, list[str]]]  # (row number, cells in ``columns`` order)


def file_format(name: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix not in FORMATS:
        raise SpreadsheetError(
            _("%(name)s is not a CSV or XLSX file: the name must end in .csv or .xlsx.")
            % {"name": Path(name).name}
        )
    return suffix


def cell_text(value) -> str:
    """A cell as text. Spreadsheet programs store 60 as 60.0; that is written back as 60."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def check_header(header: list[str]) -> list[str]:
    columns = [cell_text(name).lower() for name in header]
    problems = []
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        problems.append(
            _("Required columns are missing: %(names)s.") % {"names": ", ".join(missing)}
        )
    unknown = [name for name in columns if name and name not in ALL_COLUMNS]
    if unknown:
        problems.append(
            _("Unknown columns: %(names)s. The columns are: %(known)s.")
            % {"names": ", ".join(unknown), "known": ", ".join(ALL_COLUMNS)}
        )
    repeated = sorted({name for name in columns if name and columns.count(name) > 1})
    if repeated:
        problems.append(_("Columns appear twice: %(names)s.") % {"names": ", ".join(repeated)})
    if problems:
        raise SpreadsheetError(" ".join(problems))
    return columns


def data_rows(rows, width: int) -> Iterator[tuple[int, list[str]]]:
    for number, row in enumerate(rows, start=2):
        cells = [cell_text(value) for value in row][:width]
        if any(cells):
            yield number, cells + [""] * (width - len(cells))


def open_csv(path: Path) -> Sheet:
    handle = path.open(encoding="utf-8-sig", newline="")
    try:
        first_line = handle.readline()
        # Spreadsheet programs with a Dutch locale separate CSV cells with semicolons.
        delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
        columns = check_header(next(csv.reader([first_line], delimiter=delimiter), []))
    except UnicodeDecodeError as error:
        handle.close()
        raise not_utf8() from error
    except SpreadsheetError:
        handle.close()
        raise

    def rows():
        with handle:
            try:
                yield from data_rows(csv.reader(handle, delimiter=delimiter), len(columns))
            except UnicodeDecodeError as error:
                raise not_utf8() from error

    return Sheet(columns, rows())


def not_utf8() -> SpreadsheetError:
    return SpreadsheetError(
        _('The file is not UTF-8 text. Save it as "CSV UTF-8" in the spreadsheet program.')
    )


def open_xlsx(path: Path) -> Sheet:
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, OSError, KeyError, ValueError) as error:
        raise SpreadsheetError(
            _("The file cannot be read as an XLSX workbook: %(error)s") % {"error": error}
        ) from error
    sheet = workbook.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    try:
        columns = check_header(list(next(rows, ())))
    except SpreadsheetError:
        workbook.close()
        raise

    def data():
        try:
            yield from data_rows(rows, len(columns))
        finally:
            workbook.close()

    return Sheet(columns, data())


def open_sheet(path: Path, name: str | None = None) -> Sheet:
    """Open ``path``; ``name`` (the uploaded file's name) decides the format if given."""
    suffix = file_format(name or path.name)
    if suffix == ".csv":
        return open_csv(path)
    return open_xlsx(path)
