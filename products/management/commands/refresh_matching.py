from django.core.management.base import BaseCommand

from products.matching.index import product_indications_rebuild
from products.models import ProductIndication


class Command(BaseCommand):
    help = (
        "Rebuild the stored match rows (products.ProductIndication) of every product in one "
        "set-based statement: after migrating, or after bulk-loading products."
    )

    def handle(self, *args, **options):
        product_indications_rebuild()
        self.stdout.write(f"Match rows rebuilt: {ProductIndication.objects.count()}.")
