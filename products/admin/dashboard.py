"""The state of the catalogue for the admin index: a handful of aggregate queries, drawn as bars.

Each number links to the admin list that shows the same rows: the counts use the conditions of
``products.admin.queries`` that the list filters use too.
"""

from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import urlencode

from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext as _

from compounds.models import (
    FACT_STATUS_FIELDS,
    CompoundForm,
    CompoundIndication,
    InteractionRule,
)
from formulary.admin import localized_name
from formulary.common.numbers import decimal_display
from formulary.enums import VerificationStatus
from formulary.models import Indication, Reference
from formulary.selectors import adult_upper_limits_mg
from products.admin import queries as admin_queries
from products.enums import ProductStatus
from products.models import Product

OPEN_STATUSES = [VerificationStatus.UNVERIFIED, VerificationStatus.DISPUTED]

# Pixel geometry shared by the dashboard's bar charts, drawn 1:1 in the index's 600 px column.
CHART_WIDTH = 600
BAR_WIDTH = 160
MIN_BAR_WIDTH = 100
ROW_HEIGHT = 24
BAR_HEIGHT = 16
GAP = 8
# The label and value columns are as wide as their longest text, so a Dutch label is not cut
# off: 7 px a character at the charts' 11.5 px font (the admin's system fonts average about
# 0.6 em). A chart wider than its column is scaled down whole (the svg is 100 % wide).
CHAR_WIDTH = 7


# ---- the numbers --------------------------------------------------------------------------


@dataclass(frozen=True)
class ProductNumbers:
    total: int
    by_status: dict[str, int]
    upper_limits_mg: dict[str, Decimal]
    over_upper_limit: dict[str, int]
    label_mismatch: int


@dataclass(frozen=True)
class IndicationNumbers:
    slug: str
    name: str
    published: int
    draft: int


@dataclass(frozen=True)
class OpenFacts:
    """How many facts of one kind are still unverified or disputed, out of ``total``."""

    key: str
    unverified: int
    disputed: int
    total: int


def product_numbers() -> ProductNumbers:
    limits = adult_upper_limits_mg()
    aggregates = {
        "total": Count("pk"),
        "label_mismatch": Count("pk", filter=admin_queries.label_mismatch()),
    }
    for status in ProductStatus.values:
        aggregates[f"status_{status}"] = Count("pk", filter=Q(status=status))
    for jurisdiction, limit in limits.items():
        aggregates[f"over_{jurisdiction}"] = Count(
            "pk", filter=admin_queries.over_upper_limit(limit)
        )
    row = Product.objects.aggregate(**aggregates)
    return ProductNumbers(
        total=row["total"],
        by_status={status: row[f"status_{status}"] for status in ProductStatus.values},
        upper_limits_mg=limits,
        over_upper_limit={jurisdiction: row[f"over_{jurisdiction}"] for jurisdiction in limits},
        label_mismatch=row["label_mismatch"],
    )


def indication_numbers() -> list[IndicationNumbers]:
    """Published and draft products per indication their compounds have evidence for."""
    product = "evidence__compound__ingredient_lines__product"

    def products_with_status(status):
        # Counting distinct products: one product may reach an indication through two lines.
        return Count(product, filter=Q(**{f"{product}__status": status}), distinct=True)

    rows = Indication.objects.annotate(
        published=products_with_status(ProductStatus.PUBLISHED),
        draft=products_with_status(ProductStatus.DRAFT),
    ).order_by("slug")
    return [
        IndicationNumbers(
            slug=row.slug, name=localized_name(row), published=row.published, draft=row.draft
        )
        for row in rows
    ]


def status_counts(queryset, key: str) -> OpenFacts:
    row = queryset.aggregate(
        total=Count("pk"),
        unverified=Count("pk", filter=Q(status=VerificationStatus.UNVERIFIED)),
        disputed=Count("pk", filter=Q(status=VerificationStatus.DISPUTED)),
    )
    return OpenFacts(key=key, **row)


