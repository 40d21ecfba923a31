"""The public read API: endpoints, filters, errors, language, caching headers, query counts."""

from decimal import Decimal
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.core.signals import request_finished
from django.db import close_old_connections

from compounds.models import CompoundForm, CompoundIndication
from formulary.models import Medication
from products.enums import ProductStatus
from products.models import Product
from products.selectors import product_dose, products_with_lines

pytestmark = pytest.mark.django_db

API = "/api/v1"


def close_unread(response):
    """Close a streamed response without reading it, as a server does when its client leaves.

    feed/ holds its snapshot's transaction open until its body is closed; left to the garbage
    collector, it ends inside a later test's transaction and breaks it. Closed as Django's
    test client closes a streamed response it has read: without ``close_old_connections``,
    which would close the test's connection in the middle of its transaction."""
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)


def get_json(client, url, status=200, **headers):
    response = client.get(url, **headers)
    assert response.status_code == status, response.content
    return response.json()


def all_results(client, url):
    """Every result of a list, following the pages."""
    results, page = [], f"{url}{'&' if '?' in url else '?'}page_size=100"
    while page:
        body = get_json(client, page)
        results += body["results"]
        page = body["next"]
    return results


def gtins(client, query):
    return [row["gtin"] for row in all_results(client, f"{API}/products/?{query}")]


def published():
    return list(products_with_lines().filter(status=ProductStatus.PUBLISHED))


def indication_slugs(product):
    return {
        link.indication.slug
        for line in product.ingredients.all()
        for link in CompoundIndication.objects.filter(compound=line.compound)
    }


def error(status, code, message, details=()):
    return {"error": {"status": status, "code": code, "message": message, "details": list(details)}}


def test_api_root_lists_the_endpoints(client):
    body = get_json(client, f"{API}/")
    assert set(body) == {
        "indications",
        "compounds",
        "medications",
        "products",
        "symptoms",
        "risk-groups",
        "products/match",
        "advice",
        "regimen",
        "calculate/elemental",
        "feed",
        "changes",
        "schema",
        "docs",
    }
    # Each entry is a working address (match, advice and changes need parameters; regimen
    # is a POST).
    for url in body.values():
        response = client.get(url)
        assert response.status_code in (200, 400, 405), url
        if response.streaming:
            close_unread(response)


def test_products_anonymous_clients_see_published_products_only(client):
    listed = set(gtins(client, ""))

    assert listed == {p.gtin for p in published()}
    draft = Product.objects.filter(status=ProductStatus.DRAFT).first()
    assert draft.gtin not in listed
    assert get_json(client, f"{API}/products/{draft.gtin}/", 404) == error(
        404, "not_found", f"There is nothing at /api/v1/products/{draft.gtin}/."
    )


def test_product_detail_shows_lines_and_every_derived_amount(client):
    product = next(p for p in published() if len(p.ingredients.all()) > 1)
    dose = product_dose(product)

    body = get_json(client, f"{API}/products/{product.gtin}/")

    assert body["elemental_mg_per_day"] == float(round(dose.elemental_mg_per_day, 1))
    assert body["elemental_mg_per_serving"] == float(round(dose.elemental_mg_per_serving, 1))
    assert body["nrv_percent_per_day"] == float(round(dose.nrv_percent_per_day, 1))
    assert body["upper_limits"] == {
        "eu": {"limit_mg": 250.0, "exceeded": dose.exceeds_upper_limit["eu"]},
        "us": {"limit_mg": 350.0, "exceeded": dose.exceeds_upper_limit["us"]},
    }
    assert [line["compound"]["slug"] for line in body["ingredients"]] == [
        line.compound.slug for line in product.ingredients.all()
    ]
    assert sum(line["elemental_mg"] for line in body["ingredients"]) == pytest.approx(
        float(dose.elemental_mg_per_serving), abs=0.1 * len(body["ingredients"])
    )
    assert {i["slug"] for i in body["indications"]} == indication_slugs(product)


