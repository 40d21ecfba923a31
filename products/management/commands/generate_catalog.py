from django.core.management.base import BaseCommand, CommandError

from products.catalogue_generator import (
    CatalogueGenerator,
    generated_catalogue_delete,
    generated_products,
)


class Command(BaseCommand):
    help = (
        "Generate a synthetic catalogue on the loaded knowledge base (GTINs 29…, brands "
        "synthetic-…). Deterministic for a seed. --replace deletes an earlier one first."
    )

    def add_arguments(self, parser):
        parser.add_argument("--products", type=int, required=True)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--brands", type=int, default=300)
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Delete the generated products and brands first; other products stay.",
        )

    def handle(self, *args, products, seed, brands, replace, **options):
        if not 1 <= products <= 10_000_000 or not 1 <= brands <= 99_999:
            raise CommandError("Give 1 to 10,000,000 products and 1 to 99,999 brands.")
        if replace:
            deleted = generated_catalogue_delete()
            self.stdout.write(f"Deleted {deleted} generated products.")
        elif generated_products().exists():
            raise CommandError(
                "A generated catalogue is already there; add --replace to generate it anew."
            )
        generator = CatalogueGenerator(seed=seed, brands=brands, report=self.stdout.write)
        if not generator.compounds:
            raise CommandError("Load the knowledge base first: manage.py load_knowledge_base.")
        generator.generate(products)
        self.stdout.write(self.style.SUCCESS(f"Generated {products} products."))
