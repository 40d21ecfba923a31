"""The admin in a real browser: Playwright drives Debian's chromium against a live server.

A shop assistant logs in, creates a product with two ingredient lines through the select2
autocomplete, sees the computed elemental magnesium, publishes the product and finds it in the
public API; a pharmacist editor changes a compound's formula and sees the elemental % follow.
"""

from importlib import import_module
from pathlib import Path

import pytest
from django.contrib.admin.utils import display_for_field
from django.contrib.auth.models import Group
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.utils import translation

from compounds.knowledge_base import load_knowledge_base
from compounds.models import CompoundForm, SupplementRule
from formulary.common.numbers import mg_display
from formulary.models import (
    Caution,
    HealthClaim,
    Medication,
    NutrientUpperLimit,
    Population,
    SourceOfRule,
)
from products.demo import load_demo_products
from products.gtin import gs1_check_digit
from products.selectors import product_dose, products_with_lines

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "een-lang-wachtwoord-42"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"browser test: no browser at {CHROMIUM} (`apt-get install chromium`; "
        ".ci/run installs it)",
    ),
]


def quiet(*_args):
    """Swallows the loaders' progress lines."""


def restore_staff_groups():
    """Runs the data migrations that create the two staff groups and grant them the
    knowledge of issue 13 and the claims and medication sources (0016) again."""
    loader = MigrationLoader(connection)
    for name, function in (
        ("0002_staff_groups", "create_groups"),
        ("0015_knowledge_population_permissions", "grant"),
        ("0016_medication_and_claim_knowledge_permissions", "grant"),
    ):
        migration = import_module(f"products.migrations.{name}")
        state = loader.project_state(("products", name))
        with connection.schema_editor() as editor:
            getattr(migration, function)(state.apps, editor)


@pytest.fixture
def committed_catalogue(transactional_db):
    """The knowledge base, demo catalogue and staff groups, committed for the live server.

    The session loads them once, but the flush after a live-server test empties every table,
    so a later browser test loads them again. (conftest runs the browser tests last.)
    """
    if not Group.objects.filter(name="Shop staff").exists():
        restore_staff_groups()
        load_knowledge_base(report=quiet)
        load_demo_products(report=quiet)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread; the ORM calls the
    # test makes between browser steps are still plain synchronous ones.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="en-US")
    context.set_default_timeout(20_000)
    yield context.new_page()
    context.close()


def staff_user(django_user_model, username, group):
    user = django_user_model.objects.create_user(
        username=username, password=PASSWORD, is_staff=True
    )
    user.groups.add(Group.objects.get(name=group))
    return user


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")


def autocomplete(page, select_id, search, option):
    """Picks ``option`` in the select2 widget that replaces the <select> ``select_id``."""
    page.click(f"#{select_id} + .select2 .select2-selection")
    page.fill(".select2-container--open .select2-search__field", search)
    page.click(f".select2-results__option:text-is('{option}')")


def readonly_text(page, field):
    return page.inner_text(f".field-{field} .readonly").strip()


def test_shop_assistant_creates_publishes_and_finds_a_product(
    committed_catalogue, live_server, page, django_user_model
):
    staff_user(django_user_model, "winkel", "Shop staff")
    gtin = f"209970000001{gs1_check_digit('209970000001')}"
    log_in(page, live_server, "winkel")

    page.goto(f"{live_server.url}/admin/products/product/add/")
    page.fill("#id_gtin", gtin)
    autocomplete(page, "id_brand", "Noct", "Noctura")
    page.fill("#id_name", "Browser Bisglycinaat + Oxide")
    page.select_option("#id_dosage_form", "capsule")
    page.fill("#id_units_per_package", "60")
    page.fill("#id_units_per_serving", "2")
    page.fill("#id_servings_per_day", "1")
    autocomplete(
        page,
        "id_ingredients-0-compound",
        "bisglycinate",
        "Magnesium bisglycinate (glycinate, diglycinate)",
    )
    page.fill("#id_ingredients-0-amount_mg", "1000")
    page.select_option("#id_ingredients-0-amount_basis", "compound")
    page.click("#ingredients-group .add-row a")
    autocomplete(page, "id_ingredients-1-compound", "oxide", "Magnesium oxide")
    page.fill("#id_ingredients-1-amount_mg", "50")
    page.select_option("#id_ingredients-1-amount_basis", "elemental")
    page.click("input[name=_continue]")

    page.wait_for_selector(".messagelist .success")
    product = products_with_lines().get(gtin=gtin)
    dose = product_dose(product)
    with translation.override("en"):
        expected_per_day = mg_display(dose.elemental_mg_per_day)
        expected_per_unit = mg_display(dose.elemental_mg_per_unit)
    assert [line.compound.slug for line in product.ingredients.all()] == [
        "magnesium-bisglycinate",
        "magnesium-oxide",
    ]
    assert readonly_text(page, "elemental_per_day") == expected_per_day
    assert readonly_text(page, "elemental_per_unit") == expected_per_unit

    page.select_option("#id_status", "published")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")

    public = page.context.browser.new_context()
    answer = public.new_page().goto(f"{live_server.url}/api/v1/products/{gtin}/")
    assert answer.status == 200
    body = answer.json()
    public.close()
    assert (body["status"], body["name"]) == ("published", "Browser Bisglycinaat + Oxide")
    assert body["elemental_mg_per_day"] == float(round(dose.elemental_mg_per_day, 1))
    assert [line["compound"]["slug"] for line in body["ingredients"]] == [
        "magnesium-bisglycinate",
        "magnesium-oxide",
    ]