def test_product_detail_with_vitamin_b6_lists_the_other_nutrient(client):
    product = next(
        p for p in published() if any(n.nutrient.slug == "vitamin-b6" for n in p.nutrients.all())
    )

    body = get_json(client, f"{API}/products/{product.gtin}/?lang=en")

    b6 = next(n for n in body["nutrients"] if n["slug"] == "vitamin-b6")
    assert (b6["name"], b6["unit"]) == ("Vitamin B6", "mg")


def test_products_indication_filter_any_and_all(client):
    any_of = set(gtins(client, "indication=sleep,sport"))
    all_of = set(gtins(client, "indication=sleep&indication=sport&indication_match=all"))

    expected_any = {p.gtin for p in published() if indication_slugs(p) & {"sleep", "sport"}}
    expected_all = {p.gtin for p in published() if {"sleep", "sport"} <= indication_slugs(p)}
    assert any_of == expected_any
    assert all_of == expected_all
    assert expected_all < expected_any


@pytest.mark.parametrize(
    ("query", "keep"),
    [
        (
            "compound=magnesium-bisglycinate",
            lambda p: any(
                line.compound.slug == "magnesium-bisglycinate" for line in p.ingredients.all()
            ),
        ),
        (
            "classification=inorganic",
            lambda p: any(
                line.compound.classification == "inorganic" for line in p.ingredients.all()
            ),
        ),
        (
            "carrier=citrate",
            lambda p: any(line.compound.carrier.slug == "citrate" for line in p.ingredients.all()),
        ),
        ("dosage_form=powder,liquid", lambda p: p.dosage_form in {"powder", "liquid"}),
        ("brand=noctura", lambda p: p.brand.slug == "noctura"),
        ("min_elemental_mg=200", lambda p: p.elemental_mg_per_day >= 200),
        ("max_elemental_mg=150", lambda p: p.elemental_mg_per_day <= 150),
        ("within_upper_limit=eu", lambda p: not product_dose(p).exceeds_upper_limit["eu"]),
        ("within_upper_limit=us", lambda p: not product_dose(p).exceeds_upper_limit["us"]),
        ("vegan=true", lambda p: p.vegan),
        ("vegan=false", lambda p: not p.vegan),
        ("lactose_free=true", lambda p: p.lactose_free),
        (
            "search=citraat",
            lambda p: (
                "citraat" in p.name.lower()
                or any("citraat" in line.compound.name_nl.lower() for line in p.ingredients.all())
            ),
        ),
        ("search=Noctura", lambda p: p.brand.name == "Noctura" or "noctura" in p.name.lower()),
    ],
)
def test_products_each_filter_keeps_exactly_the_matching_products(client, query, keep):
    expected = {p.gtin for p in published() if keep(p)}

    assert set(gtins(client, query)) == expected
    assert expected, "the demo catalogue should exercise this filter"


def test_products_combined_webshop_query(client):
    query = (
        "indication=sleep&dosage_form=capsule&vegan=true&min_elemental_mg=100"
        "&ordering=-elemental_mg_per_day"
    )

    rows = all_results(client, f"{API}/products/?{query}")

    expected = [
        p
        for p in published()
        if "sleep" in indication_slugs(p)
        and p.dosage_form == "capsule"
        and p.vegan
        and p.elemental_mg_per_day >= 100
    ]
    assert {r["gtin"] for r in rows} == {p.gtin for p in expected}
    days = [r["elemental_mg_per_day"] for r in rows]
    assert days == sorted(days, reverse=True)


