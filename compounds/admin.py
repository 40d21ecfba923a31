from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from django import forms
from django.contrib import admin
from django.db import models
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from compounds.models import (
    Carrier,
    CarrierEffect,
    CarrierEffectCitation,
    CompoundCitation,
    CompoundForm,
    CompoundIndication,
    EvidenceCitation,
    InteractionRule,
    InteractionRuleCitation,
    SupplementRule,
    SupplementRuleCitation,
)
from formulary.admin import (
    CitationInline,
    FormularyAdmin,
    FormularyStackedInline,
    localized_name,
)
from formulary.common.localized_numbers import number_text
from formulary.common.numbers import decimal_display

DERIVED_CHEMISTRY = [
    "hydrate",
    "water_of_hydration",
    "molar_mass_g_mol",
    "magnesium_atoms",
    "elemental_magnesium_percent",
]


class CompoundCitationInline(CitationInline):
    model = CompoundCitation


class CarrierEffectCitationInline(CitationInline):
    model = CarrierEffectCitation


class EvidenceCitationInline(CitationInline):
    model = EvidenceCitation


class InteractionRuleCitationInline(CitationInline):
    model = InteractionRuleCitation


class SupplementRuleCitationInline(CitationInline):
    model = SupplementRuleCitation
    # What the source states, in a box that leaves the row within a laptop's screen.
    formfield_overrides = {
        models.TextField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 50})}
    }


class CarrierEffectInline(FormularyStackedInline):
    model = CarrierEffect
    extra = 0
    filter_horizontal = ["indications"]
    # Citations sit one level deeper than an inline can go: they are edited on the effect's page.
    show_change_link = True


class EvidenceInline(FormularyStackedInline):
    model = CompoundIndication
    fk_name = "compound"
    extra = 0
    autocomplete_fields = ["indication"]
    fields = [("indication", "grade", "basis", "status"), "rationale_nl", "rationale_en"]
    show_change_link = True
    verbose_name = _("evidence link")
    verbose_name_plural = _("evidence links (the indications this compound fits)")


@admin.register(Carrier)
class CarrierAdmin(FormularyAdmin):
    list_display = ["slug", "name_nl", "name_en"]
    search_fields = ["slug", "name_nl", "name_en"]
    inlines = [CarrierEffectInline]


@admin.register(CarrierEffect)
class CarrierEffectAdmin(FormularyAdmin):
    list_display = ["__str__", "carrier", "status"]
    list_filter = ["status", "carrier", "indications"]
    list_select_related = ["carrier"]
    search_fields = ["text_nl", "text_en", "carrier__name_en", "carrier__name_nl"]
    autocomplete_fields = ["carrier"]
    filter_horizontal = ["indications"]
    inlines = [CarrierEffectCitationInline]


# Pixel geometry of the compound chart: a name column, then two panels of bars.
CHART_NAME_WIDTH = 320
CHART_NAME_CHARACTERS = 48  # what fits the name column at 12 px; the full name is in <title>
CHART_PANEL_WIDTH = 200
CHART_VALUE_WIDTH = 80
CHART_ROW_HEIGHT = 20
CHART_TOP = 44
ELEMENTAL_X = CHART_NAME_WIDTH
SOLUBILITY_X = ELEMENTAL_X + CHART_PANEL_WIDTH + CHART_VALUE_WIDTH + 20


def plain_number(value: Decimal) -> str:
    """``value`` without trailing zeros or exponent, in the active language's notation."""
    return number_format(Decimal(format(value.normalize(), "f")))


@dataclass(frozen=True)
class CompoundChartRow:
    name: str
    short_name: str
    url: str
    y: str
    text_y: str
    elemental_width: str
    elemental_label: str
    solubility_width: str | None
    solubility_label: str


@dataclass(frozen=True)
class ChartTick:
    x: str
    label: str


@dataclass(frozen=True)
class CompoundChart:
    rows: list[CompoundChartRow]
    width: int
    height: int
    elemental_x: int
    solubility_x: int
    panel_width: int
    value_x: int
    solubility_value_x: int
    bar_height: int
    ticks: list[ChartTick]
    axis_y: str


