"""One product write per second through the product service, for the benchmark's hit ratio.

    .venv/bin/python bench/writer.py SECONDS GTIN [GTIN ...]

Saves the given products in turn with ``product_save`` (the path every write takes: history,
derived amounts, match rows, the cache's invalidation), moving each one's price by a cent, and
prints how many writes it made. Runs under the benchmark's environment (bench/bench.py).
"""

import os
import sys
import time
from decimal import Decimal
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from products.models import Product  # noqa: E402
from products.services import IngredientInput, NutrientInput, product_save  # noqa: E402


def write_once(gtin: str) -> None:
    product = Product.objects.get(gtin=gtin)
    product.price_eur = (product.price_eur or Decimal("9.99")) + Decimal("0.01")
    product_save(
        product=product,
        ingredients=[
            IngredientInput(
                compound=line.compound, amount_mg=line.amount_mg, amount_basis=line.amount_basis
            )
            for line in product.ingredients.select_related("compound")
        ],
        nutrients=[
            NutrientInput(nutrient=line.nutrient, amount=line.amount)
            for line in product.nutrients.select_related("nutrient")
        ],
    )


def main(seconds: float, gtins: list[str]) -> None:
    started = time.monotonic()
    writes = 0
    while time.monotonic() - started < seconds:
        due = started + writes + 1
        write_once(gtins[writes % len(gtins)])
        writes += 1
        time.sleep(max(0.0, due - time.monotonic()))
    print(writes)


if __name__ == "__main__":
    main(float(sys.argv[1]), sys.argv[2:])