@pytest.mark.parametrize(
    ("ordering", "key", "reverse"),
    [
        ("name", lambda p: (p.name, p.gtin), False),
        ("-price", lambda p: (p.price_eur is not None, p.price_eur or 0), True),
        ("elemental_mg_per_day", lambda p: (p.elemental_mg_per_day, p.gtin), False),
        ("brand", lambda p: (p.brand.name, p.gtin), False),
    ],
)
def test_products_ordering(client, ordering, key, reverse):
    listed = gtins(client, f"ordering={ordering}")
    by_gtin = {p.gtin: p for p in published()}

    keys = [key(by_gtin[g]) for g in listed]
    if ordering == "-price":
        prices = [by_gtin[g].price_eur for g in listed if by_gtin[g].price_eur is not None]
        assert prices == sorted(prices, reverse=True)
    else:
        assert keys == sorted(keys, reverse=reverse)


def test_products_same_ordering_gives_the_same_pages(client):
    paged = []
    for page in (1, 2, 3):
        paged += [
            r["gtin"]
            for r in get_json(client, f"{API}/products/?ordering=brand&page_size=7&page={page}")[
                "results"
            ]
        ]

    assert paged == gtins(client, "ordering=brand")[:21]


def test_products_list_query_count_does_not_grow_with_page_size(
    client, django_assert_num_queries, page_queries
):
    client.get(f"{API}/products/?page_size=1")  # loads the reference data kept per version
    # The catalogue version, the page with its lines.
    with django_assert_num_queries(1 + page_queries):
        client.get(f"{API}/products/?page_size=2")
    with django_assert_num_queries(1 + page_queries):
        client.get(f"{API}/products/?page_size=100")


@pytest.mark.parametrize("path", ["compounds", "indications", "medications"])
def test_knowledge_lists_query_count_is_constant(client, django_assert_max_num_queries, path):
    with django_assert_max_num_queries(12):
        body = get_json(client, f"{API}/{path}/?page_size=100")
    assert body["next"] is None
    assert len(body["results"]) > 0


def test_compound_profile_is_complete_and_sourced(client):
    body = get_json(client, f"{API}/compounds/magnesium-chloride-hexahydrate/?lang=en")

    assert body["formula"] == "MgCl2·6H2O"
    assert body["hydrate"] == "hexahydrate"
    assert body["molar_mass_g_mol"] == 203.3
    assert body["elemental_magnesium_percent"] == 11.96
    assert body["classification"] == "inorganic"
    assert body["carrier"]["slug"] == "chloride"
    assert set(body["solubility"]) == {"term", "g_per_l", "source_text", "status"}
    assert body["intake"]["default_spacing_hours"] >= 0
    assert {r["medication"] for r in body["medication_rules"]} >= {
        "levothyroxine",
        "fluoroquinolones",
        "tetracyclines",
    }
    assert body["references"], "every compound carries its sources"


def test_compound_taurate_solubility_is_served_as_disputed(client):
    body = get_json(client, f"{API}/compounds/magnesium-taurate/")

    assert body["solubility"]["status"] == "disputed"


@pytest.mark.parametrize(
    ("query", "keep"),
    [
        ("classification=organic", lambda c: c.classification == "organic"),
        ("carrier=glycine", lambda c: c.carrier.slug == "glycine"),
        (
            "indication=constipation",
            lambda c: c.evidence.filter(indication__slug="constipation").exists(),
        ),
        ("min_elemental_percent=20", lambda c: c.elemental_magnesium_percent >= 20),
        ("max_elemental_percent=8.5", lambda c: c.elemental_magnesium_percent <= Decimal("8.5")),
        (
            "search=citr",
            lambda c: (
                "citr" in c.slug or "citr" in c.name_nl.lower() or "citr" in c.name_en.lower()
            ),
        ),
    ],
)
def test_compounds_each_filter_keeps_exactly_the_matching_compounds(client, query, keep):
    listed = {r["slug"] for r in all_results(client, f"{API}/compounds/?{query}")}

    assert listed == {c.slug for c in CompoundForm.objects.all() if keep(c)}
    assert listed