def solubility_decades(values: list[Decimal]) -> tuple[int, int]:
    """The powers of ten that bound the positive solubilities, at least 10^-3 .. 10^3 g/L."""
    logs = [value.log10() for value in values if value > 0]
    low = min([Decimal(-3), *logs]).to_integral_value(rounding=ROUND_FLOOR)
    high = max([Decimal(3), *logs]).to_integral_value(rounding=ROUND_CEILING)
    return int(low), int(high)


def compound_chart(compounds) -> CompoundChart | None:
    """Bars of elemental Mg % (linear) and solubility in g/L (log scale: it spans 10^5)."""
    compounds = list(compounds)
    if not compounds:
        return None
    percent_top = max(c.elemental_magnesium_percent for c in compounds)
    # A round top for the percent axis, so the bars compare with each other and with 100 %.
    percent_top = max(Decimal(10), (percent_top / 10).to_integral_value(ROUND_CEILING) * 10)
    low, high = solubility_decades(
        [c.solubility_g_per_l for c in compounds if c.solubility_g_per_l is not None]
    )
    decades = Decimal(high - low)
    rows = []
    for index, compound in enumerate(compounds):
        y = CHART_TOP + index * CHART_ROW_HEIGHT
        solubility = compound.solubility_g_per_l
        if solubility is None:
            solubility_width, solubility_label = None, str(_("not given"))
        else:
            share = (solubility.log10() - low) / decades if solubility > 0 else Decimal(0)
            solubility_width = f"{max(share, Decimal(0)) * CHART_PANEL_WIDTH:.1f}"
            solubility_label = f"{plain_number(solubility)} g/L"
        percent = compound.elemental_magnesium_percent
        name = localized_name(compound)
        rows.append(
            CompoundChartRow(
                name=name,
                short_name=Truncator(name).chars(CHART_NAME_CHARACTERS),
                url=reverse("admin:compounds_compoundform_change", args=[compound.pk]),
                y=f"{y + 3}",
                text_y=f"{y + 14}",
                elemental_width=f"{percent / percent_top * CHART_PANEL_WIDTH:.1f}",
                elemental_label=f"{decimal_display(percent)} %",
                solubility_width=solubility_width,
                solubility_label=solubility_label,
            )
        )
    ticks = [
        ChartTick(
            x=f"{SOLUBILITY_X + (power - low) / (high - low) * CHART_PANEL_WIDTH:.1f}",
            label=plain_number(Decimal(10) ** power),
        )
        for power in range(low, high + 1, 2 if high - low > 6 else 1)
    ]
    height = CHART_TOP + len(rows) * CHART_ROW_HEIGHT + 8
    return CompoundChart(
        rows=rows,
        width=SOLUBILITY_X + CHART_PANEL_WIDTH + CHART_VALUE_WIDTH,
        height=height,
        elemental_x=ELEMENTAL_X,
        solubility_x=SOLUBILITY_X,
        panel_width=CHART_PANEL_WIDTH,
        value_x=ELEMENTAL_X + CHART_PANEL_WIDTH + 6,
        solubility_value_x=SOLUBILITY_X + CHART_PANEL_WIDTH + 6,
        bar_height=CHART_ROW_HEIGHT - 6,
        ticks=ticks,
        axis_y=f"{CHART_TOP - 4}",
    )


