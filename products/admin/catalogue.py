from dataclasses import dataclass
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.forms.models import BaseInlineFormSet
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from compounds.enums import Classification
from compounds.models import CompoundForm, CompoundIndication
from formulary.admin import (
    FormularyAdmin,
    FormularyTabularInline,
    localized_name,
)
from formulary.common.localization import current_language
from formulary.common.numbers import decimal_display, mg_display
from formulary.enums import WordingStatus
from formulary.models import Indication
from formulary.selectors import adult_nrv_mg, adult_upper_limits_mg
from products import calculations
from products.admin import queries as admin_queries
from products.admin.history import ProductHistoryMixin
from products.admin.spreadsheet import SpreadsheetAdminMixin
from products.claims import nutrient_mg_per_day
from products.claims_rows import health_claims_data
from products.enums import AmountBasis, ProductStatus
from products.gtin import GtinError, gs1_check_digit, validate_gtin
from products.knowledge import knowledge
from products.models import Brand, IngredientLine, NutrientLine, Product
from products.selectors import product_dose, products_with_lines
from products.services import (
    ProductNotDeletable,
    ingredient_lines_problem,
    nutrient_lines_problem,
    product_check_deletable,
    product_delete,
    product_lines_saved,
    product_locked,
    products_set_status,
)

# The admin index shows the catalogue dashboard above the app list. The project's AdminSite is
# Django's default one, and the admin app's own admin/index.html wins the template lookup over
# this app's (it comes first in INSTALLED_APPS), so the index is pointed at a template of ours.
admin.site.index_template = "admin/products/catalogue_index.html"
# The sidebar repeats the index's app list and takes a fifth of a 1366 px screen, which the
# product list with its filters needs: the breadcrumbs and the index lead to every model.
admin.site.enable_nav_sidebar = False

NOT_COMPUTED = _("Computed once the product and its ingredient lines are saved.")


class LineFormSet(BaseInlineFormSet):
    """Checks its lines with the one home of the line rules in ``products.services``."""

    line_field = ""  # "compound" or "nutrient"

    def kept_forms(self):
        """Forms that will be saved: not marked for deletion, not an untouched empty row."""
        return [
            form
            for form in self.forms
            if not (self.can_delete and self._should_delete_form(form))
            and (form.instance.pk is not None or form.has_changed())
        ]

    def chosen(self) -> list:
        """Per kept line its compound or nutrient, None where it did not validate."""
        return [
            getattr(form, "cleaned_data", {}).get(self.line_field) for form in self.kept_forms()
        ]

    def problem(self, chosen: list) -> str | None:
        raise NotImplementedError

    def clean(self):
        problem = self.problem(self.chosen())
        if problem:
            raise ValidationError(problem)
        super().clean()


class IngredientLineFormSet(LineFormSet):
    line_field = "compound"

    def problem(self, chosen):
        return ingredient_lines_problem(chosen, name_of=localized_name)


class NutrientLineFormSet(LineFormSet):
    line_field = "nutrient"

    def problem(self, chosen):
        return nutrient_lines_problem(chosen, name_of=localized_name)


class IngredientLineInline(FormularyTabularInline):
    model = IngredientLine
    formset = IngredientLineFormSet
    autocomplete_fields = ["compound"]
    fields = ["compound", "amount_mg", "amount_basis", "other_amount"]
    readonly_fields = ["other_amount"]

    def get_extra(self, request, obj=None, **kwargs):
        # A new product starts with one empty line to fill in; a saved one already has lines.
        return 1 if obj is None else 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("compound")

    @admin.display(description=_("the other amount (saved line)"))
    def other_amount(self, line):
        if line.pk is None:
            return "-"
        amounts = calculations.line_amounts(
            calculations.DoseLine(
                amount_mg=line.amount_mg,
                amount_basis=line.amount_basis,
                elemental_fraction=line.compound.elemental_magnesium_fraction,
            )
        )
        if line.amount_basis == AmountBasis.ELEMENTAL:
            return _("= %(mg)s mg of the compound") % {"mg": decimal_display(amounts.compound_mg)}
        return _("= %(mg)s mg elemental magnesium") % {"mg": decimal_display(amounts.elemental_mg)}


