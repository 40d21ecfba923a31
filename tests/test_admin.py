"""The Django admin as shop staff and pharmacist editors use it."""

import io
import re
from decimal import ROUND_HALF_UP, Decimal
from html import unescape

import pytest
from django import forms
from django.contrib import admin
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from compounds.models import (
    FACT_STATUS_FIELDS,
    CompoundForm,
    CompoundIndication,
    InteractionRule,
)
from formulary.common.history import ChangePath
from formulary.common.localized_numbers import LocalizedNumberMixin
from formulary.enums import VerificationStatus
from formulary.models import Indication, Nutrient, Reference
from products.admin import queries as admin_queries
from products.admin.dashboard import CHAR_WIDTH, dashboard_charts
from products.calculations import label_disagrees
from products.demo_staff import DEMO_LOGINS
from products.enums import ProductStatus
from products.gtin import gs1_check_digit
from products.models import Brand, Product, ProductIndication
from products.selectors import product_dose, products_with_lines
from products.services import IngredientInput, product_upsert

pytestmark = pytest.mark.django_db

PRODUCTS = reverse("admin:products_product_changelist")
COMPOUNDS = reverse("admin:compounds_compoundform_changelist")
ADD_PRODUCT = reverse("admin:products_product_add")
TENTH = Decimal("0.1")
OVER_BOTH_LIMITS = "2073500011379"  # 2 x 200 mg citrate a day: above the EU and the US limit
LABEL_MISMATCH = "2073900011375"  # declares 200 mg per serving, the ingredients give 141 mg
FIRST_DEMO = "2073100011373"


@pytest.fixture
def en_admin(admin_client):
    """A superuser's client that asks for English pages."""
    admin_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return admin_client


