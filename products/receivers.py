"""Keeps the stored product amounts, versions and match rows true when compound data changes.

compounds sits below products and may not import it, so products listens instead.
"""

from django.db.models.signals import post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver

from compounds.models import CompoundForm, CompoundIndication
from formulary.models import ReferenceIntake
from formulary.selectors import adult_upper_limits_mg
from products.matching.index import product_indications_rebuild
from products.services import products_refresh_for_compound, products_refresh_for_compounds

# What products take from a compound: the elemental % (from the formula) for their stored
# amounts, the laxative tendency for their match rows, and the names their JSON shows (so
# their version, the ETag of a product, moves with it).
PRODUCT_DEPENDENCIES = (
    "formula",
    "elemental_magnesium_percent",
    "laxative_tendency",
    "name_nl",
    "name_en",
)


def product_dependencies(compound) -> tuple:
    return tuple(getattr(compound, name) for name in PRODUCT_DEPENDENCIES)


@receiver(pre_save, sender=CompoundForm, dispatch_uid="products_before_compound_save")
def remember_compound_dependencies(sender, instance, raw=False, **kwargs):
    saved = (
        None
        if raw or instance.pk is None
        else (
            CompoundForm.objects.filter(pk=instance.pk).values_list(*PRODUCT_DEPENDENCIES).first()
        )
    )
    instance.saved_product_dependencies = saved


@receiver(post_save, sender=CompoundForm, dispatch_uid="products_refresh_on_compound_save")
def refresh_products_on_compound_save(sender, instance, raw=False, **kwargs):
    # Reloading the knowledge base saves every compound unchanged; only a change that
    # products depend on may cost a refresh of every product that contains the compound.
    if raw or getattr(instance, "saved_product_dependencies", None) == product_dependencies(
        instance
    ):
        return
    products_refresh_for_compound(instance)


@receiver(pre_save, sender=CompoundIndication, dispatch_uid="match_rows_before_evidence_save")
def remember_evidence_compound(sender, instance, raw=False, **kwargs):
    """A link moved to another compound must also refresh the products of the old one."""
    instance.previous_compound_id = (
        None
        if raw or instance.pk is None
        else CompoundIndication.objects.filter(pk=instance.pk)
        .values_list("compound_id", flat=True)
        .first()
    )


@receiver(post_save, sender=CompoundIndication, dispatch_uid="match_rows_on_evidence_save")
@receiver(post_delete, sender=CompoundIndication, dispatch_uid="match_rows_on_evidence_delete")
def refresh_match_rows_on_evidence_change(sender, instance, raw=False, **kwargs):
    """A new, regraded or removed evidence link changes the match rows of its products, and
    the indications their JSON lists (so their version, the ETag, moves too)."""
    if raw:
        return
    compounds = {instance.compound_id, getattr(instance, "previous_compound_id", None)} - {None}
    products_refresh_for_compounds(compounds)


@receiver(pre_save, sender=ReferenceIntake, dispatch_uid="match_rows_before_intake_save")
@receiver(pre_delete, sender=ReferenceIntake, dispatch_uid="match_rows_before_intake_delete")
def remember_upper_limits(sender, instance, raw=False, **kwargs):
    instance.upper_limits_before = None if raw else adult_upper_limits_mg()


@receiver(post_save, sender=ReferenceIntake, dispatch_uid="match_rows_on_intake_save")
@receiver(post_delete, sender=ReferenceIntake, dispatch_uid="match_rows_on_intake_delete")
def rebuild_match_rows_on_upper_limit_change(sender, instance, raw=False, **kwargs):
    """The match rows' points per jurisdiction use the adult upper limits: when one changes,
    every row is rebuilt, in the same transaction as the change (two set-based statements),
    so no reader sees the new limit with the old points. Reloading the knowledge base saves
    the intakes unchanged and rebuilds nothing."""
    before = getattr(instance, "upper_limits_before", None)
    if raw or before is None or before == adult_upper_limits_mg():
        return
    product_indications_rebuild()
