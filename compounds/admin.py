from django.contrib import admin

from compounds.models import (
    Carrier,
    CarrierEffect,
    CompoundForm,
    CompoundIndication,
    InteractionRule,
)

DERIVED_CHEMISTRY = [
    "hydrate",
    "water_of_hydration",
    "molar_mass_g_mol",
    "magnesium_atoms",
    "elemental_magnesium_percent",
]


class CarrierEffectInline(admin.StackedInline):
    model = CarrierEffect
    extra = 0
    filter_horizontal = ["indications"]


@admin.register(Carrier)
class CarrierAdmin(admin.ModelAdmin):
    list_display = ["slug", "name_nl", "name_en"]
    search_fields = ["slug", "name_nl", "name_en"]
    inlines = [CarrierEffectInline]


@admin.register(CompoundForm)
class CompoundFormAdmin(admin.ModelAdmin):
    list_display = [
        "slug",
        "formula",
        "hydrate",
        "elemental_magnesium_percent",
        "classification",
        "solubility_term",
        "laxative_tendency",
    ]
    list_filter = ["classification", "laxative_tendency", "needs_stomach_acid", "carrier"]
    search_fields = ["slug", "name_nl", "name_en", "formula"]
    readonly_fields = DERIVED_CHEMISTRY


@admin.register(CompoundIndication)
class CompoundIndicationAdmin(admin.ModelAdmin):
    list_display = ["compound", "indication", "grade", "basis", "status"]
    list_filter = ["indication", "grade", "basis", "status"]


@admin.register(InteractionRule)
class InteractionRuleAdmin(admin.ModelAdmin):
    list_display = [
        "medication",
        "mechanism",
        "drug_before_mg_hours",
        "drug_after_mg_hours",
        "severity",
        "status",
    ]
    list_filter = ["mechanism", "severity", "status"]
    filter_horizontal = ["compounds"]
