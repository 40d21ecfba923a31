from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from formulary.common.localization import localized
from formulary.common.search import fold
from formulary.models import (
    DeficiencySign,
    DeficiencySignCitation,
    HealthClaim,
    HealthClaimCitation,
    Indication,
    Medication,
    MedicationCitation,
    Nutrient,
    Reference,
    ReferenceIntake,
    ReferenceIntakeCitation,
    RiskGroup,
    RiskGroupCitation,
    SourceOfRule,
    SourceOfRuleCitation,
)


class CitationInline(admin.TabularInline):
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


@admin.register(SourceOfRule)
class SourceOfRuleAdmin(SimpleHistoryAdmin):
    """The condition of the claims; its threshold in mg is computed, so it is not a field."""

    list_display = ["nutrient", "nrv_mg", "minimum_percent_of_nrv", "basis", "basis_status"]
    inlines = [SourceOfRuleCitationInline]


@admin.register(HealthClaim)
class HealthClaimAdmin(SimpleHistoryAdmin):
    """Authorised claim wordings: law about a nutrient, not evidence about a compound."""

    list_display = ["slug", "rule", "text_nl", "text_nl_status", "text_en_status"]
    list_filter = ["rule__nutrient", "text_nl_status", "text_en_status"]
    search_fields = ["slug", "text_nl", "text_en", "efsa_ids"]
    inlines = [HealthClaimCitationInline]


@admin.register(Reference)
class ReferenceAdmin(SimpleHistoryAdmin):
    list_display = ["key", "status", "doi", "pmid", "about_carrier"]
    list_filter = ["status", "about_carrier"]
    search_fields = ["key", "citation", "doi", "pmid"]


@admin.register(Indication, Nutrient)
class VocabularyAdmin(SimpleHistoryAdmin):
    list_display = ["slug", "name_nl", "name_en"]
    search_fields = ["slug", "name_nl", "name_en"]


@admin.register(Medication)
class MedicationAdmin(SimpleHistoryAdmin):
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
class ReferenceIntakeAdmin(SimpleHistoryAdmin):
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


class NotedVocabularyAdmin(SimpleHistoryAdmin):
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


def localized_name(obj) -> str:
    """The Dutch or English name of a vocabulary row, following the active language."""
    return localized(obj, "name")