def test_pharmacist_editor_changes_a_formula_and_the_elemental_percent_follows(
    committed_catalogue, live_server, page, django_user_model
):
    staff_user(django_user_model, "apotheker", "Pharmacist editors")
    compound = CompoundForm.objects.get(slug="magnesium-chloride-hexahydrate")
    percent_field = CompoundForm._meta.get_field("elemental_magnesium_percent")
    log_in(page, live_server, "apotheker")

    page.goto(f"{live_server.url}/admin/compounds/compoundform/{compound.pk}/change/")
    before = readonly_text(page, "elemental_magnesium_percent")
    page.fill("#id_formula", "MgCl2")
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist .success")

    compound.refresh_from_db()
    with translation.override("en"):
        expected = display_for_field(compound.elemental_magnesium_percent, percent_field, "-")
    after = readonly_text(page, "elemental_magnesium_percent")
    assert compound.formula == "MgCl2"
    assert after == expected
    assert after != before
    assert 25 < compound.elemental_magnesium_percent < 26  # 24.305 / 95.21


SCREENSHOTS = Path(__file__).parent / "screenshots"
WIDE_SCREEN = {"width": 1366, "height": 768}


@pytest.fixture
def dutch_page(browser):
    """A Dutch browser (nl-NL: Accept-Language and the number notation) on a 1366 px screen."""
    context = browser.new_context(locale="nl-NL", viewport=WIDE_SCREEN)
    context.set_default_timeout(20_000)
    yield context.new_page()
    context.close()


def type_into(page, selector, text):
    """Types ``text`` key by key into an emptied field, as a person does (fill() would set the
    value directly, past the browser's own handling of the keys)."""
    page.fill(selector, "")
    page.locator(selector).press_sequentially(text)


def public_product(page, live_server, gtin):
    public = page.context.browser.new_context()
    answer = public.new_page().goto(f"{live_server.url}/api/v1/products/{gtin}/")
    body = answer.json()
    public.close()
    return answer.status, body


def test_dutch_shop_assistant_types_decimal_commas_and_the_api_reads_them_back(
    committed_catalogue, live_server, dutch_page, django_user_model
):
    page = dutch_page
    staff_user(django_user_model, "winkel-nl", "Shop staff")
    gtin = f"209970000002{gs1_check_digit('209970000002')}"
    log_in(page, live_server, "winkel-nl")

    page.goto(f"{live_server.url}/admin/products/product/add/")
    page.fill("#id_gtin", gtin)
    autocomplete(page, "id_brand", "Noct", "Noctura")
    page.fill("#id_name", "Komma Citraat")
    page.select_option("#id_dosage_form", "capsule")
    page.select_option("#id_status", "published")
    page.fill("#id_units_per_package", "60")
    type_into(page, "#id_units_per_serving", "1,5")
    page.fill("#id_servings_per_day", "2")
    type_into(page, "#id_price_eur", "9,95")
    autocomplete(page, "id_ingredients-0-compound", "oxide", "Magnesiumoxide")
    type_into(page, "#id_ingredients-0-amount_mg", "500,5")
    page.select_option("#id_ingredients-0-amount_basis", "compound")
    page.click("input[name=_continue]")

    page.wait_for_selector(".messagelist .success")
    status, body = public_product(page, live_server, gtin)
    assert status == 200
    assert (body["price_eur"], body["units_per_serving"]) == (9.95, 1.5)
    assert body["ingredients"][0]["amount_mg"] == 500.5
    # The saved values come back in the form as a Dutch reader writes them.
    assert page.input_value("#id_price_eur") == "9,95"
    assert page.input_value("#id_units_per_serving") == "1,5"
    assert page.input_value("#id_units_per_package") == "60"

    type_into(page, "#id_price_eur", "1.000,5")
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist .success")
    assert public_product(page, live_server, gtin)[1]["price_eur"] == 1000.5

    # One thousand, or one with three decimals typed with a point: refused, not guessed.
    type_into(page, "#id_units_per_serving", "1.000")
    page.click("input[name=_continue]")
    error = page.inner_text(".field-units_per_serving .errorlist")
    assert "1.000" in error and "1000" in error
    assert public_product(page, live_server, gtin)[1]["units_per_serving"] == 1.5


