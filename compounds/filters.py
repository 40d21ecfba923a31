import django_filters
from django.db.models import Exists, OuterRef, Q

from compounds.enums import Classification
from compounds.models import Carrier, CompoundForm, CompoundIndication
from formulary.common.api_fields import BoundedDecimalFilter, LeanFilterSet, SlugListFilter
from formulary.common.catalogue_version import depends_on_model, kept_per_version
from formulary.common.search import SEPARATOR, fold
from formulary.enums import MedicationKind
from formulary.models import Indication, Medication


def known_slugs(model):
    """Which of some slugs exist: from a set kept per catalogue version, not a query each time."""
    all_slugs = kept_per_version(
        lambda: frozenset(model.objects.values_list("slug", flat=True)),
        depends_on=depends_on_model(model._meta.label),
    )

    def known(slugs):
        existing = all_slugs()
        return [slug for slug in slugs if slug in existing]

    return known


def known_choices(choices):
    return lambda values: [v for v in values if v in choices.values]


def linked_to_indications(compound_ref, slugs):
    """Compounds (``compound_ref`` names the compound id) with evidence for any of ``slugs``."""
    return Exists(
        CompoundIndication.objects.filter(compound=compound_ref, indication__slug__in=slugs)
    )


class CompoundFilter(LeanFilterSet):
    classification = SlugListFilter(
        known=known_choices(Classification),
        kind="classification",
        help_text="organic, inorganic; several: comma-separated or repeated.",
    )
    carrier = SlugListFilter(
        field_name="carrier__slug",
        known=known_slugs(Carrier),
        kind="carrier",
        help_text="Carrier slugs, e.g. glycine, citrate.",
    )
    indication = SlugListFilter(
        method="filter_indication",
        known=known_slugs(Indication),
        kind="indication",
        help_text="Compounds with evidence for any of these indications.",
    )
    min_elemental_percent = BoundedDecimalFilter(
        field_name="elemental_magnesium_percent",
        lookup_expr="gte",
        minimum=0,
        maximum=100,
    )
    max_elemental_percent = BoundedDecimalFilter(
        field_name="elemental_magnesium_percent",
        lookup_expr="lte",
        minimum=0,
        maximum=100,
    )
    search = django_filters.CharFilter(
        method="filter_search",
        max_length=100,
        help_text="Part of the slug, Dutch or English name, or formula.",
    )
    ordering = django_filters.OrderingFilter(
        fields=(
            ("slug", "slug"),
            ("elemental_magnesium_percent", "elemental_magnesium_percent"),
            ("molar_mass_g_mol", "molar_mass_g_mol"),
            ("solubility_g_per_l", "solubility_g_per_l"),
        ),
    )

    class Meta:
        model = CompoundForm
        fields = []

    def filter_indication(self, queryset, name, slugs):
        return queryset.filter(linked_to_indications(OuterRef("pk"), slugs))

    def filter_search(self, queryset, name, text):
        return queryset.filter(
            Q(slug__icontains=text)
            | Q(name_nl__icontains=text)
            | Q(name_en__icontains=text)
            | Q(formula__icontains=text)
        )


class MedicationFilter(LeanFilterSet):
    search = django_filters.CharFilter(
        method="filter_search",
        max_length=100,
        help_text="Part of the slug, Dutch or English name or an NL/BE brand name; case and "
        "accents do not matter (omeprazol, Oméprazole, LOSEC).",
    )
    kind = SlugListFilter(
        known=known_choices(MedicationKind),
        kind="kind",
        help_text="class, substance, combination; several: comma-separated or repeated.",
    )

    class Meta:
        model = Medication
        fields = []

    def filter_search(self, queryset, name, text):
        # The stored key is folded the same way (formulary.common.search), on every database.
        return queryset.filter(search_text__contains=fold(text).replace(SEPARATOR, ""))
