"""python manage.py export_products FILE: the catalogue in the import format (CSV or XLSX)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from products.spreadsheet.exporting import export_rows, write_csv, write_xlsx
from products.spreadsheet.reading import SpreadsheetError, file_format


class Command(BaseCommand):
    help = (
        "Export every product, one row per ingredient line, ordered by GTIN. The extension "
        "chooses the format (.csv or .xlsx); '-' writes CSV to standard output."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="a .csv or .xlsx path, or - for standard output")

    def handle(self, *args, file: str, **options):
        if file == "-":
            write_csv(export_rows(), self.stdout)
            return
        try:
            suffix = file_format(file)
        except SpreadsheetError as error:
            raise CommandError(error.message) from error
        path = Path(file)
        if suffix == ".csv":
            with path.open("w", encoding="utf-8", newline="") as stream:
                count = write_csv(export_rows(), stream)
        else:
            count = write_xlsx(export_rows(), path)
        self.stderr.write(f"{count} rows written to {path}.")