class NutrientLineInline(FormularyTabularInline):
    model = NutrientLine
    formset = NutrientLineFormSet
    autocomplete_fields = ["nutrient"]
    extra = 0


@admin.register(Brand)
class BrandAdmin(FormularyAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]


class IndicationFilter(admin.SimpleListFilter):
    title = _("indication")
    parameter_name = "indication"

    def lookups(self, request, model_admin):
        return [(row.slug, localized_name(row)) for row in Indication.objects.order_by("slug")]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(admin_queries.fits_indication(self.value()))
        return queryset


class ClassificationFilter(admin.SimpleListFilter):
    title = _("compound classification")
    parameter_name = "classification"

    def lookups(self, request, model_admin):
        return Classification.choices

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(admin_queries.has_ingredient_where(classification=self.value()))
        return queryset


class CompoundFilter(admin.SimpleListFilter):
    title = _("compound")
    parameter_name = "compound"

    def lookups(self, request, model_admin):
        in_use = CompoundForm.objects.filter(
            Exists(IngredientLine.objects.filter(compound=OuterRef("pk")))
        ).order_by("slug")
        return [(row.slug, localized_name(row)) for row in in_use]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(admin_queries.has_ingredient_where(slug=self.value()))
        return queryset


class UpperLimitFilter(admin.SimpleListFilter):
    title = _("daily amount over the adult upper limit")
    parameter_name = "over_upper_limit"

    def lookups(self, request, model_admin):
        self.limits_mg = adult_upper_limits_mg()
        return [
            (
                jurisdiction,
                _("over the %(jurisdiction)s limit (%(mg)s mg/day)")
                % {"jurisdiction": jurisdiction.upper(), "mg": decimal_display(limit, 0)},
            )
            for jurisdiction, limit in self.limits_mg.items()
        ]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        limit = self.limits_mg.get(self.value())
        if limit is None:
            return queryset.none()
        return queryset.filter(admin_queries.over_upper_limit(limit))


class LabelMismatchFilter(admin.SimpleListFilter):
    title = _("label vs computed magnesium")
    parameter_name = "label_mismatch"
    conditions = {
        "yes": admin_queries.label_mismatch,
        "no": admin_queries.label_agrees,
        "undeclared": admin_queries.label_undeclared,
    }

    def lookups(self, request, model_admin):
        percent = decimal_display(calculations.LABEL_MISMATCH_TOLERANCE * 100, 0)
        return [
            ("yes", _("differs by more than %(percent)s %%") % {"percent": percent}),
            ("no", _("agrees within %(percent)s %%") % {"percent": percent}),
            ("undeclared", _("no amount declared")),
        ]

    def queryset(self, request, queryset):
        condition = self.conditions.get(self.value())
        return queryset.filter(condition()) if condition else queryset


# The GTIN rule's messages in the admin user's language; products.gtin words them in English
# for the API and the import command, under the same codes.
GTIN_MESSAGES = {
    "gtin_not_digits": _("A GTIN consists of digits only."),
    "gtin_length": _("A GTIN has 8, 12, 13 or 14 digits; this one has %(length)d."),
    "gtin_check_digit": _(
        "The check digit of GTIN %(gtin)s is wrong: the last digit should be %(expected)d. "
        "Check the barcode for a typing error."
    ),
}


class ProductAdminForm(forms.ModelForm):
    """Carries the version the page was rendered from, so a stale save is refused.

    Two staff editing the same product: whoever saves second would silently undo the first
    one's change. The changeform view runs in a transaction, so the row stays locked from this
    check until the save.
    """

    edited_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def clean_gtin(self):
        # A field that fails here is left out of the model's own validation, so the English
        # message of the model validator does not follow this one.
        gtin = self.cleaned_data["gtin"]
        try:
            validate_gtin(gtin)
        except GtinError as error:
            params = {"gtin": gtin, "length": len(gtin)}
            if error.code == "gtin_check_digit":
                params["expected"] = gs1_check_digit(gtin[:-1])
            raise ValidationError(
                GTIN_MESSAGES[error.code], code=error.code, params=params
            ) from error
        return gtin

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["edited_version"].initial = self.instance.version

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None:
            return cleaned
        saved = product_locked(product=self.instance)
        if saved.version != cleaned.get("edited_version"):
            raise ValidationError(
                _(
                    "Someone else saved this product while you were editing it, so your "
                    "changes were not saved. Open the product again to see the current "
                    "version, then make your changes again."
                ),
                code="stale_version",
            )
        return cleaned


