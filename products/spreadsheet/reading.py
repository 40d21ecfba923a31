"""Opening a product spreadsheet: CSV (UTF-8) or XLSX, chosen by the file name's extension.

Rows come out one at a time as lists of stripped strings, so a large file is never held in
memory whole. Row numbers are the spreadsheet's own: the header is row 1.

Whatever a file declares, reading it takes bounded time and memory (the limits are settings,
``SPREADSHEET_*``): its size on disk; for an XLSX, how much its parts unpack to, how far each
is compressed (a bomb of whitespace or of millions of tiny shared strings unpacks hundreds of
times its size, a workbook as a program saves it some ten times) and how many shared strings
it holds, all checked before openpyxl parses anything; the columns read (a sheet that declares
itself 16,384 columns wide is read only as wide as its header); the rows, the length of a
cell and of a CSV line. A file beyond a limit, or one that breaks while it is read, is a
``SpreadsheetError`` whose message names the limit, never an exception with a server path.
"""

import csv
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.etree.ElementTree import ParseError as XMLParseError

from django.conf import settings
from django.utils.translation import gettext as _
from openpyxl import load_workbook
from openpyxl.packaging.manifest import Manifest
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet._reader import WorkSheetParser
from openpyxl.xml.constants import ARC_CONTENT_TYPES, SHARED_STRINGS
from openpyxl.xml.functions import fromstring

from products.spreadsheet.columns import ALL_COLUMNS, REQUIRED, restore_formula

FORMATS = (".csv", ".xlsx")
MIB = 1024 * 1024
# A header wider than this is no product sheet; its cells beyond are never read.
MAX_COLUMNS = 64
# Parts of an XLSX as programs write it: a few dozen. A central directory of millions of
# entries is itself a way to fill memory.
MAX_XLSX_PARTS = 1000
# Parts smaller than this are not checked for their compression: tiny XML compresses well.
RATIO_CHECKED_FROM_BYTES = MIB
# What openpyxl's readers raise on a damaged or hostile workbook while it is read.
XLSX_READ_ERRORS = (
    InvalidFileException,
    zipfile.BadZipFile,
    zlib.error,
    XMLParseError,
    EOFError,
    OSError,
    KeyError,
    IndexError,
    TypeError,
    ValueError,
)


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


def header_columns(header) -> list[str]:
    """The header's cells up to its last named one; wider than ``MAX_COLUMNS`` is refused."""
    cells = [cell_text(name) for name in header]
    while cells and not cells[-1]:
        cells.pop()
    if len(cells) > MAX_COLUMNS:
        raise SpreadsheetError(
            _("The header has more than %(limit)d columns; a product sheet has %(count)d.")
            % {"limit": MAX_COLUMNS, "count": len(ALL_COLUMNS)}
        )
    return check_header(cells)


def data_rows(
    numbered_rows, columns: list[str], *, restore=None
) -> Iterator[tuple[int, list[str]]]:
    """``(row number, cells)`` of the rows below the header that hold anything."""
    width = len(columns)
    max_rows = settings.SPREADSHEET_MAX_ROWS
    max_chars = settings.SPREADSHEET_MAX_CELL_CHARS
    for number, row in numbered_rows:
        if number > max_rows + 1:
            raise SpreadsheetError(
                _("The file has more than %(limit)d rows below the header; split it.")
                % {"limit": max_rows}
            )
        cells = [cell_text(value) for value in row[:width]]
        if restore is not None:
            cells = [restore(cell) for cell in cells]
        for index, cell in enumerate(cells):
            if len(cell) > max_chars:
                raise cell_too_long(number, columns[index])
        if any(cells):
            yield number, cells + [""] * (width - len(cells))


def cell_too_long(row: int | None, column: str | None) -> SpreadsheetError:
    where = (
        _("Row %(row)d, column %(column)s: ") % {"row": row, "column": column}
        if row is not None
        else ""
    )
    return SpreadsheetError(
        where
        + _("a cell holds more than %(limit)d characters; no product field needs that many.")
        % {"limit": settings.SPREADSHEET_MAX_CELL_CHARS}
    )