def compound_fact_counts() -> OpenFacts:
    """Fact groups (chemistry, solubility, ...) of all compound forms, each counted once."""
    aggregates = {"compounds": Count("pk")}
    for name in FACT_STATUS_FIELDS:
        for status in OPEN_STATUSES:
            aggregates[f"{name}_{status}"] = Count("pk", filter=Q(**{name: status}))
    row = CompoundForm.objects.aggregate(**aggregates)
    return OpenFacts(
        key="compound_facts",
        unverified=sum(row[f"{name}_unverified"] for name in FACT_STATUS_FIELDS),
        disputed=sum(row[f"{name}_disputed"] for name in FACT_STATUS_FIELDS),
        total=row["compounds"] * len(FACT_STATUS_FIELDS),
    )


# ---- the bars -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    css_class: str
    x: str
    width: str


@dataclass(frozen=True)
class BarRow:
    label: str
    url: str
    title: str
    value_label: str
    y: str
    text_y: str
    segments: list[Segment]


@dataclass(frozen=True)
class BarChart:
    key: str
    title: str
    rows: list[BarRow]
    label_width: int
    value_width: int
    bar_width: int
    legend: list[tuple[str, str]] = field(default_factory=list)
    caption: str = ""
    bar_height: int = BAR_HEIGHT

    @property
    def label_x(self) -> int:
        return self.label_width - GAP

    @property
    def value_x(self) -> int:
        return self.label_width + self.bar_width + GAP

    @property
    def width(self) -> int:
        return max(CHART_WIDTH, self.value_x + self.value_width)

    @property
    def height(self) -> int:
        return len(self.rows) * ROW_HEIGHT + 4


@dataclass(frozen=True)
class RowSpec:
    """One bar before layout: its parts as (count, css class), drawn on a scale of ``scale``."""

    label: str
    url: str
    title: str
    value_label: str
    parts: list[tuple[int, str]]
    scale: int


def text_width(texts) -> int:
    return max((len(str(text)) for text in texts), default=0) * CHAR_WIDTH


def bar_chart(key: str, title: str, specs: list[RowSpec], **options) -> BarChart:
    label_width = text_width(spec.label for spec in specs) + 2 * GAP
    value_width = text_width(spec.value_label for spec in specs) + GAP
    # Long texts take from the bars before the chart grows past its column (and shrinks).
    bar_width = max(MIN_BAR_WIDTH, min(BAR_WIDTH, CHART_WIDTH - label_width - value_width - GAP))
    return BarChart(
        key=key,
        title=title,
        rows=layout(specs, label_width, bar_width),
        label_width=label_width,
        value_width=value_width,
        bar_width=bar_width,
        **options,
    )


def layout(specs: list[RowSpec], label_width: int, bar_width: int) -> list[BarRow]:
    rows = []
    for index, spec in enumerate(specs):
        y = index * ROW_HEIGHT + 4
        x = Decimal(label_width)
        segments = [Segment("bar-track", str(label_width), str(bar_width))]
        for count, css_class in spec.parts:
            width = Decimal(count) / max(spec.scale, 1) * bar_width
            segments.append(Segment(css_class, f"{x:.1f}", f"{width:.1f}"))
            x += width
        rows.append(
            BarRow(
                label=spec.label,
                url=spec.url,
                title=spec.title,
                value_label=spec.value_label,
                y=str(y),
                text_y=str(y + BAR_HEIGHT - 3),
                segments=segments,
            )
        )
    return rows


def changelist(model_label: str, **params) -> str:
    url = reverse(f"admin:{model_label}_changelist")
    return f"{url}?{urlencode(params)}" if params else url


def indication_chart(numbers: list[IndicationNumbers]) -> BarChart:
    scale = max([row.published + row.draft for row in numbers] or [0])
    specs = [
        RowSpec(
            label=row.name,
            url=changelist("products_product", indication=row.slug),
            title=_("%(name)s: %(published)d published, %(draft)d draft")
            % {"name": row.name, "published": row.published, "draft": row.draft},
            value_label=_("%(published)d published, %(draft)d draft")
            % {"published": row.published, "draft": row.draft},
            parts=[(row.published, "bar-published"), (row.draft, "bar-draft")],
            scale=scale,
        )
        for row in numbers
    ]
    return bar_chart(
        "indications",
        _("Products per indication"),
        specs,
        caption=_("A product counts for every indication its compounds have evidence for."),
        legend=[("bar-published", _("published")), ("bar-draft", _("draft"))],
    )


