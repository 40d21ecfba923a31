import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q
from rest_framework.exceptions import ErrorDetail, ValidationError

from compounds.enums import Classification
from compounds.filters import known_choices, known_slugs
from compounds.models import Carrier, CompoundForm, CompoundIndication
from formulary.common.api_fields import (
    BoundedDecimalFilter,
    LeanFilterSet,
    SlugListField,
    SlugListFilter,
    StrictBooleanFilter,
)
from formulary.enums import ClaimNutrient, Jurisdiction, SignKind
from formulary.models import DeficiencySign, HealthClaim, Indication, Population, RiskGroup
from products import claims
from products.enums import DosageForm
from products.facets import FACETS
from products.knowledge import knowledge, population_knowledge
from products.models import Brand, Product
from products.populations import no_limit_text, population_for
from products.selectors import (
    indication_pattern,
    with_indication,
    with_ingredient,
    with_source_of_magnesium,
    with_source_of_nutrient,
)

MAX_DAILY_MG = 100_000
# How a filter's value takes a compiled statement's parameters (ProductFilter below).
ONE = "one"
EACH = "each"
# A filter that leaves the query as it is (an option the answer's text reads, not a filter):
# a compiled statement neither binds nor keys it.
UNUSED = "unused"


class OneSlugField(SlugListField):
    """One known slug (``population=child-4-8``); several are refused, not silently cut."""

    def clean(self, value):
        slugs = super().clean(value)
        if len(slugs) > 1:
            raise forms.ValidationError(
                "Give one %(kind)s, not several.", code="one_value", params={"kind": self.kind}
            )
        return slugs[0] if slugs else None


class OneSlugFilter(SlugListFilter):
    field_class = OneSlugField


def population_filter() -> OneSlugFilter:
    return OneSlugFilter(
        method="filter_nothing",
        known=known_slugs(Population),
        kind="population",
        help_text="Whose limits apply: adult (the default), child-1-3, child-4-8, child-9-13, "
        "child-14-17, pregnancy or lactation (see the README). A jurisdiction that sets no "
        "limit for the population says so; no other limit is borrowed.",
    )


def linked_through_terms(relation: str, slugs, **term_filter):
    """Compounds with evidence for an indication that the symptoms or risk groups link to."""
    terms = {f"indication__{relation}__{field}": value for field, value in term_filter.items()}
    return CompoundForm.objects.filter(
        Exists(
            CompoundIndication.objects.filter(
                compound=OuterRef("pk"), **{f"indication__{relation}__slug__in": slugs}, **terms
            )
        )
    )