def bounded_lines(handle, limit: int) -> Iterator[str]:
    """The file's lines, each read at most ``limit`` characters far: a file of one huge
    line (a million commas) is refused before it is held in memory."""
    while line := handle.readline(limit + 1):
        if len(line) > limit:
            raise SpreadsheetError(
                _("A line of the file is longer than %(limit)d characters.") % {"limit": limit}
            )
        yield line


def open_csv(path: Path) -> Sheet:
    handle = path.open(encoding="utf-8-sig", newline="")
    # Every column's cell at its longest, with quotes and separators.
    lines = bounded_lines(handle, MAX_COLUMNS * (settings.SPREADSHEET_MAX_CELL_CHARS + 3))
    try:
        first_line = next(lines, "")
        # Spreadsheet programs with a Dutch locale separate CSV cells with semicolons.
        delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
        columns = header_columns(next(csv.reader([first_line], delimiter=delimiter), []))
    except UnicodeDecodeError as error:
        handle.close()
        raise not_utf8() from error
    except csv.Error as error:
        handle.close()
        raise unreadable_csv(None) from error
    except SpreadsheetError:
        handle.close()
        raise

    def rows():
        reader = csv.reader(lines, delimiter=delimiter)
        with handle:
            try:
                # Our CSV exports write formula-like cells with an apostrophe; read them back.
                yield from data_rows(enumerate(reader, start=2), columns, restore=restore_formula)
            except UnicodeDecodeError as error:
                raise not_utf8() from error
            except csv.Error as error:
                # The csv module refuses a field over 128 KiB (a quoted cell with line breaks
                # can run past any line limit): the same answer as any other long cell.
                if "field larger than field limit" in str(error):
                    raise cell_too_long(None, None) from error
                raise unreadable_csv(reader.line_num) from error

    return Sheet(columns, rows())


def unreadable_csv(line: int | None) -> SpreadsheetError:
    return SpreadsheetError(
        _("The CSV cannot be read near line %(line)d: check its quotes.") % {"line": line or 1}
    )


def not_utf8() -> SpreadsheetError:
    return SpreadsheetError(
        _('The file is not UTF-8 text. Save it as "CSV UTF-8" in the spreadsheet program.')
    )


def not_a_workbook() -> SpreadsheetError:
    # No exception text: openpyxl's name the file by its path on this server.
    return SpreadsheetError(
        _(
            "The file cannot be read as an XLSX workbook: it is damaged or not a workbook. "
            "Save it again as .xlsx in the spreadsheet program, or as CSV UTF-8."
        )
    )


