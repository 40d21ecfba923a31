"""python manage.py import_products FILE [--dry-run]: the spreadsheet import, all or nothing."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from products.spreadsheet.importing import ImportReport, import_products
from products.spreadsheet.reading import SpreadsheetError

EXIT_REJECTED = 1  # the file has problems: nothing was written
EXIT_UNREADABLE = 2  # not a CSV/XLSX file, not UTF-8, or wrong columns
NEW_BRANDS_SHOWN = 20


class Command(BaseCommand):
    help = (
        "Import products from a CSV or XLSX file (one row per ingredient line). Every row is "
        "validated first; one problem rejects the whole file. Exit code 0: imported (or the "
        "dry run found no problem); 1: problems, nothing written; 2: the file cannot be read."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Validate and report what would be created, updated and unchanged; write nothing.",
        )

    def handle(self, *args, file: Path, dry_run: bool, **options):
        # The command speaks English like its own summary lines; the admin follows the user.
        with translation.override("en"):
            self.run_import(file, dry_run=dry_run)

    def run_import(self, file: Path, *, dry_run: bool):
        if not file.is_file():
            raise CommandError(f"{file}: no such file.", returncode=EXIT_UNREADABLE)
        try:
            report = import_products(file, dry_run=dry_run, progress=self.progress)
        except SpreadsheetError as error:
            raise CommandError(f"{file}: {error.message}", returncode=EXIT_UNREADABLE) from error
        if not report.ok:
            self.stderr.write(f"{file}: rejected. Problems:")
            for problem in report.problems:
                self.stderr.write(f"  {location(problem)}: {problem.message}")
            raise CommandError(
                f"{file}: {len(report.problems)} problem(s); nothing was written.",
                returncode=EXIT_REJECTED,
            )
        self.stdout.write(summary(report, dry_run=dry_run))

    def progress(self, message: str) -> None:
        self.stderr.write(f"  {message}")


def location(problem) -> str:
    parts = []
    if problem.row is not None:
        parts.append(f"row {problem.row}")
    if problem.column:
        parts.append(f"column {problem.column}")
    return ", ".join(parts) or "file"


def summary(report: ImportReport, *, dry_run: bool) -> str:
    verb = "would be" if dry_run else "were"
    text = (
        f"{report.rows} rows, {report.products} products: {report.created} {verb} created, "
        f"{report.updated} {verb} updated, {report.unchanged} unchanged."
    )
    if report.new_brands:
        shown = ", ".join(report.new_brands[:NEW_BRANDS_SHOWN])
        more = len(report.new_brands) - NEW_BRANDS_SHOWN
        text += f" New brands: {shown}{f' and {more} more' if more > 0 else ''}."
    if dry_run:
        text += " Dry run: nothing was written."
    return text
