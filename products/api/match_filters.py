import django_filters

from compounds.filters import known_slugs
from compounds.medications import known_medications
from formulary.common.api_fields import BoundedDecimalFilter, SlugListFilter, StrictBooleanFilter
from formulary.enums import Jurisdiction
from formulary.models import Indication
from products.api.filters import MAX_DAILY_MG, ONE, UNUSED, ProductFilter, population_filter
from products.matching import weights as match_weights
from products.selectors import with_ingredient


class MatchFilter(ProductFilter):
    """The catalogue's filters plus what matching asks; ranking replaces ``ordering``."""

    indication = SlugListFilter(
        method="filter_indication",
        known=known_slugs(Indication),
        kind="indication",
        required=True,
        help_text="The indications to match (required). Comma-separated or repeated; a "
        "product matches when a compound is linked to any of them (all of them with "
        "indication_match=all), and covering more of them scores higher.",
    )
    medication = SlugListFilter(
        method="filter_nothing",
        known=known_medications,
        kind="medication",
        help_text="Medications the person takes, by slug, name (Dutch or English) or brand: "
        "each result warns about spacing, monitoring or caution with them.",
    )
    jurisdiction = django_filters.ChoiceFilter(
        method="filter_nothing",
        choices=Jurisdiction.choices,
        empty_label=None,
        help_text="Whose supplemental upper limit the headroom and warnings use (default eu).",
    )
    population = population_filter()
    renal = django_filters.ChoiceFilter(
        method="filter_nothing",
        choices=[("severe", "severe")],
        empty_label=None,
        help_text="severe: the person has severe renal impairment (eGFR below 30 mL/min); "
        "every result carries the sourced renal_impairment warning.",
    )
    max_daily_elemental_mg = BoundedDecimalFilter(
        field_name="elemental_mg_per_day",
        lookup_expr="lte",
        minimum=0,
        maximum=MAX_DAILY_MG,
        help_text="At most this much elemental magnesium per day, mg.",
    )
    exclude_laxative = StrictBooleanFilter(
        method="filter_exclude_laxative",
        help_text="true: leave out products with a form used as an osmotic laxative "
        "(high laxative tendency: oxide, hydroxide, sulfate).",
    )
    ordering = None
    # The catalogue's counts; the ranking answers pages only.
    facets = None
    count = None

    # The medications and the renal option only change the explanations.
    statement_parameters = {
        **ProductFilter.statement_parameters,
        "max_daily_elemental_mg": ONE,
        "medication": UNUSED,
        "renal": UNUSED,
    }

    def statement_binding(self, name: str):
        # With "any" the ranking's own join to the match rows selects the indications.
        if name == "indication" and self.form.cleaned_data.get("indication_match") != "all":
            return UNUSED
        return super().statement_binding(name)

    def filter_indication(self, queryset, name, slugs):
        # "any" is the ranking's own join to the match rows; only "all" narrows further.
        if self.form.cleaned_data.get("indication_match") == "all":
            return super().filter_indication(queryset, name, slugs)
        return queryset

    def filter_exclude_laxative(self, queryset, name, exclude):
        if not exclude:
            return queryset
        return queryset.exclude(
            with_ingredient(compound__laxative_tendency__in=match_weights.LAXATIVE_FORMS)
        )