def check_archive(path: Path) -> None:
    """Refuse, from the ZIP's directory alone, a workbook that would unpack beyond the limits.

    zipfile never unpacks a part beyond the size its directory declares (a part that tries
    fails its CRC check), so the declared sizes bound the work.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
            if len(parts) > MAX_XLSX_PARTS:
                raise not_a_workbook()
            unpacked = sum(part.file_size for part in parts)
            if unpacked > settings.SPREADSHEET_MAX_UNPACKED_BYTES:
                raise SpreadsheetError(
                    _("The workbook unpacks to %(size)d MB; at most %(limit)d MB are read.")
                    % {
                        "size": unpacked // MIB,
                        "limit": settings.SPREADSHEET_MAX_UNPACKED_BYTES // MIB,
                    }
                )
            ratio = settings.SPREADSHEET_MAX_COMPRESSION_RATIO
            for part in parts:
                if part.file_size >= RATIO_CHECKED_FROM_BYTES and part.file_size > ratio * max(
                    part.compress_size, 1
                ):
                    raise SpreadsheetError(
                        _(
                            "The workbook's part %(part)s is compressed more than %(ratio)d "
                            "times, as no spreadsheet program writes it: it is refused."
                        )
                        % {"part": part.filename[:100], "ratio": ratio}
                    )
            strings = shared_strings_part(archive)
            if strings is not None:
                check_shared_strings(archive, strings)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as error:
        raise not_a_workbook() from error


def shared_strings_part(archive: zipfile.ZipFile) -> str | None:
    """The part openpyxl will read the shared strings from: the one the manifest names."""
    try:
        manifest = Manifest.from_tree(fromstring(archive.read(ARC_CONTENT_TYPES)))
    except XLSX_READ_ERRORS as error:
        raise not_a_workbook() from error
    found = manifest.find(SHARED_STRINGS)
    return None if found is None else found.PartName[1:]


def check_shared_strings(archive: zipfile.ZipFile, name: str) -> None:
    """Count the shared strings in a streaming pass before openpyxl keeps them all."""
    limit = settings.SPREADSHEET_MAX_SHARED_STRINGS
    count, tail = 0, b""
    with archive.open(name) as part:
        while chunk := part.read(MIB):
            data = tail + chunk
            count += data.count(b"<si>") + data.count(b"<si ")
            # A tag cut at the chunk's end is counted with the next chunk.
            tail = data[-3:]
            count -= tail.count(b"<si>") + tail.count(b"<si ")
            if count > limit:
                raise SpreadsheetError(
                    _("The workbook holds more than %(limit)d different texts; split it.")
                    % {"limit": limit}
                )


def xml_rows(sheet, width: int) -> Iterator[tuple[int, list]]:
    """``(row number, values)`` of the rows the sheet's XML holds, ``width`` values each.

    openpyxl's ``iter_rows`` pads the sheet out to the size its ``<dimension>`` declares and
    fills every missing row: a 5 KB file declaring A1:XFD1048576 made it produce a million
    rows of 16,384 cells. Its row parser (pinned openpyxl 3.1) yields only the rows present.
    """
    with sheet._get_source() as source:
        parser = WorkSheetParser(
            source,
            sheet._shared_strings,
            data_only=True,
            epoch=sheet.parent.epoch,
            date_formats=sheet.parent._date_formats,
            timedelta_formats=sheet.parent._timedelta_formats,
        )
        for number, cells in parser.parse():
            values = [None] * width
            for cell in cells:
                if cell["column"] <= width:
                    values[cell["column"] - 1] = cell["value"]
            yield number, values


def open_xlsx(path: Path) -> Sheet:
    check_archive(path)
    # Our own handle: openpyxl leaves the file open when a workbook fails to load.
    handle = path.open("rb")
    try:
        workbook = load_workbook(handle, read_only=True, data_only=True)
    except XLSX_READ_ERRORS as error:
        handle.close()
        raise not_a_workbook() from error
    rows = xml_rows(workbook.worksheets[0], MAX_COLUMNS + 1)

    def close():
        rows.close()
        workbook.close()
        handle.close()

    try:
        number, header = next(rows, (1, []))
        columns = header_columns(header if number == 1 else [])
    except SpreadsheetError:
        close()
        raise
    except XLSX_READ_ERRORS as error:
        close()
        raise not_a_workbook() from error

    def data():
        try:
            yield from data_rows(rows, columns)
        except XLSX_READ_ERRORS as error:
            raise not_a_workbook() from error
        finally:
            close()

    return Sheet(columns, data())


def check_file_size(path: Path) -> None:
    size = path.stat().st_size
    limit = settings.SPREADSHEET_MAX_FILE_BYTES
    if size > limit:
        raise SpreadsheetError(
            _("The file is %(size)d MB; at most %(limit)d MB can be imported. Split it.")
            % {"size": size // MIB, "limit": limit // MIB}
        )


def open_sheet(path: Path, name: str | None = None) -> Sheet:
    """Open ``path``; ``name`` (the uploaded file's name) decides the format if given."""
    suffix = file_format(name or path.name)
    check_file_size(path)
    if suffix == ".csv":
        return open_csv(path)
    return open_xlsx(path)