class ProductFilter(LeanFilterSet):
    indication = SlugListFilter(
        method="filter_indication",
        known=known_slugs(Indication),
        kind="indication",
        help_text="Products with a compound linked to these indications (any of them, or all "
        "with indication_match=all). Comma-separated or repeated.",
    )
    indication_match = django_filters.ChoiceFilter(
        method="filter_nothing",
        choices=[("any", "any"), ("all", "all")],
        empty_label=None,
        help_text="any (default): one of the indications; all: every one of them.",
    )
    compound = SlugListFilter(
        method="filter_compound",
        known=known_slugs(CompoundForm),
        kind="compound",
    )
    classification = SlugListFilter(
        method="filter_classification",
        known=known_choices(Classification),
        kind="classification",
    )
    carrier = SlugListFilter(method="filter_carrier", known=known_slugs(Carrier), kind="carrier")
    dosage_form = SlugListFilter(known=known_choices(DosageForm), kind="dosage form")
    brand = SlugListFilter(field_name="brand__slug", known=known_slugs(Brand), kind="brand")
    min_elemental_mg = BoundedDecimalFilter(
        field_name="elemental_mg_per_day",
        lookup_expr="gte",
        minimum=0,
        maximum=MAX_DAILY_MG,
        help_text="Minimum elemental magnesium per day, mg.",
    )
    max_elemental_mg = BoundedDecimalFilter(
        field_name="elemental_mg_per_day",
        lookup_expr="lte",
        minimum=0,
        maximum=MAX_DAILY_MG,
        help_text="Maximum elemental magnesium per day, mg.",
    )
    within_upper_limit = django_filters.ChoiceFilter(
        method="filter_within_upper_limit",
        choices=Jurisdiction.choices,
        help_text="Only products whose daily amount stays within this supplemental upper "
        "limit of the population (adults: eu 250 mg, us 350 mg); a 400 when the jurisdiction "
        "sets none for the population.",
    )
    population = population_filter()
    symptom = SlugListFilter(
        method="filter_symptom",
        known=known_slugs(DeficiencySign),
        kind="symptom",
        help_text="Products with a compound linked to an indication of these symptoms "
        "(see /symptoms/; a symptom list is not a diagnosis).",
    )
    risk_group = SlugListFilter(
        method="filter_risk_group",
        known=known_slugs(RiskGroup),
        kind="risk group",
        help_text="Products with a compound linked to an indication of these risk groups.",
    )
    claim = SlugListFilter(
        method="filter_claim",
        known=known_slugs(HealthClaim),
        kind="health claim",
        help_text="Products that may carry these EU-authorised health claims (all of them): "
        "at least a source of each claim's nutrient per daily dose. Comma-separated or "
        "repeated. Claims are law, not evidence: see indication for evidence.",
    )
    vegan = StrictBooleanFilter()
    gluten_free = StrictBooleanFilter()
    lactose_free = StrictBooleanFilter()
    search = django_filters.CharFilter(
        method="filter_search",
        max_length=100,
        help_text="Part of the name, brand, GTIN or the Dutch or English name of a compound.",
    )
    ordering = django_filters.OrderingFilter(
        fields=(
            ("name", "name"),
            ("brand__name", "brand"),
            ("elemental_mg_per_day", "elemental_mg_per_day"),
            ("price_eur", "price"),
        ),
    )

    facets = SlugListFilter(
        method="filter_nothing",
        known=lambda names: [name for name in names if name in FACETS],
        kind="facet",
        help_text="Count the products per value of these filters, each under all the other "
        f"filters but its own: {', '.join(FACETS)}. Comma-separated or repeated.",
    )
    count = StrictBooleanFilter(
        method="filter_nothing", help_text="true: add the number of products the filters give."
    )

    class Meta:
        model = Product
        fields = []

    # The filters whose values the list's compiled statement (products.api.list_statement)
    # takes as parameters, so one statement serves every value: ONE binds the value, EACH
    # every item of a list, a pair names the method that gives the parameters and the one that
    # filters by them. Any other filter shapes the statement by its value (an ordering, a
    # boolean, a claim or jurisdiction whose threshold the SQL holds); these never compile:
    # a search's patterns are made from its text.
    statement_parameters = {
        "indication": ("indication_patterns", "filter_indication_patterns"),
        "compound": EACH,
        "classification": EACH,
        "carrier": EACH,
        "dosage_form": EACH,
        "brand": EACH,
        "symptom": EACH,
        "risk_group": EACH,
        "min_elemental_mg": ONE,
        "max_elemental_mg": ONE,
    }
    never_compiled = frozenset({"search"})

    def statement_binding(self, name: str):
        """How the filter ``name`` enters a compiled statement: one of ``statement_parameters``,
        or None when its value shapes the statement."""
        return self.statement_parameters.get(name)

    def filter_nothing(self, queryset, name, value):
        return queryset

    def indication_patterns(self, slugs) -> list[str]:
        return [indication_pattern(knowledge().indication_ids[slug]) for slug in slugs]

    def filter_indication(self, queryset, name, slugs):
        return self.filter_indication_patterns(queryset, name, self.indication_patterns(slugs))

    def filter_indication_patterns(self, queryset, name, patterns):
        if self.form.cleaned_data.get("indication_match") == "all":
            for pattern in patterns:
                queryset = queryset.filter(with_indication([pattern]))
            return queryset
        return queryset.filter(with_indication(patterns))

    def filter_compound(self, queryset, name, slugs):
        return queryset.filter(with_ingredient(compound__slug__in=slugs))

    def filter_classification(self, queryset, name, values):
        return queryset.filter(with_ingredient(compound__classification__in=values))

    def filter_carrier(self, queryset, name, slugs):
        return queryset.filter(with_ingredient(compound__carrier__slug__in=slugs))

    def filter_within_upper_limit(self, queryset, name, jurisdiction):
        data = population_knowledge()
        population = population_for(data, self.form.cleaned_data.get("population"))
        row = data.population_limits[population.slug, jurisdiction]
        if row is None:
            raise ValidationError(
                {
                    name: [
                        ErrorDetail(no_limit_text(population, jurisdiction), code="no_upper_limit")
                    ]
                }
            )
        limit = row.amount_mg
        return queryset if limit is None else queryset.filter(elemental_mg_per_day__lte=limit)

    def filter_symptom(self, queryset, name, slugs):
        return queryset.filter(
            # Only signs: a condition merely associated with low magnesium (cardiovascular
            # disease) is not a symptom and must not select products as if it were one.
            with_ingredient(
                compound__in=linked_through_terms("deficiency_signs", slugs, kind=SignKind.SIGN)
            )
        )

    def filter_risk_group(self, queryset, name, slugs):
        return queryset.filter(
            with_ingredient(compound__in=linked_through_terms("risk_groups", slugs))
        )

    def filter_claim(self, queryset, name, slugs):
        data = knowledge()
        nutrient_of = {
            claim.slug: nutrient
            for nutrient, rule in data.source_of_rules.items()
            for claim in rule.claims
        }
        nutrient_ids = {facts["slug"]: (pk, facts["unit"]) for pk, facts in data.nutrients.items()}
        for nutrient in sorted({nutrient_of[slug] for slug in slugs}):
            minimum_mg = data.source_of_rules[nutrient].threshold.minimum_mg
            if nutrient == ClaimNutrient.MAGNESIUM:
                queryset = queryset.filter(with_source_of_magnesium(minimum_mg))
            else:
                nutrient_id, unit = nutrient_ids[nutrient]
                queryset = queryset.filter(
                    with_source_of_nutrient(nutrient_id, claims.minimum_in_unit(minimum_mg, unit))
                )
        return queryset

    def filter_search(self, queryset, name, text):
        # The brand as a subquery, not a join, so each condition can use its own index.
        brands = Brand.objects.filter(name__icontains=text)
        # Product names are Dutch; the compound's names find them in either language.
        compounds = CompoundForm.objects.filter(
            Q(name_nl__icontains=text) | Q(name_en__icontains=text) | Q(slug__icontains=text)
        )
        return queryset.filter(
            Q(name__icontains=text)
            | Q(brand__in=brands)
            | Q(gtin__startswith=text)
            | with_ingredient(compound__in=compounds)
        )