def test_compounds_ordering_by_elemental_percent(client):
    rows = all_results(client, f"{API}/compounds/?ordering=-elemental_magnesium_percent")

    assert rows[0]["slug"] == "magnesium-oxide"
    percents = [r["elemental_magnesium_percent"] for r in rows]
    assert percents == sorted(percents, reverse=True)


def test_indication_detail_lists_linked_compounds_with_grade_and_basis(client):
    body = get_json(client, f"{API}/indications/sleep/?lang=en")

    assert body["name"] == "Sleep quality"
    pairs = {(c["compound"]["slug"], c["basis"]) for c in body["compounds"]}
    assert pairs == set(
        CompoundIndication.objects.filter(indication__slug="sleep").values_list(
            "compound__slug", "basis"
        )
    )


def test_medication_rule_spacing_has_a_direction(client):
    body = get_json(client, f"{API}/medications/gabapentin/")

    (rule,) = body["rules"]
    assert (rule["action"], rule["drug_before_mg_hours"], rule["drug_after_mg_hours"]) == (
        "spacing",
        None,
        2.0,
    )


@pytest.mark.parametrize(
    ("search", "slugs"),
    [
        ("omeprazol", ["esomeprazole", "omeprazole"]),
        ("OMÉPRAZOLE", ["esomeprazole", "omeprazole"]),
        ("furosemide", ["furosemide"]),
        ("Ciproxin", ["ciprofloxacin"]),
        ("juluca", ["juluca"]),
        ("fluorochinolonen", ["fluoroquinolones"]),
        ("Bisfosfonaten", ["bisphosphonates"]),
        ("losec", ["omeprazole"]),
        ("no such drug", []),
    ],
)
def test_medications_search_finds_any_name_in_either_language_forgiving_case_and_accents(
    client, search, slugs
):
    body = get_json(client, f"{API}/medications/?search={quote(search)}")

    assert [m["slug"] for m in body["results"]] == slugs


def test_medication_substance_shows_its_class_brands_and_the_rule_it_inherits(client):
    body = get_json(client, f"{API}/medications/ciprofloxacin/?lang=en")

    assert (body["kind"], body["parent"], body["atc_code"], body["brand_names"]) == (
        "substance",
        {"slug": "fluoroquinolones", "kind": "class", "name": "Fluoroquinolones"},
        "J01MA02",
        ["Ciproxin"],
    )
    [rule] = body["rules"]
    assert (rule["medication"], rule["drug_before_mg_hours"], rule["drug_after_mg_hours"]) == (
        "fluoroquinolones",
        2.0,
        6.0,
    )


def test_medication_class_lists_its_members_and_their_overrides(client):
    body = get_json(client, f"{API}/medications/fluoroquinolones/")

    assert [m["slug"] for m in body["members"]] == [
        "ciprofloxacin",
        "levofloxacin",
        "moxifloxacin",
        "ofloxacin",
    ]
    assert [(r["medication"], r["drug_before_mg_hours"]) for r in body["rules"]] == [
        ("fluoroquinolones", 2.0),
        ("moxifloxacin", 4.0),
    ]


def test_medications_list_reads_two_queries_per_page(client, django_assert_num_queries):
    get_json(client, f"{API}/medications/")  # builds the index kept per version
    # The catalogue version and the page.
    with django_assert_num_queries(2):
        body = get_json(client, f"{API}/medications/?page_size=100")
    assert len(body["results"]) == Medication.objects.count() == 47


def test_language_follows_lang_then_accept_language_with_dutch_default(client):
    url = f"{API}/indications/sleep/"
    assert get_json(client, url)["name"] == "Slaapkwaliteit"
    assert get_json(client, url, HTTP_ACCEPT_LANGUAGE="en")["name"] == "Sleep quality"
    assert get_json(client, f"{url}?lang=nl", HTTP_ACCEPT_LANGUAGE="en")["name"] == (
        "Slaapkwaliteit"
    )


