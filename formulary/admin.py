from django.apps import apps
from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from formulary.common.localization import localized
from formulary.common.localized_numbers import LocalizedNumbersAdmin, number_text
from formulary.common.search import fold
from formulary.models import (
    Caution,
    CautionCitation,
    DeficiencySign,
    DeficiencySignCitation,
    HealthClaim,
    HealthClaimCitation,
    Indication,
    Medication,
    MedicationCitation,
    Nutrient,
    NutrientUpperLimit,
    NutrientUpperLimitCitation,
    Population,
    Reference,
    ReferenceIntake,
    ReferenceIntakeCitation,
    RiskGroup,
    RiskGroupCitation,
    SourceOfRule,
    SourceOfRuleCitation,
    age_band_text,
)


class FormularyAdmin(LocalizedNumbersAdmin, SimpleHistoryAdmin):
    """The base of every ModelAdmin of the project: numbers in the user's notation, and the
    history page with the path (admin, API, import, command) each change came through."""

    object_history_list_template = "admin/formulary/object_history_list.html"
    # Django 6 reads a URL typed without a scheme as https; say so now (and silence the
    # deprecation warning every URL field's form raises until then).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_list_display(self, request):
        return [plain_number_column(self.model, name) for name in super().get_list_display(request)]

    def get_deleted_objects(self, objs, request):
        """Django lists every row a delete cascades to; rows the code derives and rebuilds
        (``derived_rows = True`` on the model, e.g. the products' match rows) are bookkeeping
        that staff neither wrote nor can act on, so the confirmation leaves them out."""
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        derived = [model for model in apps.get_models() if getattr(model, "derived_rows", False)]
        prefixes = tuple(f"{capfirst(model._meta.verbose_name)}: " for model in derived)
        hidden_counts = {model._meta.verbose_name_plural for model in derived}
        counts = {name: count for name, count in counts.items() if name not in hidden_counts}
        return without_rows(deleted, prefixes), counts, perms_needed, protected


def plain_number_column(model, name):
    """A list column of a DecimalField, shown as the number inputs show it: no trailing zeros
    (Django's list shows every decimal place: 357,0000 g/l, 4,0 hours)."""
    if not isinstance(name, str):
        return name
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return name
    if not isinstance(field, models.DecimalField):
        return name

    @admin.display(description=field.verbose_name, ordering=name)
    def column(obj):
        value = getattr(obj, name)
        return None if value is None else number_text(value)

    column.__name__ = name
    return column


def without_rows(nested: list, prefixes: tuple[str, ...]) -> list:
    """``nested`` (the delete page's list: an entry, then a list of what it takes along)
    without the entries that start with one of ``prefixes``, and what they take along."""
    kept = []
    dropped = False
    for entry in nested:
        if isinstance(entry, list):
            if not dropped:
                kept.append(without_rows(entry, prefixes))
            continue
        dropped = str(entry).startswith(prefixes)
        if not dropped:
            kept.append(entry)
    return kept


class FormularyTabularInline(LocalizedNumbersAdmin, admin.TabularInline):
    pass


class FormularyStackedInline(LocalizedNumbersAdmin, admin.StackedInline):
    pass


class CitationInline(FormularyTabularInline):
    """A fact's references, one row each, picked by searching the reference list.

    The ``references`` many-to-manys use explicit through models, which filter_horizontal cannot
    edit; the higher layers subclass this for their own citation models.
    """

    autocomplete_fields = ["reference"]
    extra = 0
    verbose_name = _("cited reference")
    verbose_name_plural = _("cited references")


class ReferenceIntakeCitationInline(CitationInline):
    model = ReferenceIntakeCitation


class RiskGroupCitationInline(CitationInline):
    model = RiskGroupCitation


class DeficiencySignCitationInline(CitationInline):
    model = DeficiencySignCitation


class MedicationCitationInline(CitationInline):
    model = MedicationCitation


class SourceOfRuleCitationInline(CitationInline):
    model = SourceOfRuleCitation


class HealthClaimCitationInline(CitationInline):
    model = HealthClaimCitation


class NutrientUpperLimitCitationInline(CitationInline):
    model = NutrientUpperLimitCitation


class CautionCitationInline(CitationInline):
    model = CautionCitation


@admin.register(SourceOfRule)
class SourceOfRuleAdmin(FormularyAdmin):
    """The condition of the claims; its threshold in mg is computed, so it is not a field."""

    list_display = ["nutrient", "nrv_mg", "minimum_percent_of_nrv", "basis", "basis_status"]
    inlines = [SourceOfRuleCitationInline]


@admin.register(HealthClaim)
class HealthClaimAdmin(FormularyAdmin):
    """Authorised claim wordings: law about a nutrient, not evidence about a compound."""

    list_display = ["slug", "rule", "text_nl", "text_nl_status", "text_en_status"]
    list_filter = ["rule__nutrient", "text_nl_status", "text_en_status"]
    search_fields = ["slug", "text_nl", "text_en", "efsa_ids"]
    inlines = [HealthClaimCitationInline]


