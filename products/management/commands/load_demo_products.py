from django.core.management.base import BaseCommand, CommandError

from formulary.common.loading import LoadError
from products.demo import load_demo_products


class Command(BaseCommand):
    help = "Load (or refresh) the demo catalogue from fixtures/demo_products.yaml."

    def handle(self, *args, **options):
        self.stdout.write("Loading the demo products:")
        try:
            load_demo_products(report=self.stdout.write)
        except LoadError as error:
            raise CommandError(f"Nothing was loaded. {error}") from error
        self.stdout.write(self.style.SUCCESS("Demo products loaded."))