@pytest.mark.parametrize("language", ["nl", "en"])
def test_admin_pages_screenshots_in_each_language(
    committed_catalogue, live_server, browser, django_user_model, language
):
    """Screenshots for a person to look at (tests/screenshots/, not committed); the test
    asserts what the pages must say in that language."""
    context = browser.new_context(
        locale="nl-NL" if language == "nl" else "en-GB", viewport=WIDE_SCREEN
    )
    context.set_default_timeout(20_000)
    page = context.new_page()
    staff_user(django_user_model, f"winkel-{language}", "Shop staff")
    log_in(page, live_server, f"winkel-{language}")
    SCREENSHOTS.mkdir(exist_ok=True)
    product = products_with_lines().get(gtin="2073100011373")
    expected = {
        "nl": ("Producten", "Eenheden per verpakking", "De catalogus in één oogopslag"),
        "en": ("Products", "Units per package", "The catalogue at a glance"),
    }[language]

    page.goto(f"{live_server.url}/admin/products/product/")
    page.screenshot(path=SCREENSHOTS / f"product-list-{language}.png", full_page=True)
    assert expected[0] in page.inner_text(".breadcrumbs")

    page.goto(f"{live_server.url}/admin/products/product/{product.pk}/change/")
    page.screenshot(path=SCREENSHOTS / f"product-change-{language}.png", full_page=True)
    assert expected[1] in page.inner_text(".field-units_per_package label")

    page.goto(f"{live_server.url}/admin/")
    page.screenshot(path=SCREENSHOTS / f"dashboard-{language}.png", full_page=True)
    assert expected[2] in page.inner_text("#content")
    context.close()


LOCKOUT_TEXTS = {
    "nl": ("Te veel mislukte aanmeldingen", "Probeer het over 15 minuten opnieuw."),
    "en": ("Too many failed logins", "Try again in 15 minutes."),
}


@pytest.mark.parametrize("language", ["nl", "en"])
def test_login_lockout_page_in_each_language(
    committed_catalogue, live_server, browser, django_user_model, settings, language
):
    """A locked-out login gets the admin's own page in the reader's language (a screenshot
    in tests/screenshots/), not a bare line of English."""
    settings.AXES_FAILURE_LIMIT = 1
    context = browser.new_context(
        locale="nl-NL" if language == "nl" else "en-GB", viewport=WIDE_SCREEN
    )
    context.set_default_timeout(20_000)
    page = context.new_page()
    staff_user(django_user_model, f"vergeten-{language}", "Shop staff")

    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", f"vergeten-{language}")
    page.fill("#id_password", "not-the-password")
    with page.expect_response(lambda answer: answer.request.method == "POST") as answer:
        page.click("input[type=submit]")
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"login-locked-out-{language}.png", full_page=True)

    heading, next_step = LOCKOUT_TEXTS[language]
    assert answer.value.status == 429
    assert page.inner_text("h1") == heading
    assert next_step in page.inner_text("#content-main")
    context.close()


