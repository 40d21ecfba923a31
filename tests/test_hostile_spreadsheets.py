"""Hostile spreadsheets are read in bounded time and memory, and refused with a clear message.

Each test builds the file an attacker would send (a tiny XLSX declaring a full-size sheet, a
whitespace bomb, millions of shared strings, an overlong cell, broken XML, a NUL byte) and
asserts the bounded behaviour: the refusal, its message, the rows read, the memory peak.
"""

import csv
import io
import os
import re
import time
import tracemalloc
import zipfile

import pytest
from django.core.management import call_command
from django.utils import translation
from openpyxl import Workbook

from products.models import ImportJob, Product
from products.spreadsheet.columns import ALL_COLUMNS, neutralise_formula, restore_formula
from products.spreadsheet.importing import import_products
from products.spreadsheet.jobs import UPLOAD_DIR, run_import_job
from products.spreadsheet.reading import SpreadsheetError, open_sheet
from tests.test_admin import new_gtin, staff_client
from tests.test_import_export import (
    HEADER,
    IMPORT,
    confirm,
    every_table_count,
    export,
    rejected,
    row,
    run_import,
    upload,
    write,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def in_english():
    """The reader's messages follow the active language; an earlier test may leave Dutch on."""
    with translation.override("en"):
        yield


MIB = 1024 * 1024
SHEET = "xl/worksheets/sheet1.xml"
STRINGS = "xl/sharedStrings.xml"
SHEET_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def workbook(tmp_path, rows, name="hostile.xlsx"):
    path = tmp_path / name
    book = Workbook()
    sheet = book.active
    for cells in rows:
        sheet.append(cells)
    book.save(path)
    return path


STRINGS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"


def replace_part(path, part, write_part):
    """Rewrite ``path`` with ``part`` written by ``write_part(stream)``, streamed, so a test
    never holds a hostile part in memory. A shared-strings part is named in the manifest, as
    spreadsheet programs write it (openpyxl itself writes inline strings)."""
    source = path.with_suffix(".orig")
    path.rename(source)
    with (
        zipfile.ZipFile(source) as old,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as new,
    ):
        for info in old.infolist():
            if info.filename == part:
                continue
            content = old.read(info.filename)
            if info.filename == "[Content_Types].xml" and part == STRINGS:
                override = f'<Override PartName="/{STRINGS}" ContentType="{STRINGS_TYPE}"/>'
                content = content.replace(b"</Types>", override.encode() + b"</Types>")
            new.writestr(info, content)
        with new.open(part, "w", force_zip64=True) as stream:
            write_part(stream)
    source.unlink()
    return path


def header_cells():
    return [
        f'<c r="{chr(65 + i)}1" t="inlineStr"><is><t>{c}</t></is></c>'
        for i, c in enumerate(ALL_COLUMNS)
    ]


def read_all(path):
    """Opens and reads every row, returning (rows read, peak bytes allocated meanwhile)."""
    tracemalloc.start()
    try:
        sheet = open_sheet(path)
        rows = sum(1 for _ in sheet.rows)
        return rows, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def refusal(path):
    tracemalloc.start()
    try:
        with pytest.raises(SpreadsheetError) as raised:
            sheet = open_sheet(path)
            for _ in sheet.rows:
                pass
        return raised.value.message, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_xlsx_declaring_a_full_size_sheet_is_read_only_as_wide_as_its_header(tmp_path):
    path = workbook(tmp_path, [list(ALL_COLUMNS)])

    def full_size(stream):
        stream.write(
            f'<worksheet {SHEET_NS}><dimension ref="A1:XFD1048576"/><sheetData>'
            f'<row r="1">{"".join(header_cells())}</row>'
            '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
            "</sheetData></worksheet>".encode()
        )

    replace_part(path, SHEET, full_size)
    assert path.stat().st_size < 10_000

    rows, peak = read_all(path)

    assert rows == 0  # its only cell lies beyond the header's columns
    assert peak < 20 * MIB


def test_xlsx_whitespace_bomb_is_refused_before_it_is_parsed(tmp_path):
    path = workbook(tmp_path, [list(ALL_COLUMNS)])

    def whitespace(stream):
        stream.write(f"<worksheet {SHEET_NS}><sheetData>".encode())
        for _ in range(50):
            stream.write(b" " * MIB)
        stream.write(b"</sheetData></worksheet>")

    replace_part(path, SHEET, whitespace)
    assert path.stat().st_size < 2 * MIB

    message, peak = refusal(path)

    assert "is compressed more than 100 times" in message
    assert peak < 20 * MIB


def test_xlsx_with_twenty_million_shared_strings_is_refused_before_they_are_kept(tmp_path):
    path = workbook(tmp_path, [list(ALL_COLUMNS)])

    def strings(stream):
        stream.write(f'<sst {SHEET_NS} count="20000000" uniqueCount="20000000">'.encode())
        block = b"<si><t>a</t></si>" * 100_000
        for _ in range(200):
            stream.write(block)
        stream.write(b"</sst>")

    replace_part(path, STRINGS, strings)

    message, peak = refusal(path)

    assert "is compressed more than 100 times" in message
    assert peak < 20 * MIB


def test_xlsx_shared_strings_beyond_the_limit_are_refused_by_count(tmp_path, settings):
    settings.SPREADSHEET_MAX_SHARED_STRINGS = 1000
    path = workbook(tmp_path, [list(ALL_COLUMNS)])
    texts = "".join(f"<si><t>name {i}</t></si>" for i in range(1001))
    replace_part(path, STRINGS, lambda s: s.write(f"<sst {SHEET_NS}>{texts}</sst>".encode()))

    message, _ = refusal(path)

    assert message == "The workbook holds more than 1000 different texts; split it."


def test_xlsx_cell_over_the_limit_is_refused_with_its_row_and_column(tmp_path):
    cells = row(new_gtin(1)).split(",")
    cells[ALL_COLUMNS.index("name")] = "x" * 200_000
    path = workbook(tmp_path, [list(ALL_COLUMNS), cells])

    message, _ = refusal(path)

    assert message == (
        "Row 2, column name: a cell holds more than 4096 characters; no product field needs "
        "that many."
    )


def test_csv_cell_over_128_kib_is_refused_not_crashed_on(tmp_path):
    long_name = '"' + "x\n" * 70_000 + '"'  # quoted, with line breaks: past every line limit
    cells = row(new_gtin(2)).split(",")
    cells[ALL_COLUMNS.index("name")] = long_name
    path = write(tmp_path, [",".join(cells)])

    message, _ = refusal(path)

    assert "a cell holds more than 4096 characters" in message


def test_csv_of_one_endless_line_is_refused_before_the_line_is_held(tmp_path):
    path = tmp_path / "commas.csv"
    with path.open("w") as handle:
        handle.write(HEADER + "\n")
        for _ in range(64):
            handle.write("," * MIB)

    message, peak = refusal(path)

    assert message.startswith("A line of the file is longer than")
    assert peak < 20 * MIB


def test_broken_sheet_xml_is_a_clear_refusal(tmp_path):
    path = workbook(tmp_path, [list(ALL_COLUMNS), row(new_gtin(3)).split(",")])
    replace_part(path, SHEET, lambda s: s.write(b"<worksheet><sheetData><row r='1'><c"))

    message, _ = refusal(path)

    assert message.startswith("The file cannot be read as an XLSX workbook")


def test_import_command_exits_2_for_a_broken_workbook(tmp_path):
    path = workbook(tmp_path, [list(ALL_COLUMNS)])
    replace_part(path, SHEET, lambda s: s.write(b"<worksheet><sheetData><row"))

    error, _ = rejected(path)

    assert error.returncode == 2


def test_file_over_the_size_limit_is_refused(tmp_path, settings):
    settings.SPREADSHEET_MAX_FILE_BYTES = 1024
    path = write(tmp_path, [row(new_gtin(i)) for i in range(1, 40)])

    message, _ = refusal(path)

    assert message == "The file is 0 MB; at most 0 MB can be imported. Split it."


def test_rows_beyond_the_limit_are_refused(tmp_path, settings):
    settings.SPREADSHEET_MAX_ROWS = 3
    path = write(tmp_path, [row(new_gtin(i)) for i in range(1, 6)])

    message, _ = refusal(path)

    assert message == "The file has more than 3 rows below the header; split it."


def test_header_of_thousands_of_columns_is_refused(tmp_path):
    path = write(tmp_path, [], header=HEADER + ",x" * 5000)

    message, _ = refusal(path)

    assert message == "The header has more than 64 columns; a product sheet has 17."


def test_nul_and_control_characters_are_problems_of_their_cell_and_nothing_is_written(
    tmp_path,
):
    path = write(
        tmp_path,
        [row(new_gtin(4), name="Nacht\x00rust"), row(new_gtin(5), brand="Merk\x1b")],
    )
    before = every_table_count()

    report = import_products(path)

    assert [(p.row, p.column, p.message) for p in report.problems] == [
        (2, "name", "The cell contains a control character (such as NUL); remove it."),
        (3, "brand", "The cell contains a control character (such as NUL); remove it."),
    ]
    assert not report.written
    assert every_table_count() == before


def test_admin_preview_of_a_broken_workbook_is_a_400_without_the_server_path(
    tmp_path, client, django_user_model
):
    shop = staff_client(client, django_user_model, "Shop staff")
    path = workbook(tmp_path, [list(ALL_COLUMNS)])
    replace_part(path, SHEET, lambda s: s.write(b"<worksheet><sheetData><row"))

    response = upload(shop, path)

    assert response.status_code == 400
    text = response.content.decode()
    assert "The file cannot be read as an XLSX workbook" in text
    assert str(UPLOAD_DIR) not in text
    assert "formulary-product-imports" not in text
    job = ImportJob.objects.get()
    assert (job.status, (UPLOAD_DIR / job.stored_name).exists()) == ("failed", False)


def test_admin_preview_shows_a_nul_byte_as_a_problem_and_offers_no_confirmation(
    tmp_path, client, django_user_model
):
    shop = staff_client(client, django_user_model, "Shop staff")
    path = write(tmp_path, [row(new_gtin(6), name="a\x00b")])

    response = upload(shop, path)

    assert response.status_code == 200
    assert [(p.row, p.column) for p in response.context["report"].problems] == [(2, "name")]
    assert "Confirm the import" not in response.content.decode()


# ---- formula injection in CSV exports ---------------------------------------------------

FORMULAS = ['=HYPERLINK("http://x.example","klik")', "@SUM(A1:A9)", "+1+cmd|' /C calc'!A0", "-2+3"]


@pytest.mark.parametrize("text", FORMULAS)
def test_csv_export_neutralises_a_formula_and_imports_it_back_unchanged(tmp_path, text):
    product = Product.objects.order_by("gtin").first()
    Product.objects.filter(pk=product.pk).update(name=text)

    path = export(tmp_path)

    names = {r["gtin"]: r["name"] for r in csv.DictReader(io.StringIO(path.read_text()))}
    assert names[product.gtin] == f"'{text}"
    out, _ = run_import(path, "--dry-run")
    assert f"{Product.objects.count()} products: 0 would be created, 0 would be updated" in out


@pytest.mark.parametrize(
    "text", ["-5", "-1.5", "+3", "-1e3", "250", "'t Hoentje", "Magnesium - citraat", ""]
)
def test_csv_cell_that_is_no_formula_is_written_as_it_is(text):
    assert neutralise_formula(text) == text


@pytest.mark.parametrize(
    "text",
    [*FORMULAS, "-", "'=x", "''@y", "\t=1", "\r=1", "-5", "'t Hoentje", "=", "'"],
)
def test_csv_formula_escape_is_undone_exactly(text):
    assert restore_formula(neutralise_formula(text)) == text


def test_admin_csv_export_neutralises_formulas(client, django_user_model):
    product = Product.objects.order_by("gtin").first()
    Product.objects.filter(pk=product.pk).update(name="=1+1")
    shop = staff_client(client, django_user_model, "Shop staff")

    response = shop.get("/admin/products/product/export/csv/")

    text = b"".join(response.streaming_content).decode()
    assert "'=1+1" in text
    assert "\n=1+1" not in text and ",=1+1" not in text


def test_import_command_stays_quiet_about_paths(tmp_path):
    path = workbook(tmp_path, [list(ALL_COLUMNS)])
    replace_part(path, SHEET, lambda s: s.write(b"<worksheet><sheetData><row"))
    out = io.StringIO()

    with pytest.raises(Exception) as raised:
        call_command("import_products", str(path), stdout=out, stderr=io.StringIO())

    assert "could not read worksheets from" not in str(raised.value)


# ---- imports as background jobs ---------------------------------------------------------


def test_admin_upload_is_a_job_whose_page_follows_it_until_a_worker_has_checked_it(
    tmp_path, client, django_user_model
):
    shop = staff_client(client, django_user_model, "Shop staff")
    path = write(tmp_path, [row(new_gtin(9))])

    with path.open("rb") as handle:
        posted = shop.post(IMPORT, {"file": handle})  # the worker has not run yet
    waiting = shop.get(posted.headers["Location"])
    job = ImportJob.objects.get()
    run_import_job.call_local(job.pk)
    checked = shop.get(posted.headers["Location"])

    assert (waiting.status_code, checked.status_code) == (200, 200)
    assert '<meta http-equiv="refresh"' in waiting.content.decode()
    assert "Waiting for a worker" in waiting.content.decode()
    assert checked.context["report"].created == 1
    assert "Confirm the import" in checked.content.decode()
    assert not Product.objects.filter(gtin=new_gtin(9)).exists()


def test_another_users_job_is_not_shown(tmp_path, client, django_user_model):
    owner = django_user_model.objects.create_user(username="owner", password="x")
    job = ImportJob.objects.create(user=owner, file_name="a.csv", stored_name="x.csv")
    shop = staff_client(client, django_user_model, "Shop staff")

    response = shop.get(f"/admin/products/product/import/{job.token}/")

    assert response.status_code == 302
    assert response.headers["Location"] == IMPORT


def test_confirmed_import_job_writes_all_or_nothing_like_the_command(
    tmp_path, client, django_user_model
):
    shop = staff_client(client, django_user_model, "Shop staff")
    gtins = [new_gtin(n) for n in range(20, 25)]
    path = write(tmp_path, [row(gtin) for gtin in gtins])
    preview = upload(shop, path)

    done = confirm(shop, preview.context["token"])

    assert set(Product.objects.filter(gtin__in=gtins).values_list("gtin", flat=True)) == set(gtins)
    assert [str(m) for m in done.context["messages"]] == [
        "Imported products.csv: 5 created, 0 updated, 0 unchanged."
    ]
    job = ImportJob.objects.get()
    assert (job.status, job.report["created"]) == ("imported", 5)
    assert not (UPLOAD_DIR / job.stored_name).exists()


def test_abandoned_uploads_are_removed_after_their_age(tmp_path):
    UPLOAD_DIR.mkdir(parents=True, exist_ok=True)
    old, fresh = UPLOAD_DIR / "old-test-upload.csv", UPLOAD_DIR / "fresh-test-upload.csv"
    old.write_text("x")
    fresh.write_text("x")
    day_ago = time.time() - 25 * 3600
    os.utime(old, (day_ago, day_ago))
    out = io.StringIO()

    call_command("clean_import_uploads", "--hours", "24", stdout=out)

    assert (old.exists(), fresh.exists()) == (False, True)
    assert re.fullmatch(r"[1-9][0-9]* abandoned upload\(s\) removed\.\n", out.getvalue())
    fresh.unlink()
