from django.contrib import admin

from formulary.models import (
    DeficiencySign,
    Indication,
    Medication,
    Nutrient,
    Reference,
    ReferenceIntake,
    RiskGroup,
)


@admin.register(Reference)
class ReferenceAdmin(admin.ModelAdmin):
    list_display = ["key", "status", "doi", "pmid", "about_carrier"]
    list_filter = ["status", "about_carrier"]
    search_fields = ["key", "citation", "doi", "pmid"]


@admin.register(Indication, Medication, Nutrient)
class VocabularyAdmin(admin.ModelAdmin):
    list_display = ["slug", "name_nl", "name_en"]
    search_fields = ["slug", "name_nl", "name_en"]


@admin.register(ReferenceIntake)
class ReferenceIntakeAdmin(admin.ModelAdmin):
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
    list_filter = ["jurisdiction", "kind", "status"]


@admin.register(RiskGroup, DeficiencySign)
class NotedVocabularyAdmin(admin.ModelAdmin):
    list_display = ["slug", "name_nl", "name_en", "status"]
    list_filter = ["status"]
    filter_horizontal = ["indications"]