# The knowledge of issue 13 a pharmacist editor keeps: (admin path, a row of it, the list's
# title, a field label on the change form) per language.
KNOWLEDGE_PAGES = {
    "population": (
        "formulary/population",
        lambda: Population.objects.get(slug="child-1-3"),
        {
            "nl": ("Populaties", "Leeftijd vanaf (maanden)"),
            "en": ("Populations", "Age from (months)"),
        },
    ),
    "upper-limit": (
        "formulary/nutrientupperlimit",
        lambda: NutrientUpperLimit.objects.get(nutrient__slug="zinc", jurisdiction="eu"),
        {
            "nl": ("Bovengrenzen van voedingsstoffen", "Hoeveelheid per dag"),
            "en": ("Upper limits of nutrients", "Amount a day"),
        },
    ),
    "caution": (
        "formulary/caution",
        lambda: Caution.objects.get(slug="severe-renal-impairment"),
        {"nl": ("Waarschuwingen", "Advies (Nederlands)"), "en": ("Cautions", "Advice (Dutch)")},
    ),
    "supplement-rule": (
        "compounds/supplementrule",
        lambda: SupplementRule.objects.get(nutrient__slug="iron"),
        {
            "nl": ("Interactieregels tussen supplementen", "Supplement vóór magnesium (uren)"),
            "en": ("Supplement interaction rules", "Supplement before magnesium (hours)"),
        },
    ),
    # What the pharmacist editors were given in products.0016.
    "health-claim": (
        "formulary/healthclaim",
        lambda: HealthClaim.objects.order_by("pk").first(),
        {"nl": ("Gezondheidsclaims", "EFSA-ID's"), "en": ("Health claims", "EFSA IDs")},
    ),
    "source-of-rule": (
        "formulary/sourceofrule",
        lambda: SourceOfRule.objects.order_by("pk").first(),
        {"nl": ("Regels voor „bron van”", "Grondslag"), "en": ("“source of” rules", "Basis")},
    ),
    "medication": (
        "formulary/medication",
        lambda: Medication.objects.get(slug="levothyroxine"),
        {
            "nl": ("Geneesmiddelen", "ATC-code"),
            "en": ("Medications", "ATC code"),
        },
    ),
}

HOURS_IN_ADVICE = {
    "nl": "Geef het venster op in de urenvelden",
    "en": "Give the window in the hours fields",
}


@pytest.mark.parametrize("language", ["nl", "en"])
def test_knowledge_admin_pages_screenshots_in_each_language(
    committed_catalogue, live_server, browser, django_user_model, language
):
    """The population and regimen knowledge as a pharmacist editor sees it: each list and a
    change form, in tests/screenshots/ for a person to look at."""
    context = browser.new_context(
        locale="nl-NL" if language == "nl" else "en-GB", viewport=WIDE_SCREEN
    )
    context.set_default_timeout(20_000)
    page = context.new_page()
    staff_user(django_user_model, f"apotheker-{language}", "Pharmacist editors")
    log_in(page, live_server, f"apotheker-{language}")
    SCREENSHOTS.mkdir(exist_ok=True)

    for name, (path, row, expected) in KNOWLEDGE_PAGES.items():
        title, label = expected[language]
        page.goto(f"{live_server.url}/admin/{path}/")
        page.screenshot(path=SCREENSHOTS / f"{name}-list-{language}.png", full_page=True)
        assert title in page.inner_text(".breadcrumbs")
        assert page.locator("#result_list tbody tr").count() > 0

        page.goto(f"{live_server.url}/admin/{path}/{row().pk}/change/")
        page.screenshot(path=SCREENSHOTS / f"{name}-change-{language}.png", full_page=True)
        assert label in page.inner_text("#content-main")
        # Saved unchanged through the browser: the form the page shows is valid as it stands.
        page.click("input[name=_continue]")
        page.wait_for_selector(".messagelist .success")

    # A window typed into a rule's advice is refused: the hours live in their fields only.
    rule = SupplementRule.objects.get(nutrient__slug="iron")
    page.goto(f"{live_server.url}/admin/compounds/supplementrule/{rule.pk}/change/")
    page.fill("#id_advice_en", "Keep iron 3 hours apart from magnesium.")
    page.click("input[name=_continue]")
    page.wait_for_selector(".errorlist")
    page.screenshot(
        path=SCREENSHOTS / f"supplement-rule-hours-in-advice-{language}.png", full_page=True
    )
    assert HOURS_IN_ADVICE[language] in page.inner_text(".errorlist")
    rule.refresh_from_db()
    assert "3 hours" not in rule.advice_en
    context.close()