def catalogue_chart(numbers: ProductNumbers) -> BarChart:
    total = numbers.total
    products = "products_product"

    def spec(label, count, css_class, url):
        return RowSpec(
            label=label,
            url=url,
            title=_("%(label)s: %(count)d of %(total)d products")
            % {"label": label, "count": count, "total": total},
            value_label=_("%(count)d of %(total)d") % {"count": count, "total": total},
            parts=[(count, css_class)],
            scale=total,
        )

    specs = [
        spec(
            ProductStatus(status).label.capitalize(),
            numbers.by_status[status],
            f"bar-{status}",
            changelist(products, status__exact=status),
        )
        for status in ProductStatus.values
    ]
    for jurisdiction, limit in numbers.upper_limits_mg.items():
        label = _("Over the %(jurisdiction)s limit (%(mg)s mg/day)") % {
            "jurisdiction": jurisdiction.upper(),
            "mg": decimal_display(limit, 0),
        }
        specs.append(
            spec(
                label,
                numbers.over_upper_limit[jurisdiction],
                "bar-warning",
                changelist(products, over_upper_limit=jurisdiction),
            )
        )
    specs.append(
        spec(
            _("Label mismatch"),
            numbers.label_mismatch,
            "bar-warning",
            changelist(products, label_mismatch="yes"),
        )
    )
    return bar_chart("catalogue", _("The catalogue at a glance"), specs)


def facts_chart(facts: list[OpenFacts]) -> BarChart:
    labels = {
        "compound_facts": (_("Compound fact groups"), changelist("compounds_compoundform")),
        "references": (
            _("References"),
            changelist("formulary_reference", status__exact=VerificationStatus.UNVERIFIED),
        ),
        "evidence": (
            _("Evidence links"),
            changelist("compounds_compoundindication", status__exact=VerificationStatus.UNVERIFIED),
        ),
        "rules": (
            _("Interaction rules"),
            changelist("compounds_interactionrule", status__exact=VerificationStatus.UNVERIFIED),
        ),
    }
    specs = []
    for row in facts:
        label, url = labels[row.key]
        context = {
            "label": label,
            "unverified": row.unverified,
            "disputed": row.disputed,
            "total": row.total,
        }
        specs.append(
            RowSpec(
                label=label,
                url=url,
                title=_("%(label)s: %(unverified)d unverified, %(disputed)d disputed of %(total)d")
                % context,
                value_label=_("%(unverified)d unverified, %(disputed)d disputed of %(total)d")
                % context,
                parts=[(row.unverified, "bar-unverified"), (row.disputed, "bar-disputed")],
                scale=row.total,
            )
        )
    return bar_chart(
        "facts",
        _("Facts still to check"),
        specs,
        caption=_(
            "Each compound form has six fact groups (chemistry, solubility, stomach acid, "
            "laxative tendency, bioavailability, intake) with a status of their own."
        ),
        legend=[("bar-unverified", _("unverified")), ("bar-disputed", _("disputed"))],
    )


def dashboard_charts(user) -> list[BarChart]:
    """The charts ``user`` may see: each only where they may view the rows it counts."""
    charts = []
    if user.has_perm("products.view_product"):
        charts.append(catalogue_chart(product_numbers()))
        charts.append(indication_chart(indication_numbers()))
    facts = []
    if user.has_perm("compounds.view_compoundform"):
        facts.append(compound_fact_counts())
    if user.has_perm("formulary.view_reference"):
        facts.append(status_counts(Reference.objects, "references"))
    if user.has_perm("compounds.view_compoundindication"):
        facts.append(status_counts(CompoundIndication.objects, "evidence"))
    if user.has_perm("compounds.view_interactionrule"):
        facts.append(status_counts(InteractionRule.objects, "rules"))
    if facts:
        charts.append(facts_chart(facts))
    return charts