def staff_client(client, django_user_model, group_name):
    user = django_user_model.objects.create_user(
        username=group_name.lower().replace(" ", "-"), password="x", is_staff=True
    )
    user.groups.add(Group.objects.get(name=group_name))
    client.force_login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def change_url(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def one_decimal(value: Decimal) -> str:
    """Rounded to one decimal, without a trailing zero: 141.0 -> 141."""
    text = str(value.quantize(TENTH, rounding=ROUND_HALF_UP))
    return text.removesuffix(".0")


def new_gtin(serial: int) -> str:
    data = f"20999{serial:07d}"
    return f"{data}{gs1_check_digit(data)}"


def form_data(response) -> dict:
    """The POST body a browser would send for the admin form rendered in ``response``."""
    forms = [response.context["adminform"].form]
    data = {}
    # The history form of a version (revert) has no inlines.
    for inline in response.context.get("inline_admin_formsets", []):
        formset = inline.formset
        forms.append(formset.management_form)
        forms.extend(formset.forms)
    for form in forms:
        for field in form:
            value = field.value()
            if value is None or value is False:
                continue
            if value is True:
                value = "on"
            elif isinstance(value, list | tuple):
                value = [str(item) for item in value]
            else:
                value = str(value)
            data[field.html_name] = value
    # An input sends what the page shows, as a browser does: a Dutch page shows the stored
    # Decimal("2.000") as "2", which is what comes back.
    html = response.content.decode()
    for name in data:
        shown = re.search(rf'<input [^>]*name="{re.escape(name)}" value="([^"]*)"', html)
        if shown:
            data[name] = unescape(shown[1])
    return data


def listed(response) -> set[str]:
    return set(response.context["cl"].queryset.values_list("gtin", flat=True))


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.fixture
def catalogue():
    """Every demo product with its dose and indications, worked out without the admin."""
    indications_by_compound = {}
    for compound_id, slug in CompoundIndication.objects.values_list(
        "compound_id", "indication__slug"
    ):
        indications_by_compound.setdefault(compound_id, set()).add(slug)
    rows = []
    for product in products_with_lines():
        lines = list(product.ingredients.all())
        rows.append(
            {
                "product": product,
                "dose": product_dose(product),
                "compounds": {line.compound.slug for line in lines},
                "classifications": {line.compound.classification for line in lines},
                "indications": set().union(
                    *(indications_by_compound.get(line.compound_id, set()) for line in lines)
                ),
            }
        )
    return rows


# ---- the product change page ------------------------------------------------------------


def test_product_change_page_shows_the_computed_dose_and_upper_limit_flags(en_admin):
    product = products_with_lines().get(gtin=OVER_BOTH_LIMITS)
    dose = product_dose(product)

    html = en_admin.get(change_url(product)).content.decode()

    assert f"{one_decimal(dose.elemental_mg_per_day)} mg" in html
    assert f"{one_decimal(dose.elemental_mg_per_unit)} mg" in html
    assert f"{one_decimal(dose.nrv_percent_per_day)} %" in html
    assert (
        f"Over: {one_decimal(dose.elemental_mg_per_day)} mg a day is above the adult limit "
        "of 250 mg." in html
    )
    assert (
        f"Over: {one_decimal(dose.elemental_mg_per_day)} mg a day is above the adult limit "
        "of 350 mg." in html
    )


def test_product_change_page_shows_label_mismatch_and_the_indications_of_its_compounds(en_admin):
    product = products_with_lines().get(gtin=LABEL_MISMATCH)
    dose = product_dose(product)
    expected = CompoundIndication.objects.filter(
        compound__ingredient_lines__product=product
    ).values_list("indication__slug", "grade")

    html = en_admin.get(change_url(product)).content.decode()

    assert (
        f"Mismatch: the label declares 200 mg per serving, the ingredients give "
        f"{one_decimal(dose.elemental_mg_per_serving)} mg (more than 5 % apart)." in html
    )
    assert expected
    for slug, grade in expected:
        indication = Indication.objects.get(slug=slug)
        assert f"<li><code>{slug}</code> {escape(indication.name_en)}: grade {grade} (" in html


def test_product_change_page_follows_the_users_language(admin_client):
    product = products_with_lines().get(gtin=OVER_BOTH_LIMITS)
    per_day = one_decimal(product_dose(product).elemental_mg_per_day)

    dutch = admin_client.get(change_url(product), HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    english = admin_client.get(change_url(product), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert f"{per_day.replace('.', ',')} mg" in dutch
    assert '<html lang="nl"' in dutch
    assert f"{per_day} mg" in english
    assert '<html lang="en"' in english


# ---- list filters and search ------------------------------------------------------------


def brand_id(slug):
    return Brand.objects.get(slug=slug).pk


FILTERS = [
    ({"status__exact": "draft"}, lambda row: row["product"].status == ProductStatus.DRAFT),
    ({"indication": "sleep"}, lambda row: "sleep" in row["indications"]),
    ({"indication": "constipation"}, lambda row: "constipation" in row["indications"]),
    ({"classification": "inorganic"}, lambda row: "inorganic" in row["classifications"]),
    ({"compound": "magnesium-oxide"}, lambda row: "magnesium-oxide" in row["compounds"]),
    ({"dosage_form__exact": "powder"}, lambda row: row["product"].dosage_form == "powder"),
    ({"brand__id__exact": "noctura"}, lambda row: row["product"].brand.slug == "noctura"),
    ({"over_upper_limit": "eu"}, lambda row: row["dose"].exceeds_upper_limit["eu"]),
    ({"over_upper_limit": "us"}, lambda row: row["dose"].exceeds_upper_limit["us"]),
    ({"label_mismatch": "yes"}, lambda row: row["dose"].label_mismatch is True),
    ({"label_mismatch": "no"}, lambda row: row["dose"].label_mismatch is False),
    ({"label_mismatch": "undeclared"}, lambda row: row["dose"].label_mismatch is None),
    (
        {"indication": "energy", "over_upper_limit": "eu"},
        lambda row: "energy" in row["indications"] and row["dose"].exceeds_upper_limit["eu"],
    ),
    ({"q": "Noctura"}, lambda row: row["product"].brand.name == "Noctura"),
    ({"q": FIRST_DEMO}, lambda row: row["product"].gtin == FIRST_DEMO),
]


@pytest.mark.parametrize(
    ("params", "belongs"),
    FILTERS,
    ids=["&".join(f"{k}={v}" for k, v in p.items()) for p, _ in FILTERS],
)
def test_product_list_filter_narrows_to_the_products_it_names(en_admin, catalogue, params, belongs):
    if "brand__id__exact" in params:
        params = {"brand__id__exact": brand_id(params["brand__id__exact"])}
    expected = {row["product"].gtin for row in catalogue if belongs(row)}

    response = en_admin.get(PRODUCTS, params)

    assert response.status_code == 200
    assert 0 < len(expected) < len(catalogue)
    assert listed(response) == expected


def test_label_mismatch_sql_filter_agrees_with_label_disagrees_on_every_demo_product():
    products = list(Product.objects.all())
    flagged = set(
        Product.objects.filter(admin_queries.label_mismatch()).values_list("pk", flat=True)
    )
    agreeing = set(
        Product.objects.filter(admin_queries.label_agrees()).values_list("pk", flat=True)
    )

    for product in products:
        python = label_disagrees(
            product.label_elemental_mg_per_serving, product.elemental_mg_per_serving
        )
        assert (product.pk in flagged) is (python is True), product.gtin
        assert (product.pk in agreeing) is (python is False), product.gtin
    assert flagged
    assert agreeing


# ---- bulk actions -----------------------------------------------------------------------


def run_action(client, action, products):
    return client.post(
        PRODUCTS,
        {"action": action, "_selected_action": [product.pk for product in products]},
        follow=True,
    )


def test_bulk_publish_publishes_the_selected_drafts_and_reports_how_many(en_admin):
    drafts = list(Product.objects.filter(status=ProductStatus.DRAFT).order_by("pk")[:3])

    response = run_action(en_admin, "publish", drafts)

    statuses = set(
        Product.objects.filter(pk__in=[p.pk for p in drafts]).values_list("status", flat=True)
    )
    assert statuses == {ProductStatus.PUBLISHED}
    assert messages_of(response) == ["3 products published."]


def test_bulk_unpublish_moves_back_to_draft_and_counts_the_unchanged(en_admin):
    published = Product.objects.filter(status=ProductStatus.PUBLISHED).order_by("pk").first()
    draft = Product.objects.filter(status=ProductStatus.DRAFT).order_by("pk").first()

    response = run_action(en_admin, "unpublish", [published, draft])

    published.refresh_from_db()
    assert published.status == ProductStatus.DRAFT
    assert messages_of(response) == ["1 product moved back to draft. 1 already had that status."]


def test_bulk_discontinue_discontinues_the_selected_products(en_admin):
    products = list(Product.objects.filter(status=ProductStatus.PUBLISHED).order_by("pk")[:2])

    response = run_action(en_admin, "discontinue", products)

    assert set(
        Product.objects.filter(pk__in=[p.pk for p in products]).values_list("status", flat=True)
    ) == {ProductStatus.DISCONTINUED}
    assert messages_of(response) == ["2 products discontinued."]


# ---- the ingredient formset -------------------------------------------------------------


def add_form_data(en_admin, gtin, lines):
    data = form_data(en_admin.get(ADD_PRODUCT))
    data.update(
        {
            "gtin": gtin,
            "brand": str(brand_id("noctura")),
            "name": "Testproduct",
            "dosage_form": "capsule",
            "units_per_package": "60",
            "units_per_serving": "1",
            "servings_per_day": "2",
            "status": "draft",
            "ingredients-TOTAL_FORMS": str(len(lines)),
        }
    )
    for index, (slug, amount, basis) in enumerate(lines):
        data[f"ingredients-{index}-compound"] = str(CompoundForm.objects.get(slug=slug).pk)
        data[f"ingredients-{index}-amount_mg"] = amount
        data[f"ingredients-{index}-amount_basis"] = basis
    return data


def test_admin_add_product_stores_the_computed_daily_amount(en_admin):
    gtin = new_gtin(1)
    data = add_form_data(en_admin, gtin, [("magnesium-oxide", "100", "elemental")])

    response = en_admin.post(ADD_PRODUCT, data)

    assert response.status_code == 302
    assert Product.objects.get(gtin=gtin).elemental_mg_per_day == Decimal("200")


def test_admin_add_product_without_ingredient_lines_is_refused_and_writes_nothing(en_admin):
    gtin = new_gtin(2)
    data = add_form_data(en_admin, gtin, [])

    response = en_admin.post(ADD_PRODUCT, data)

    assert response.status_code == 200
    assert "A product needs at least one magnesium ingredient line." in response.content.decode()
    assert not Product.objects.filter(gtin=gtin).exists()


def test_admin_add_product_with_a_repeated_compound_is_refused_and_writes_nothing(en_admin):
    gtin = new_gtin(3)
    data = add_form_data(
        en_admin,
        gtin,
        [("magnesium-oxide", "100", "elemental"), ("magnesium-oxide", "50", "compound")],
    )

    response = en_admin.post(ADD_PRODUCT, data)

    assert response.status_code == 200
    assert (
        "Each compound may appear once per product; repeated: Magnesium oxide. "
        "Add the amounts up in one line." in response.content.decode()
    )
    assert not Product.objects.filter(gtin=gtin).exists()


def test_admin_add_product_with_a_repeated_nutrient_is_refused_and_writes_nothing(en_admin):
    gtin = new_gtin(4)
    data = add_form_data(en_admin, gtin, [("magnesium-oxide", "100", "elemental")])
    vitamin_b6 = str(Nutrient.objects.get(slug="vitamin-b6").pk)
    data.update(
        {
            "nutrients-TOTAL_FORMS": "2",
            "nutrients-0-nutrient": vitamin_b6,
            "nutrients-0-amount": "1",
            "nutrients-1-nutrient": vitamin_b6,
            "nutrients-1-amount": "2",
        }
    )

    response = en_admin.post(ADD_PRODUCT, data)

    assert response.status_code == 200
    assert "Each nutrient may appear once per product; repeated: Vitamin B6." in (
        response.content.decode()
    )
    assert not Product.objects.filter(gtin=gtin).exists()


def test_admin_change_product_deleting_every_line_is_refused_and_writes_nothing(en_admin):
    product = Product.objects.get(gtin=FIRST_DEMO)
    lines_before = list(product.ingredients.values_list("pk", "compound_id", "amount_mg"))
    data = form_data(en_admin.get(change_url(product)))
    data["name"] = "Renamed"
    for index in range(int(data["ingredients-TOTAL_FORMS"])):
        data[f"ingredients-{index}-DELETE"] = "on"

    response = en_admin.post(change_url(product), data)

    assert response.status_code == 200
    assert "A product needs at least one magnesium ingredient line." in response.content.decode()
    product.refresh_from_db()
    assert product.name != "Renamed"
    assert list(product.ingredients.values_list("pk", "compound_id", "amount_mg")) == lines_before


def test_admin_bad_gtin_is_refused_with_the_check_digit_message(en_admin):
    data = add_form_data(en_admin, "2000000000016", [("magnesium-oxide", "100", "elemental")])

    response = en_admin.post(ADD_PRODUCT, data)

    assert "the last digit should be 5" in response.content.decode()
    assert not Product.objects.filter(gtin="2000000000016").exists()


# ---- the two staff groups ---------------------------------------------------------------


def test_staff_groups_hold_the_permissions_of_their_role():
    def codenames(name):
        return {
            f"{p.content_type.app_label}.{p.codename}"
            for p in Group.objects.get(name=name).permissions.select_related("content_type")
        }

    shop, pharmacist = codenames("Shop staff"), codenames("Pharmacist editors")

    for model in ("product", "ingredientline", "nutrientline", "brand"):
        for action in ("add", "change", "delete", "view"):
            assert f"products.{action}_{model}" in shop
        assert pharmacist & {f"products.{a}_{model}" for a in ("add", "change", "delete")} == set()
        assert f"products.view_{model}" in pharmacist
    for model in ("compoundform", "compoundcitation", "interactionrule", "compoundindication"):
        assert f"compounds.change_{model}" in pharmacist
        assert f"compounds.view_{model}" in shop
        assert f"compounds.change_{model}" not in shop
    for model in ("reference", "indication", "riskgroup", "deficiencysigncitation"):
        assert f"formulary.delete_{model}" in pharmacist
        assert f"formulary.view_{model}" in shop
        assert f"formulary.add_{model}" not in shop


def test_pharmacist_editor_changes_a_compound_but_may_not_change_a_product(
    en_admin, client, django_user_model
):
    compound = CompoundForm.objects.get(slug="magnesium-oxide")
    product = Product.objects.get(gtin=FIRST_DEMO)
    compound_data = form_data(en_admin.get(change_url(compound)))
    product_data = form_data(en_admin.get(change_url(product)))
    pharmacist = staff_client(client, django_user_model, "Pharmacist editors")
    compound_data["formula_note"] = "Checked by the pharmacist."
    product_data["name"] = "Renamed by a pharmacist"

    compound_response = pharmacist.post(change_url(compound), compound_data)
    product_response = pharmacist.post(change_url(product), product_data)
    product_page = pharmacist.get(change_url(product)).content.decode()

    assert compound_response.status_code == 302
    assert CompoundForm.objects.get(pk=compound.pk).formula_note == "Checked by the pharmacist."
    assert product_response.status_code == 403
    assert Product.objects.get(pk=product.pk).name == product.name
    # Viewing the catalogue is part of the role: the page is there, read-only.
    assert 'name="name"' not in product_page
    assert 'name="_save"' not in product_page


def test_shop_staff_changes_a_product_but_may_not_change_a_compound(
    en_admin, client, django_user_model
):
    compound = CompoundForm.objects.get(slug="magnesium-oxide")
    product = Product.objects.get(gtin=FIRST_DEMO)
    compound_data = form_data(en_admin.get(change_url(compound)))
    product_data = form_data(en_admin.get(change_url(product)))
    shop = staff_client(client, django_user_model, "Shop staff")
    compound_data["formula_note"] = "Changed by the shop."
    product_data["name"] = "Renamed by the shop"

    product_response = shop.post(change_url(product), product_data)
    compound_response = shop.post(change_url(compound), compound_data)
    compound_page = shop.get(change_url(compound)).content.decode()

    assert product_response.status_code == 302
    assert Product.objects.get(pk=product.pk).name == "Renamed by the shop"
    assert compound_response.status_code == 403
    assert CompoundForm.objects.get(pk=compound.pk).formula_note == compound.formula_note
    assert 'name="formula"' not in compound_page


def test_shop_staff_picks_compounds_with_autocomplete(client, django_user_model):
    shop = staff_client(client, django_user_model, "Shop staff")

    response = shop.get(
        reverse("admin:autocomplete"),
        {
            "term": "bisglyc",
            "app_label": "products",
            "model_name": "ingredientline",
            "field_name": "compound",
        },
    )

    assert [row["text"] for row in response.json()["results"]] == [
        "Magnesium bisglycinate (glycinate, diglycinate)"
    ]


# ---- charts -----------------------------------------------------------------------------


def svg_of(html: str, start_marker: str) -> str:
    start = html.index(start_marker)
    return html[start : html.index("</svg>", start)]


def test_dashboard_draws_products_per_indication_and_catalogue_state(en_admin, catalogue):
    html = en_admin.get(reverse("admin:index")).content.decode()

    indications = svg_of(html, 'id="dashboard-indications"')
    for indication in Indication.objects.all():
        published = sum(
            row["product"].status == ProductStatus.PUBLISHED
            and indication.slug in row["indications"]
            for row in catalogue
        )
        draft = sum(
            row["product"].status == ProductStatus.DRAFT and indication.slug in row["indications"]
            for row in catalogue
        )
        assert escape(f"{indication.name_en}: {published} published, {draft} draft") in indications
    state = svg_of(html, 'id="dashboard-catalogue"')
    total = len(catalogue)
    drafts = sum(row["product"].status == ProductStatus.DRAFT for row in catalogue)
    over_eu = sum(row["dose"].exceeds_upper_limit["eu"] for row in catalogue)
    mismatches = sum(row["dose"].label_mismatch is True for row in catalogue)
    assert f"Draft: {drafts} of {total} products" in state
    assert f"Over the EU limit (250 mg/day): {over_eu} of {total} products" in state
    assert f"Label mismatch: {mismatches} of {total} products" in state
    assert "<rect" in state


def test_dashboard_counts_the_facts_still_to_check(en_admin):
    status_fields = FACT_STATUS_FIELDS
    compounds = list(CompoundForm.objects.all())
    statuses = [getattr(c, name) for c in compounds for name in status_fields]
    open_statuses = (VerificationStatus.UNVERIFIED, VerificationStatus.DISPUTED)

    html = en_admin.get(reverse("admin:index")).content.decode()

    facts = svg_of(html, 'id="dashboard-facts"')
    assert (
        f"Compound fact groups: {statuses.count('unverified')} unverified, "
        f"{statuses.count('disputed')} disputed of {len(statuses)}" in facts
    )
    for label, model in (("References", Reference), ("Interaction rules", InteractionRule)):
        rows = list(model.objects.values_list("status", flat=True))
        assert (
            f"{label}: {rows.count('unverified')} unverified, {rows.count('disputed')} disputed "
            f"of {len(rows)}" in facts
        )
    assert sum(s in open_statuses for s in statuses) > 0


def test_compound_list_draws_elemental_percent_and_solubility_bars(en_admin):
    compounds = list(CompoundForm.objects.all())

    html = en_admin.get(COMPOUNDS).content.decode()

    chart = svg_of(html, 'class="module compound-chart"')
    for compound in compounds:
        assert f"{one_decimal(compound.elemental_magnesium_percent)} %" in chart
    assert chart.count(">not given<") == sum(c.solubility_g_per_l is None for c in compounds)
    assert "13.6 g/L" in chart  # magnesium bisglycinate
    assert "0.0069 g/L" in chart  # magnesium hydroxide
    assert chart.count('class="bar-elemental"') == len(compounds)


def test_compound_list_chart_follows_the_list_filters(en_admin):
    organic = CompoundForm.objects.filter(classification="organic")

    html = en_admin.get(COMPOUNDS, {"classification__exact": "organic"}).content.decode()

    chart = svg_of(html, 'class="module compound-chart"')
    assert chart.count('class="bar-elemental"') == organic.count()
    assert "Magnesium oxide" not in chart


# ---- cost of the product list -----------------------------------------------------------


def test_product_changelist_query_count_does_not_grow_with_the_catalogue(
    en_admin, django_assert_max_num_queries
):
    url = f"{PRODUCTS}?indication=sleep&label_mismatch=no"
    en_admin.get(url)  # warms the per-process caches (content types, site)
    with CaptureQueriesContext(connection) as small:
        en_admin.get(url)
    bisglycinate = CompoundForm.objects.get(slug="magnesium-bisglycinate")
    for serial in range(40):
        product_upsert(
            gtin=new_gtin(100 + serial),
            fields={
                "brand": Brand.objects.get_or_create(slug=f"b{serial}", name=f"Brand {serial}")[0],
                "name": f"Extra {serial}",
                "dosage_form": "capsule",
                "units_per_package": 60,
                "units_per_serving": Decimal(1),
                "servings_per_day": Decimal(1),
                "status": ProductStatus.PUBLISHED,
                "label_elemental_mg_per_serving": Decimal(100),
            },
            ingredients=[IngredientInput(bisglycinate, Decimal(100), "elemental")],
            nutrients=[],
        )

    with django_assert_max_num_queries(len(small.captured_queries)):
        response = en_admin.get(url)

    assert len(small.captured_queries) <= 15
    assert len(listed(response)) > 40


# ---- numbers in the user's notation -----------------------------------------------------


def dutch(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "nl"
    return client


def input_value(html: str, name: str) -> str:
    return re.search(rf'name="{re.escape(name)}" value="([^"]*)"', html)[1]


def test_admin_dutch_decimal_commas_save_the_numbers_typed(admin_client):
    nl_admin = dutch(admin_client)
    gtin = new_gtin(20)
    data = add_form_data(nl_admin, gtin, [("magnesium-oxide", "100,5", "elemental")])
    data.update({"units_per_serving": "1,5", "price_eur": "9,95"})

    response = nl_admin.post(ADD_PRODUCT, data)

    assert response.status_code == 302
    product = Product.objects.get(gtin=gtin)
    assert (product.units_per_serving, product.price_eur) == (Decimal("1.5"), Decimal("9.95"))
    assert product.ingredients.get().amount_mg == Decimal("100.5")


@pytest.mark.parametrize(
    ("language", "typed", "saved"),
    [
        ("nl", "1.000,5", Decimal("1000.5")),
        ("nl", "9.95", Decimal("9.95")),  # no group of three: the point can only be decimal
        ("en", "1,000.5", Decimal("1000.5")),
        ("en", "9,95", Decimal("9.95")),
        ("en", "9.95", Decimal("9.95")),
    ],
)
def test_admin_number_with_one_reading_is_saved_as_that_number(
    admin_client, language, typed, saved
):
    admin_client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    gtin = new_gtin(21)
    data = add_form_data(admin_client, gtin, [("magnesium-oxide", "100", "elemental")])
    data["price_eur"] = typed

    assert admin_client.post(ADD_PRODUCT, data).status_code == 302
    assert Product.objects.get(gtin=gtin).price_eur == saved


@pytest.mark.parametrize(
    ("language", "typed", "message"),
    [
        ("nl", "1.000", "“1.000” kan op twee manieren gelezen worden: als 1000 of als 1,000."),
        ("en", "1,000", "“1,000” can be read in two ways, as 1000 or as 1.000."),
        ("nl", "1,000.5", "“1,000.5” is geen getal. Schrijf het als 1000,5."),
        ("en", "1.000,5", "“1.000,5” is not a number. Write it like 1000.5."),
        ("nl", "1e3", "“1e3” is geen getal. Schrijf het als 1000,5."),
    ],
)
def test_admin_number_it_cannot_read_without_guessing_is_refused_and_writes_nothing(
    admin_client, language, typed, message
):
    admin_client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    gtin = new_gtin(22)
    data = add_form_data(admin_client, gtin, [("magnesium-oxide", "100", "elemental")])
    data["units_per_serving"] = typed

    response = admin_client.post(ADD_PRODUCT, data)

    assert response.status_code == 200
    [error] = response.context["adminform"].form.errors["units_per_serving"]
    assert error.startswith(message)
    assert not Product.objects.filter(gtin=gtin).exists()


def test_admin_whole_number_field_refuses_decimals(admin_client):
    nl_admin = dutch(admin_client)
    gtin = new_gtin(23)
    data = add_form_data(nl_admin, gtin, [("magnesium-oxide", "100", "elemental")])
    data["units_per_package"] = "60,5"

    response = nl_admin.post(ADD_PRODUCT, data)

    assert response.context["adminform"].form.errors["units_per_package"] == [
        "“60,5” is geen geheel getal."
    ]
    assert not Product.objects.filter(gtin=gtin).exists()


@pytest.mark.parametrize(("language", "price"), [("nl", "9,95"), ("en", "9.95")])
def test_admin_change_page_shows_stored_amounts_without_trailing_zeros(
    admin_client, language, price
):
    admin_client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    product = Product.objects.get(gtin=FIRST_DEMO)
    Product.objects.filter(pk=product.pk).update(
        units_per_serving=Decimal("2.000"), price_eur=Decimal("9.950")
    )

    html = admin_client.get(change_url(product)).content.decode()

    assert input_value(html, "units_per_serving") == "2"
    assert input_value(html, "price_eur") == price
    assert input_value(html, "units_per_package") == str(product.units_per_package)


def test_admin_change_page_saved_unchanged_keeps_every_number(admin_client):
    """What the form shows reads back as the same number: a save without edits changes none."""
    nl_admin = dutch(admin_client)
    product = Product.objects.get(gtin=FIRST_DEMO)
    before = Product.objects.values().get(pk=product.pk)
    lines_before = list(product.ingredients.values_list("amount_mg", flat=True))
    data = form_data(nl_admin.get(change_url(product)))

    assert nl_admin.post(change_url(product), data).status_code == 302
    after = Product.objects.values().get(pk=product.pk)
    numbers = ["units_per_package", "units_per_serving", "servings_per_day", "price_eur"]
    assert {k: after[k] for k in numbers} == {k: before[k] for k in numbers}
    assert list(product.ingredients.values_list("amount_mg", flat=True)) == lines_before


def admin_forms(request):
    """(where, form class) of every ModelAdmin and inline of ours."""
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label not in ("formulary", "compounds", "products"):
            continue
        yield model.__name__, model_admin.get_form(request)
        for inline in model_admin.get_inline_instances(request):
            yield f"{model.__name__} / {inline.model.__name__}", inline.get_formset(request).form


def test_every_admin_form_and_inline_reads_numbers_in_the_users_notation(rf, admin_user):
    request = rf.get("/admin/")
    request.user = admin_user
    numeric = (forms.DecimalField, forms.IntegerField, forms.FloatField)

    fields = [
        (where, name, field)
        for where, form in admin_forms(request)
        for name, field in form.base_fields.items()
        if isinstance(field, numeric) and not isinstance(field.widget, forms.HiddenInput)
    ]

    assert len(fields) > 10
    assert [(w, n) for w, n, f in fields if not isinstance(f, LocalizedNumberMixin)] == []


# ---- Dutch throughout -------------------------------------------------------------------


def test_admin_dutch_success_message_names_the_product_without_a_wrong_article(admin_client):
    nl_admin = dutch(admin_client)
    gtin = new_gtin(24)
    data = add_form_data(nl_admin, gtin, [("magnesium-oxide", "100", "elemental")])

    data["_continue"] = "1"

    response = nl_admin.post(ADD_PRODUCT, data, follow=True)

    product = Product.objects.get(gtin=gtin)
    assert messages_of(response) == [
        f'Toegevoegd: product “<a href="{change_url(product)}">{product}</a>”. '
        "Hieronder kunt u verder bewerken."
    ]


def test_admin_dutch_product_page_has_dutch_labels_and_compound_names(admin_client):
    nl_admin = dutch(admin_client)
    product = products_with_lines().get(gtin=FIRST_DEMO)

    html = nl_admin.get(change_url(product)).content.decode()

    for label in ("Eenheden per verpakking", "Prijs (€)", "Toedieningsvorm", "Ingrediëntregels"):
        assert label in html
    for line in product.ingredients.all():
        assert escape(line.compound.name_nl) in html
    assert "Units per package" not in html


def test_history_page_shows_the_path_each_change_came_through(admin_client):
    nl_admin = dutch(admin_client)
    product = Product.objects.get(gtin=FIRST_DEMO)
    data = form_data(nl_admin.get(change_url(product)))
    data["name"] = "Nieuwe naam"
    assert nl_admin.post(change_url(product), data).status_code == 302
    history = reverse("admin:products_product_history", args=[product.pk])

    html = nl_admin.get(history).content.decode()

    with translation.override("nl"):
        paths = [str(ChangePath.ADMIN.label), str(ChangePath.COMMAND.label)]
    assert "Gewijzigd via" in html
    cells = re.findall(r'<td class="history-path">([^<]*)</td>', html)
    assert cells == paths  # newest first: this admin change, then the demo load's


def test_delete_confirmation_leaves_out_the_derived_match_rows(en_admin):
    product = Product.objects.get(gtin=FIRST_DEMO)
    Product.objects.filter(pk=product.pk).update(status=ProductStatus.DRAFT)
    assert ProductIndication.objects.filter(product=product).exists()
    delete = reverse("admin:products_product_delete", args=[product.pk])

    response = en_admin.get(delete)

    html = response.content.decode()
    assert "Ingredient line: " in html
    assert "match row" not in html
    assert "→" not in html


# ---- demo logins ------------------------------------------------------------------------


def test_ensure_demo_staff_creates_a_login_per_role(client, django_user_model):
    out = io.StringIO()

    call_command("ensure_demo_staff", stdout=out)
    call_command("ensure_demo_staff", stdout=io.StringIO())  # again: resets, does not fail

    for login in DEMO_LOGINS:
        assert f"username {login.username!r}" in out.getvalue()
        assert f"password {login.password!r}" in out.getvalue()
        assert client.login(username=login.username, password=login.password)
    shop = django_user_model.objects.get(username="winkel")
    pharmacist = django_user_model.objects.get(username="apotheker")
    assert (shop.is_superuser, [g.name for g in shop.groups.all()]) == (False, ["Shop staff"])
    assert (pharmacist.is_superuser, [g.name for g in pharmacist.groups.all()]) == (
        False,
        ["Pharmacist editors"],
    )
    assert shop.has_perm("products.change_product")
    assert not shop.has_perm("compounds.change_compoundform")
    assert pharmacist.has_perm("compounds.change_compoundform")
    assert django_user_model.objects.get(username="demo").is_superuser


def test_ensure_demo_staff_refuses_on_a_production_profile(settings, django_user_model):
    settings.DJANGO_ENV = "production"

    with pytest.raises(CommandError, match="DJANGO_ENV is production"):
        call_command("ensure_demo_staff", stdout=io.StringIO())

    assert not django_user_model.objects.filter(
        username__in=[login.username for login in DEMO_LOGINS]
    ).exists()


def test_dashboard_charts_leave_room_for_their_longest_dutch_texts(admin_user):
    with translation.override("nl"):
        charts = dashboard_charts(admin_user)

        for chart in charts:
            for row in chart.rows:
                assert len(row.label) * CHAR_WIDTH <= chart.label_x, row.label
                assert chart.value_x + len(row.value_label) * CHAR_WIDTH <= chart.width
    assert len(charts) == 3


def test_compound_list_shows_stored_decimals_without_trailing_zeros(admin_client):
    nl_admin = dutch(admin_client)
    compound = CompoundForm.objects.get(slug="magnesium-sulfate-anhydrous")
    assert compound.solubility_g_per_l == Decimal("357.0000")

    html = nl_admin.get(COMPOUNDS, {"q": "magnesium-sulfate-anhydrous"}).content.decode()

    cells = re.findall(r'<td class="field-solubility_g_per_l">([^<]*)</td>', html)
    percent = re.findall(r'<td class="field-elemental_magnesium_percent">([^<]*)</td>', html)
    assert "357" in cells
    assert str(compound.elemental_magnesium_percent).rstrip("0").replace(".", ",") in percent


def test_admin_bad_gtin_is_refused_in_the_users_language(admin_client):
    nl_admin = dutch(admin_client)
    data = add_form_data(nl_admin, "2000000000016", [("magnesium-oxide", "100", "elemental")])

    response = nl_admin.post(ADD_PRODUCT, data)

    assert response.context["adminform"].form.errors["gtin"] == [
        "Het controlecijfer van GTIN 2000000000016 klopt niet: het laatste cijfer moet 5 zijn. "
        "Controleer de barcode op een tikfout."
    ]
    assert not Product.objects.filter(gtin="2000000000016").exists()