@pytest.mark.parametrize(
    ("formula", "read_as", "hydrate", "water", "percent"),
    [
        ("MgCl2·4.5H2O", "MgCl2·4.5H2O", "4.5-hydrate", 4.5, 13.79),
        ("[Mg(H2O)6]Cl2", "[Mg(H2O)6]Cl2", "hexahydrate", 6.0, 11.96),
        ("6H2O·MgCl2", "6H2O·MgCl2", "hexahydrate", 6.0, 11.96),
        ("MgCl₂·6H₂O", "MgCl2·6H2O", "hexahydrate", 6.0, 11.96),
        ("MgCl2 ∙ 6H2O", "MgCl2·6H2O", "hexahydrate", 6.0, 11.96),
        ("MgCl2⋅6H2O", "MgCl2·6H2O", "hexahydrate", 6.0, 11.96),
        ("MgC3H7O6P", "MgC3H7O6P", "anhydrous", 0.0, 12.51),
    ],
)
def test_calculator_reads_hydrates_however_they_are_written(
    client, formula, read_as, hydrate, water, percent
):
    body = get_json(client, f"{API}/calculate/elemental/?formula={quote(formula)}")

    assert (body["formula"], body["hydrate"], body["water_of_hydration"]) == (
        read_as,
        hydrate,
        water,
    )
    assert body["elemental_magnesium_percent"] == percent


def test_calculator_rounds_half_up_once(client):
    body = get_json(client, f"{API}/calculate/elemental/?formula=MgCl2")

    # 95.205 g/mol: half-up gives 95.21 (banker's rounding would give 95.20).
    assert body["molar_mass"] == 95.205
    compound = get_json(client, f"{API}/compounds/magnesium-chloride-anhydrous/")
    assert compound["molar_mass_g_mol"] == 95.21
    glycerophosphate = get_json(client, f"{API}/compounds/magnesium-glycerophosphate/")
    assert glycerophosphate["elemental_magnesium_percent"] == 12.51


def test_calculator_works_for_formulas_outside_the_knowledge_base(client):
    body = get_json(client, f"{API}/calculate/elemental/?formula=MgHPO4·3H2O&amount_mg=500")

    assert body == {
        "formula": "MgHPO4·3H2O",
        "hydrate": "trihydrate",
        "water_of_hydration": 3.0,
        "molar_mass": 174.328,
        "magnesium_atoms": 1,
        "elemental_magnesium_percent": 13.94,
        "amount_mg": 500.0,
        "elemental_mg": 69.71,
    }