@dataclass(frozen=True)
class DerivedValues:
    """What the change page shows about one saved product, computed once per request."""

    dose: calculations.ProductDose
    upper_limits_mg: dict[str, Decimal]
    indications: list[CompoundIndication]
    label_mg: Decimal | None


@admin.register(Product)
class ProductAdmin(SpreadsheetAdminMixin, ProductHistoryMixin, FormularyAdmin):
    list_display = [
        "name",
        "brand",
        "gtin",
        "dosage_form",
        "status",
        "mg_per_day",
        "label_agrees",
    ]
    list_filter = [
        "status",
        IndicationFilter,
        ClassificationFilter,
        CompoundFilter,
        "dosage_form",
        "brand",
        UpperLimitFilter,
        LabelMismatchFilter,
    ]
    list_select_related = ["brand"]
    # Counting the whole table on every filtered page is what makes a large list slow.
    show_full_result_count = False
    search_fields = ["name", "brand__name", "gtin"]
    autocomplete_fields = ["brand"]
    actions = ["publish", "unpublish", "discontinue", "export_selected_csv", "export_selected_xlsx"]
    form = ProductAdminForm
    derived_fields = [
        "elemental_per_unit",
        "elemental_per_serving",
        "elemental_per_day",
        "eu_nrv_percent",
        "upper_limit_eu",
        "upper_limit_us",
        "label_check",
        "indications",
    ]
    readonly_fields = [*derived_fields, "updated_at", "health_claims"]
    fieldsets = [
        (None, {"fields": ["gtin", "brand", "name", "dosage_form", "status", "edited_version"]}),
        (
            _("Serving"),
            {
                "fields": [
                    "units_per_package",
                    ("units_per_serving", "servings_per_day"),
                    "label_elemental_mg_per_serving",
                ]
            },
        ),
        (_("Diet and price"), {"fields": [("vegan", "gluten_free", "lactose_free"), "price_eur"]}),
        (
            _("Computed from the saved ingredient lines"),
            {
                "description": _("Read-only. Recomputed each time the product is saved."),
                "fields": [*derived_fields, "updated_at"],
            },
        ),
        (
            _("EU health claims it may carry"),
            {
                "description": _(
                    "Read-only. What EU law (Regulation (EU) No 432/2012) lets the label say "
                    "about a nutrient, because the daily dose is at least a source of it. "
                    "This is law, not evidence: the evidence grades of its compounds are "
                    "under indications above."
                ),
                "fields": ["health_claims"],
            },
        ),
    ]
    inlines = [IngredientLineInline, NutrientLineInline]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # The inline lines are saved only now; the bookkeeping must follow them.
        product_lines_saved(product=form.instance)

    # ---- deleting: drafts only, the rule of products.services ----------------------------

    def get_deleted_objects(self, objs, request):
        """Both the delete page and the bulk "delete selected" action ask this first, and
        refuse (GET and POST alike) when anything is "protected": a product that is not a
        draft is listed there with the reason, so neither path can delete it."""
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        refusals = []
        for product in objs:
            try:
                product_check_deletable(product)
            except ProductNotDeletable as refused:
                refusals.append(refused.message)
        if refusals:
            self.message_user(request, " ".join(refusals), messages.ERROR)
        return deleted, counts, perms_needed, [*refusals, *protected]

    def delete_model(self, request, obj):
        # The same service as the API: the row is locked and the rule checked again at the
        # moment of deleting, in case it was published after the confirmation page.
        product_delete(product=obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for product in queryset:
                product_delete(product=product)

    # ---- list columns -------------------------------------------------------------------

    @admin.display(description=_("Mg elemental per day"), ordering="elemental_mg_per_day")
    def mg_per_day(self, product):
        return mg_display(product.elemental_mg_per_day)

    @admin.display(description=_("label agrees"), boolean=True)
    def label_agrees(self, product):
        disagrees = calculations.label_disagrees(
            product.label_elemental_mg_per_serving, product.elemental_mg_per_serving
        )
        return None if disagrees is None else not disagrees

    # ---- bulk actions -------------------------------------------------------------------

    def set_status(self, request, queryset, status, changed_message):
        selected = queryset.count()
        changed = products_set_status(products=queryset, status=status)
        text = changed_message(changed) % {"count": changed}
        unchanged = selected - changed
        if unchanged:
            text += " " + ngettext(
                "%(count)d already had that status.",
                "%(count)d already had that status.",
                unchanged,
            ) % {"count": unchanged}
        self.message_user(request, text, messages.SUCCESS)

    @admin.action(description=_("Publish selected products"), permissions=["change"])
    def publish(self, request, queryset):
        self.set_status(
            request,
            queryset,
            ProductStatus.PUBLISHED,
            lambda n: ngettext("%(count)d product published.", "%(count)d products published.", n),
        )

    @admin.action(
        description=_("Unpublish selected products (back to draft)"), permissions=["change"]
    )
    def unpublish(self, request, queryset):
        self.set_status(
            request,
            queryset,
            ProductStatus.DRAFT,
            lambda n: ngettext(
                "%(count)d product moved back to draft.",
                "%(count)d products moved back to draft.",
                n,
            ),
        )

    @admin.action(description=_("Discontinue selected products"), permissions=["change"])
    def discontinue(self, request, queryset):
        self.set_status(
            request,
            queryset,
            ProductStatus.DISCONTINUED,
            lambda n: ngettext(
                "%(count)d product discontinued.", "%(count)d products discontinued.", n
            ),
        )

    # ---- derived values on the change page ----------------------------------------------

    def derived(self, product) -> DerivedValues | None:
        if product is None or product.pk is None:
            return None
        # The read-only fields are rendered one by one; compute their common source once.
        cached = getattr(product, "_admin_derived", None)
        if cached is None:
            loaded = products_with_lines().get(pk=product.pk)
            limits = adult_upper_limits_mg()
            dose = product_dose(loaded, nrv_mg=adult_nrv_mg(), upper_limits_mg=limits)
            compound_ids = {line.compound_id for line in loaded.ingredients.all()}
            indications = list(
                CompoundIndication.objects.filter(compound_id__in=compound_ids)
                .select_related("compound", "indication")
                .order_by("indication__slug", "grade", "compound__slug")
            )
            cached = DerivedValues(dose, limits, indications, loaded.label_elemental_mg_per_serving)
            product._admin_derived = cached
        return cached

    @admin.display(description=_("elemental Mg per unit"))
    def elemental_per_unit(self, product):
        values = self.derived(product)
        return mg_display(values.dose.elemental_mg_per_unit) if values else NOT_COMPUTED

    @admin.display(description=_("elemental Mg per serving"))
    def elemental_per_serving(self, product):
        values = self.derived(product)
        return mg_display(values.dose.elemental_mg_per_serving) if values else NOT_COMPUTED

    @admin.display(description=_("elemental Mg per day"))
    def elemental_per_day(self, product):
        values = self.derived(product)
        return mg_display(values.dose.elemental_mg_per_day) if values else NOT_COMPUTED

    # xgettext:no-python-format
    @admin.display(description=_("% of the EU NRV per day"))
    def eu_nrv_percent(self, product):
        values = self.derived(product)
        if values is None:
            return NOT_COMPUTED
        if values.dose.nrv_percent_per_day is None:
            return _("No EU NRV loaded.")
        return f"{decimal_display(values.dose.nrv_percent_per_day)} %"

    def upper_limit_flag(self, product, jurisdiction):
        values = self.derived(product)
        if values is None:
            return NOT_COMPUTED
        limit = values.upper_limits_mg.get(jurisdiction)
        if limit is None:
            return _("No adult upper limit loaded.")
        context = {"day": mg_display(values.dose.elemental_mg_per_day), "limit": mg_display(limit)}
        if values.dose.exceeds_upper_limit[jurisdiction]:
            return format_html(
                '<strong class="errornote-inline" style="color: var(--error-fg)">{}</strong>',
                gettext("Over: %(day)s a day is above the adult limit of %(limit)s.") % context,
            )
        return gettext("Within: %(day)s a day, adult limit %(limit)s.") % context

    @admin.display(description=_("EU upper limit"))
    def upper_limit_eu(self, product):
        return self.upper_limit_flag(product, "eu")

    @admin.display(description=_("US upper limit"))
    def upper_limit_us(self, product):
        return self.upper_limit_flag(product, "us")

    @admin.display(description=_("label vs computed"))
    def label_check(self, product):
        values = self.derived(product)
        if values is None:
            return NOT_COMPUTED
        if values.dose.label_mismatch is None:
            return _("The label declares no magnesium amount per serving.")
        context = {
            "declared": mg_display(values.label_mg),
            "computed": mg_display(values.dose.elemental_mg_per_serving),
            "percent": decimal_display(calculations.LABEL_MISMATCH_TOLERANCE * 100, 0),
        }
        if values.dose.label_mismatch:
            return format_html(
                '<strong style="color: var(--error-fg)">{}</strong>',
                gettext(
                    "Mismatch: the label declares %(declared)s per serving, the ingredients give "
                    "%(computed)s (more than %(percent)s %% apart)."
                )
                % context,
            )
        return (
            gettext(
                "Agrees: the label declares %(declared)s per serving, the ingredients give "
                "%(computed)s (within %(percent)s %%)."
            )
            % context
        )

    @admin.display(description=_("indications of its compounds"))
    def indications(self, product):
        values = self.derived(product)
        if values is None:
            return NOT_COMPUTED
        if not values.indications:
            return _("None of its compounds has an evidence link.")
        return format_html(
            "<ul style='margin: 0; padding-left: 1.2em'>{}</ul>",
            format_html_join(
                "",
                "<li><code>{}</code> {}: {} {} ({})</li>",
                (
                    (
                        link.indication.slug,
                        localized_name(link.indication),
                        gettext("grade"),
                        link.grade,
                        localized_name(link.compound),
                    )
                    for link in values.indications
                ),
            ),
        )

    @admin.display(description=_("authorised health claims"))
    def health_claims(self, product):
        values = self.derived(product)
        if values is None:
            return NOT_COMPUTED
        lines = product.nutrients.select_related("nutrient")
        nutrients = nutrient_mg_per_day(
            [(line.nutrient.slug, line.nutrient.unit, line.amount) for line in lines],
            product.servings_per_day,
        )
        verdicts = health_claims_data(
            knowledge().source_of_rules,
            elemental_mg_per_day=values.dose.elemental_mg_per_day,
            nutrient_mg_per_day=nutrients,
            language=current_language(),
        )
        if not verdicts:
            return _("No health claims loaded.")
        return format_html_join(
            "",
            "<div style='margin-bottom: 1em'>{}</div>",
            ((nutrient_claims_html(verdict),) for verdict in verdicts),
        )


def wording_label(row: dict) -> str:
    return WordingStatus(row["wording_status"]).label


def nutrient_claims_html(verdict: dict) -> str:
    """One nutrient's verdict, its claims with how far each wording was checked, the condition."""
    if not verdict["may_carry_claims"]:
        return format_html('<strong style="color: var(--error-fg)">{}</strong>', verdict["verdict"])
    return format_html(
        "<strong>{}</strong><ul style='margin: 0.3em 0; padding-left: 1.2em'>{}</ul>"
        "<small>{}: {} ({})</small>",
        verdict["verdict"],
        format_html_join(
            "",
            "<li><code>{}</code> “{}” <em>({})</em></li>",
            ((claim["slug"], claim["text"], wording_label(claim)) for claim in verdict["claims"]),
        ),
        gettext("Condition of use"),
        verdict["condition"]["text"],
        wording_label(verdict["condition"]),
    )
