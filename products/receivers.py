"""Keeps the stored product amounts true when a compound's chemistry changes.

compounds sits below products and may not import it, so products listens instead.
"""

from django.db.models.signals import post_save
from django.dispatch import receiver

from compounds.models import CompoundForm
from products.services import products_refresh_for_compound


@receiver(post_save, sender=CompoundForm, dispatch_uid="products_refresh_on_compound_save")
def refresh_products_on_compound_save(sender, instance, raw=False, **kwargs):
    if not raw:
        products_refresh_for_compound(instance)