@pytest.mark.parametrize(
    ("url", "body"),
    [
        (
            f"{API}/products/?indication=flying",
            error(
                400,
                "invalid_parameter",
                "Invalid parameter: indication.",
                [
                    {
                        "field": "indication",
                        "code": "unknown_slug",
                        "message": "Unknown indication: flying.",
                    }
                ],
            ),
        ),
        (
            f"{API}/products/?brand=100%25%25&carrier=%25s",
            error(
                400,
                "invalid_parameter",
                "Invalid parameter: brand, carrier.",
                [
                    {"field": "carrier", "code": "unknown_slug", "message": "Unknown carrier: %s."},
                    {"field": "brand", "code": "unknown_slug", "message": "Unknown brand: 100%%."},
                ],
            ),
        ),
        (
            f"{API}/products/?min_elemental_mg=abc&lang=en",
            error(
                400,
                "invalid_parameter",
                "Invalid parameter: min_elemental_mg.",
                [{"field": "min_elemental_mg", "code": "invalid", "message": "Enter a number."}],
            ),
        ),
        (
            f"{API}/products/?max_elemental_mg=1e400",
            error(
                400,
                "invalid_parameter",
                "Invalid parameter: max_elemental_mg.",
                [
                    {
                        "field": "max_elemental_mg",
                        "code": "out_of_range",
                        "message": "Enter a number from 0 to 100000.",
                    }
                ],
            ),
        ),
        (
            f"{API}/products/?min_elemental_mg=Infinity",
            error(
                400,
                "invalid_parameter",
                "Invalid parameter: min_elemental_mg.",
                [
                    {
                        "field": "min_elemental_mg",
                        "code": "invalid",
                        "message": "Enter a finite number.",
                    }
                ],
            ),
        ),
        (
            f"{API}/products/?ordering=secret&lang=en",
            error(
                400,
                "invalid_parameter",
                "Invalid parameter: ordering.",
                [
                    {
                        "field": "ordering",
                        "code": "invalid_choice",
                        "message": "Select a valid choice. secret is not one of the available "
                        "choices.",
                    }
                ],
            ),
        ),
        (
            f"{API}/products/?vegan=null",
            error(
                400,
                "invalid_parameter",
                "Invalid parameter: vegan.",
                [{"field": "vegan", "code": "invalid", "message": "Use true or false."}],
            ),
        ),
        (
            f"{API}/products/?page_size=1000",
            error(
                400,
                "invalid_parameter",
                "Invalid parameter: page_size.",
                [
                    {
                        "field": "page_size",
                        "code": "invalid",
                        "message": "Give a whole number from 1 to 100.",
                    }
                ],
            ),
        ),
        (
            f"{API}/products/?page=0",
            error(
                400,
                "invalid_parameter",
                "Invalid parameter: page.",
                [
                    {
                        "field": "page",
                        "code": "invalid",
                        "message": "Give a whole page number from 1.",
                    }
                ],
            ),
        ),
        (
            f"{API}/compounds/?lang=fr",
            error(
                400,
                "invalid_parameter",
                "Invalid parameter: lang.",
                [{"field": "lang", "code": "invalid_choice", "message": "Choose one of: nl, en."}],
            ),
        ),
        (
            f"{API}/calculate/elemental/?formula=NaCl",
            error(
                400,
                "invalid_parameter",
                "Invalid parameter: formula.",
                [
                    {
                        "field": "formula",
                        "code": "no_magnesium",
                        "message": "The formula 'NaCl' contains no magnesium (Mg).",
                    }
                ],
            ),
        ),
        (
            f"{API}/compounds/magnesium-unobtainium/",
            error(
                404, "not_found", "There is nothing at /api/v1/compounds/magnesium-unobtainium/."
            ),
        ),
        (
            f"{API}/no-such-thing/",
            error(404, "not_found", "There is nothing at /api/v1/no-such-thing/."),
        ),
        (
            f"{API}/products/%00/",
            error(400, "control_character", "The path contains a control character."),
        ),
    ],
)
def test_bad_requests_get_the_error_envelope(client, url, body):
    response = client.get(url)

    assert (response.status_code, response.json()) == (body["error"]["status"], body)


def test_nul_byte_in_a_query_value_is_a_clean_400(client):
    body = get_json(client, f"{API}/products/?search=a%00b&lang=en", 400)

    assert body["error"]["details"][0]["field"] == "search"


def test_conditional_get_answers_304(client):
    url = f"{API}/compounds/magnesium-oxide/"
    etag = client.get(url).headers["ETag"]

    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_cors_allows_only_the_configured_origins(client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://shop.example"]

    allowed = client.get(f"{API}/compounds/", HTTP_ORIGIN="https://shop.example")
    other = client.get(f"{API}/compounds/", HTTP_ORIGIN="https://evil.example")

    assert allowed.headers["Access-Control-Allow-Origin"] == "https://shop.example"
    assert "Access-Control-Allow-Origin" not in other.headers


def test_openapi_schema_validates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml"))

    assert "/api/v1/products/{gtin}/" in (tmp_path / "s.yml").read_text()


def test_interactive_docs_are_served(client):
    response = client.get(f"{API}/docs/")

    assert response.status_code == 200
    assert b"swagger-ui" in response.content