@admin.register(Reference)
class ReferenceAdmin(FormularyAdmin):
    list_display = ["key", "status", "doi", "pmid", "about_carrier"]
    list_filter = ["status", "about_carrier"]
    search_fields = ["key", "citation", "doi", "pmid"]


@admin.register(Indication, Nutrient)
class VocabularyAdmin(FormularyAdmin):
    list_display = ["slug", "name_nl", "name_en"]
    search_fields = ["slug", "name_nl", "name_en"]


@admin.register(Medication)
class MedicationAdmin(FormularyAdmin):
    list_display = ["slug", "kind", "parent", "name_nl", "name_en", "atc_code"]
    list_filter = ["kind"]
    list_select_related = ["parent"]
    search_fields = ["slug", "name_nl", "name_en", "atc_code"]
    autocomplete_fields = ["parent"]
    inlines = [MedicationCitationInline]

    def get_search_results(self, request, queryset, search_term):
        # As the API's search: names and brand names, forgiving case and accents.
        found, distinct = super().get_search_results(request, queryset, search_term)
        if search_term:
            found |= queryset.filter(search_text__contains=fold(search_term))
        return found, distinct


@admin.register(ReferenceIntake)
class ReferenceIntakeAdmin(FormularyAdmin):
    list_display = [
        "jurisdiction",
        "kind",
        "sex",
        "life_stage",
        "age_from_months",
        "age_to_months",
        "amount_mg",
        "status",
    ]
    list_filter = ["jurisdiction", "kind", "life_stage", "status"]
    inlines = [ReferenceIntakeCitationInline]


class NotedVocabularyAdmin(FormularyAdmin):
    list_display = ["slug", "name_nl", "name_en", "status"]
    list_filter = ["status"]
    search_fields = ["slug", "name_nl", "name_en"]
    filter_horizontal = ["indications"]


@admin.register(RiskGroup)
class RiskGroupAdmin(NotedVocabularyAdmin):
    list_display = [*NotedVocabularyAdmin.list_display, "support"]
    list_filter = ["status", "support"]
    inlines = [RiskGroupCitationInline]


@admin.register(DeficiencySign)
class DeficiencySignAdmin(NotedVocabularyAdmin):
    list_display = [*NotedVocabularyAdmin.list_display, "kind"]
    list_filter = ["status", "kind"]
    inlines = [DeficiencySignCitationInline]


@admin.display(description=_("age band"), ordering="age_from_months")
def age_band(obj) -> str:
    return age_band_text(obj.age_from_months, obj.age_to_months)


@admin.register(Population)
class PopulationAdmin(FormularyAdmin):
    """The populations a check can be made for; an intake or limit row serves a population when
    its life stage is the population's and its age band meets the population's."""

    list_display = ["slug", "name_nl", "name_en", "life_stage", age_band, "is_default"]
    list_filter = ["life_stage", "is_default"]
    search_fields = ["slug", "name_nl", "name_en"]
    fields = [
        "slug",
        ("name_nl", "name_en"),
        "life_stage",
        ("age_from_months", "age_to_months"),
        "is_default",
    ]


@admin.register(NutrientUpperLimit)
class NutrientUpperLimitAdmin(FormularyAdmin):
    """Upper limits of the nutrients other than magnesium (magnesium's are reference intakes)."""

    list_display = [
        "nutrient",
        "jurisdiction",
        "life_stage",
        age_band,
        "amount_a_day",
        "status",
    ]
    list_filter = ["nutrient", "jurisdiction", "life_stage", "status"]
    list_select_related = ["nutrient"]
    search_fields = ["nutrient__slug", "nutrient__name_nl", "nutrient__name_en"]
    autocomplete_fields = ["nutrient"]
    fields = [
        "nutrient",
        "jurisdiction",
        "life_stage",
        ("age_from_months", "age_to_months"),
        "amount",
        "status",
        "note_nl",
        "note_en",
    ]
    inlines = [NutrientUpperLimitCitationInline]

    @admin.display(description=_("amount a day"), ordering="amount")
    def amount_a_day(self, obj) -> str:
        return f"{number_text(obj.amount)} {obj.nutrient.get_unit_display()}"


@admin.register(Caution)
class CautionAdmin(FormularyAdmin):
    """Conditions of the person under which magnesium needs caution (renal=severe)."""

    list_display = ["slug", "name_nl", "name_en", "status"]
    list_filter = ["status"]
    search_fields = ["slug", "name_nl", "name_en", "advice_nl", "advice_en"]
    inlines = [CautionCitationInline]


def localized_name(obj) -> str:
    """The Dutch or English name of a vocabulary row, following the active language."""
    return localized(obj, "name")