@admin.register(CompoundForm)
class CompoundFormAdmin(FormularyAdmin):
    list_display = [
        "slug",
        "formula",
        "hydrate",
        "elemental_magnesium_percent",
        "solubility_g_per_l",
        "classification",
        "carrier",
        "solubility_term",
        "laxative_tendency",
    ]
    list_filter = [
        "classification",
        "laxative_tendency",
        "needs_stomach_acid",
        "chemistry_status",
        "solubility_status",
        "carrier",
    ]
    list_select_related = ["carrier"]
    search_fields = ["slug", "name_nl", "name_en", "formula"]
    autocomplete_fields = ["carrier"]
    readonly_fields = DERIVED_CHEMISTRY
    fieldsets = [
        (None, {"fields": ["slug", ("name_nl", "name_en"), "classification", "carrier"]}),
        (
            _("Chemistry"),
            {
                "description": _(
                    "Type the formula with its hydrate; the values below are derived from it "
                    "when you save."
                ),
                "fields": [
                    "formula",
                    "formula_note",
                    "hydrate_note",
                    "chemistry_status",
                    *DERIVED_CHEMISTRY,
                ],
            },
        ),
        (
            _("Solubility"),
            {
                "fields": [
                    "solubility_term",
                    "solubility_g_per_l",
                    "solubility_source_text",
                    "solubility_status",
                ]
            },
        ),
        (
            _("Stomach acid and laxative tendency"),
            {
                "fields": [
                    ("needs_stomach_acid", "stomach_acid_status"),
                    ("laxative_tendency", "laxative_status"),
                ]
            },
        ),
        (
            _("Bioavailability and uses"),
            {
                "fields": [
                    "bioavailability_notes_nl",
                    "bioavailability_notes_en",
                    "bioavailability_status",
                    "typical_uses_nl",
                    "typical_uses_en",
                ]
            },
        ),
        (
            _("Intake"),
            {
                "fields": [
                    ("time_of_day", "food_relation"),
                    "default_spacing_hours",
                    "intake_note_nl",
                    "intake_note_en",
                    "intake_status",
                ]
            },
        ),
        (_("Sources"), {"fields": ["sources_note"]}),
    ]
    inlines = [CompoundCitationInline, EvidenceInline]

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None)
        if context and "cl" in context:
            # The rows already fetched for the page: the chart follows the filters for free.
            context["compound_chart"] = compound_chart(context["cl"].result_list)
        return response


@admin.register(CompoundIndication)
class CompoundIndicationAdmin(FormularyAdmin):
    list_display = ["compound", "indication", "grade", "basis", "status"]
    list_filter = ["indication", "grade", "basis", "status", "compound__classification"]
    list_select_related = ["compound", "indication"]
    search_fields = [
        "compound__slug",
        "compound__name_en",
        "compound__name_nl",
        "indication__slug",
        "indication__name_en",
        "indication__name_nl",
    ]
    autocomplete_fields = ["compound", "indication"]
    inlines = [EvidenceCitationInline]


@admin.register(InteractionRule)
class InteractionRuleAdmin(FormularyAdmin):
    list_display = [
        "medication",
        "mechanism",
        "drug_before_mg_hours",
        "drug_after_mg_hours",
        "severity",
        "check_label",
        "status",
    ]
    list_filter = ["mechanism", "severity", "status", "check_label", "medication"]
    list_select_related = ["medication"]
    search_fields = ["medication__slug", "medication__name_en", "medication__name_nl"]
    autocomplete_fields = ["medication"]
    filter_horizontal = ["compounds"]
    inlines = [InteractionRuleCitationInline]


@admin.register(SupplementRule)
class SupplementRuleAdmin(FormularyAdmin):
    """How magnesium and another supplement's nutrient interact, with directional spacing."""

    list_display = ["nutrient", "mechanism", "window", "from_amount", "check_label", "status"]
    list_filter = ["mechanism", "status", "check_label", "nutrient"]
    list_select_related = ["nutrient"]
    search_fields = ["nutrient__slug", "nutrient__name_en", "nutrient__name_nl"]
    autocomplete_fields = ["nutrient"]
    fields = [
        ("nutrient", "mechanism"),
        ("supplement_before_mg_hours", "supplement_after_mg_hours"),
        "minimum_daily_amount",
        "check_label",
        "advice_nl",
        "advice_en",
        "status",
    ]
    inlines = [SupplementRuleCitationInline]

    @admin.display(description=_("hours before / after magnesium"))
    def window(self, obj) -> str:
        hours = (obj.supplement_before_mg_hours, obj.supplement_after_mg_hours)
        if hours == (None, None):
            return "-"
        return " / ".join("-" if h is None else number_text(h) for h in hours)

    @admin.display(description=_("from a daily amount of"), ordering="minimum_daily_amount")
    def from_amount(self, obj) -> str:
        if obj.minimum_daily_amount is None:
            return "-"
        return f"{number_text(obj.minimum_daily_amount)} {obj.nutrient.get_unit_display()}"
