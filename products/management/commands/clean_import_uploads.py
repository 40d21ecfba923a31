"""python manage.py clean_import_uploads [--hours N]: remove uploads nobody confirmed."""

from django.core.management.base import BaseCommand

from products.spreadsheet.jobs import uploads_clean


class Command(BaseCommand):
    help = (
        "Remove spreadsheet uploads waiting for a confirmation longer than --hours (default: "
        "IMPORT_UPLOAD_MAX_AGE_HOURS). The Huey worker does this every 30 minutes too."
    )

    def add_arguments(self, parser):
        parser.add_argument("--hours", type=float, default=None)

    def handle(self, *args, hours, **options):
        removed = uploads_clean(max_age_hours=hours)
        self.stdout.write(f"{removed} abandoned upload(s) removed.")
