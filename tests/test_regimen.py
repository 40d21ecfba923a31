"""POST regimen/: several products, compounds and supplements with medication: the total
magnesium against the population's limit, each item's share, duplicated nutrients, the
supplement rules, one day plan that keeps every window, and the 400s."""

from decimal import Decimal

import pytest
from django.utils import translation

from compounds.models import HOUR_FIGURE, SupplementRule
from formulary.common.numbers import decimal_text, half_up
from products.models import Product
from tests.test_bad_input import database_fingerprint

pytestmark = pytest.mark.django_db

URL = "/api/v1/regimen/"
# Standard atomic weights, as magnesium-reference.md §0 lists them.
MG, H, C, N, OX, S = 24.305, 1.008, 12.011, 14.007, 15.999, 32.06
B6_FORTE = "2073400012742"  # 100 mg elemental magnesium (citrate) a serving, 3 a day; 10 mg B6
TAURATE_B6 = "2073100014114"  # 1500 mg magnesium taurate a day; 5 mg B6 a serving, 1 a day
OXIDE_D3_ZINC = "2073800015480"  # 300 mg magnesium oxide a day; 10 µg D3, 10 mg zinc
BODY = {
    "population": "adult",
    "products": [{"gtin": B6_FORTE}, {"gtin": TAURATE_B6}, {"gtin": OXIDE_D3_ZINC}],
    "medications": ["levothyroxine:07:00", "ciprofloxacin:2x"],
}


def post(client, body, status=200, lang="en"):
    response = client.post(f"{URL}?lang={lang}", body, content_type="application/json")
    assert response.status_code == status, response.content
    return response.json()


def by_hand():
    """Elemental magnesium a day of the three products, worked out from their formulas."""
    taurate = MG / (MG + 2 * (2 * C + 6 * H + N + 3 * OX + S))  # Mg(C2H6NO3S)2
    oxide = MG / (MG + OX)  # MgO
    return {B6_FORTE: 100 * 3, TAURATE_B6: 1500 * taurate, OXIDE_D3_ZINC: 300 * oxide}


def test_regimen_totals_and_shares_of_three_products_worked_out_by_hand(client):
    expected = by_hand()
    total = sum(expected.values())

    body = post(client, BODY)

    magnesium = body["magnesium"]
    assert magnesium["total_mg_per_day"] == float(half_up(total, 1))
    assert [(i["gtin"], i["mg_per_day"]) for i in magnesium["items"]] == [
        (gtin, float(half_up(mg, 1))) for gtin, mg in expected.items()
    ]
    assert [i["share_percent"] for i in magnesium["items"]] == [
        float(half_up(mg * 100 / total, 1)) for mg in expected.values()
    ]
    # About 615 mg a day: above the adult EU 250 mg and the US 350 mg.
    eu, us = magnesium["upper_limits"]["eu"], magnesium["upper_limits"]["us"]
    assert (eu["limit_mg"], eu["exceeded"]) == (250, True)
    assert (us["limit_mg"], us["exceeded"]) == (350, True)
    assert eu["percent_of_limit"] == float(half_up(total * 100 / 250, 1))
    assert body["population"]["upper_limits"] == magnesium["upper_limits"]


def test_regimen_duplicated_nutrients_with_their_totals_and_limits(client):
    body = post(client, {**BODY, "supplements": [{"nutrient": "zinc", "amount": 20}]})

    nutrients = {n["slug"]: n for n in body["nutrients"]}
    b6, zinc, d3 = nutrients["vitamin-b6"], nutrients["zinc"], nutrients["vitamin-d3"]
    # B6: 10 mg x 3 servings + 5 mg x 1; zinc: 10 mg in a product + 20 mg on its own.
    assert (b6["total_per_day"], b6["duplicated"]) == (35, True)
    assert [s["amount_per_day"] for s in b6["sources"]] == [30, 5]
    assert (zinc["total_per_day"], zinc["duplicated"]) == (30, True)
    assert [s["kind"] for s in zinc["sources"]] == ["product", "supplement"]
    assert (d3["total_per_day"], d3["duplicated"]) == (10, False)
    # The limits the knowledge base has, each unverified as stored; none invented for D3.
    assert (b6["upper_limits"]["eu"]["limit"], b6["upper_limits"]["eu"]["exceeded"]) == (12, True)
    assert (b6["upper_limits"]["us"]["limit"], b6["upper_limits"]["us"]["exceeded"]) == (
        100,
        False,
    )
    assert b6["upper_limits"]["eu"]["status"] == "unverified"
    assert (zinc["upper_limits"]["eu"]["limit"], zinc["upper_limits"]["eu"]["exceeded"]) == (
        25,
        True,
    )
    assert d3["upper_limits"]["eu"]["stored"] is False
    assert d3["upper_limits"]["eu"]["message"] == (
        "The knowledge base holds no EU upper limit of Vitamin D3 for adults."
    )


def windows_of(body) -> dict[str, list[tuple]]:
    """Per scheduled intake the (before, after) windows the answer says it keeps."""
    windows = {
        entry["slug"]: [
            (rule["drug_before_mg_hours"], rule["drug_after_mg_hours"])
            for rule in entry["rules"]
            if rule["action"] == "spacing"
        ]
        for entry in body["medications"]
    }
    for rule in body["supplement_rules"]:
        if rule["applies"] and rule["action"] == "spacing":
            windows.setdefault(rule["nutrient"], []).append(
                (rule["supplement_before_mg_hours"], rule["supplement_after_mg_hours"])
            )
    return windows


def minutes(clock: str) -> int:
    hours, mins = clock.split(":")
    return int(hours) * 60 + int(mins)


def test_regimen_plan_keeps_every_window_with_every_magnesium_intake(client):
    body = post(client, {**BODY, "supplements": [{"nutrient": "iron", "amount": 14}]})

    schedule = body["schedule"]
    assert schedule["feasible"] is True
    times = schedule["times"]
    magnesium = [minutes(t["time"]) for t in times if t["take"] == "magnesium"]
    # As many magnesium intakes as the product with the most servings (B6 Forte: 3).
    assert len(magnesium) == 3
    windows = windows_of(body)
    assert set(windows) == {"levothyroxine", "ciprofloxacin", "iron"}
    assert windows["iron"] == [(4, 4)]
    for entry in times:
        if entry["take"] == "magnesium":
            continue
        dose = minutes(entry["time"])
        for before, after in windows[entry["take"]]:
            for m in magnesium:
                assert (before is not None and dose <= m - before * 60) or (
                    after is not None and dose >= m + after * 60
                ), (entry, m)
    assert [t["time"] for t in times if t["take"] == "levothyroxine"] == ["07:00"]
    assert len([t for t in times if t["take"] == "ciprofloxacin"]) == 2


def test_regimen_collisions_are_named_instead_of_a_plan(client):
    body = post(client, {**BODY, "medications": ["doxycycline:3x"]})

    assert body["schedule"]["feasible"] is False
    assert body["schedule"]["times"] == []
    assert body["schedule"]["collisions"] == [["magnesium", "doxycycline"]]


def test_regimen_supplement_rules_say_whether_they_apply_and_carry_their_sources(client):
    body = post(
        client,
        {
            **BODY,
            "supplements": [
                {"nutrient": "iron", "amount": 14},
                {"nutrient": "zinc", "amount": 50},
                {"nutrient": "calcium", "amount": 500},
            ],
        },
    )

    rules = {rule["nutrient"]: rule for rule in body["supplement_rules"]}
    iron, zinc, calcium = rules["iron"], rules["zinc"], rules["calcium"]
    assert (iron["applies"], iron["status"]) == (True, "verified")
    assert [s["reference"]["key"] for s in iron["sources"]] == ["SMPC-NEOMAG"]
    # 10 mg in a product + 50 mg on its own: below the 142 mg the (unverified) rule holds from.
    assert (zinc["applies"], zinc["status"], zinc["action"]) == (False, "unverified", "check_label")
    assert "below the 142 mg" in zinc["reason"]
    assert (calcium["applies"], calcium["status"], calcium["action"]) == (
        True,
        "unverified",
        "check_label",
    )
    # A supplement without a sourced window is not placed in the schedule.
    assert {t["take"] for t in body["schedule"]["times"]} >= {"iron"}
    assert not {"zinc", "calcium"} & {t["take"] for t in body["schedule"]["times"]}


def test_regimen_nutrient_only_inside_a_magnesium_product_is_not_spaced(client):
    body = post(client, {**BODY, "products": [{"gtin": "2073200015486"}]})

    (zinc,) = [rule for rule in body["supplement_rules"] if rule["nutrient"] == "zinc"]
    assert zinc["applies"] is False
    assert "cannot be spaced" in zinc["reason"]


def test_supplement_rules_hours_are_the_strictest_their_sources_state():
    for rule in SupplementRule.objects.prefetch_related("supplementrulecitation_set"):
        citations = list(rule.supplementrulecitation_set.all())
        assert citations, rule
        for field in ("supplement_before_mg_hours", "supplement_after_mg_hours"):
            stated = [getattr(c, f"stated_{field}") for c in citations]
            stated = [hours for hours in stated if hours is not None]
            assert getattr(rule, field) == (max(stated) if stated else None), (rule, field)
        if rule.minimum_daily_amount is not None:
            # The advice sentence states the structured threshold.
            amount = f"{rule.minimum_daily_amount.normalize():f}"
            assert amount in rule.advice_en and amount in rule.advice_nl


@pytest.mark.parametrize(("lang", "unit"), [("en", "h"), ("nl", "uur")])
def test_regimen_supplement_rule_texts_name_the_rules_hours_and_no_others(client, lang, unit):
    # What the regimen shows of a spaced rule, its advice and the window sentence, states the
    # hours fields: a pharmacist's edit of the hours changes the text with them.
    spaced = SupplementRule.objects.filter(check_label=False).exclude(
        supplement_before_mg_hours=None, supplement_after_mg_hours=None
    )
    assert spaced.exists()
    for rule in spaced.select_related("nutrient"):
        amount = rule.minimum_daily_amount or Decimal(1)
        supplements = [{"nutrient": rule.nutrient.slug, "amount": str(amount)}]

        body = post(client, {**BODY, "supplements": supplements}, lang=lang)

        (shown,) = [
            r
            for r in body["supplement_rules"]
            if (r["nutrient"], r["mechanism"]) == (rule.nutrient.slug, rule.mechanism)
        ]
        assert shown["applies"] is True
        hours = (rule.supplement_before_mg_hours, rule.supplement_after_mg_hours)
        with translation.override(lang):
            expected = [f"{decimal_text(h)} {unit}" for h in hours if h is not None]
        text = f"{shown['advice']} {shown['reason']}"
        assert [m.group() for m in HOUR_FIGURE.finditer(text)] == expected, (rule, text)


def test_regimen_compounds_with_amounts_and_renal_caution(client):
    body = post(
        client,
        {
            "population": "child-4-8",
            "renal": "severe",
            "compounds": [
                {"compound": "magnesium-oxide", "amount_mg": 100, "intakes_per_day": 2},
                {
                    "compound": "magnesium-bisglycinate",
                    "amount_mg": 20,
                    "amount_basis": "elemental",
                },
            ],
        },
    )

    oxide = 2 * 100 * MG / (MG + OX)
    assert [i["mg_per_day"] for i in body["magnesium"]["items"]] == [
        float(half_up(oxide, 1)),
        20,
    ]
    assert body["magnesium"]["upper_limits"]["us"]["limit_mg"] == 110
    assert body["magnesium"]["upper_limits"]["us"]["exceeded"] is (oxide + 20 > 110)
    assert [c["slug"] for c in body["cautions"]] == ["severe-renal-impairment"]
    assert body["schedule"]["magnesium_intakes_per_day"] == 2


def test_regimen_in_dutch(client):
    body = post(client, BODY, lang="nl")

    assert body["magnesium"]["upper_limits"]["eu"]["message"] == (
        "De EU-bovengrens voor magnesium uit supplementen voor volwassenen is 250 mg per dag."
    )


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({**BODY, "population": "martians"}, "population", "unknown_slug"),
        (
            {**BODY, "products": [{"gtin": B6_FORTE}, {"gtin": B6_FORTE}]},
            "products",
            "repeated_product",
        ),
        ({**BODY, "products": [{"gtin": "2099999999999"}]}, "products[0].gtin", "unknown_gtin"),
        ({**BODY, "products": [{"gtin": "12ab"}]}, "products[0].gtin", "invalid"),
        (
            {"compounds": [{"compound": "magnesium-oxide", "amount_mg": 0}]},
            "compounds[0].amount_mg",
            "min_value",
        ),
        (
            {"compounds": [{"compound": "magnesium-oxide", "amount_mg": 25000}]},
            "compounds[0].amount_mg",
            "max_value",
        ),
        (
            {
                "compounds": [
                    {"compound": "magnesium-oxide", "amount_mg": 100, "intakes_per_day": 9}
                ]
            },
            "compounds[0].intakes_per_day",
            "max_value",
        ),
        (
            {
                "compounds": [
                    {"compound": "magnesium-oxide", "amount_mg": 100},
                    {"compound": "magnesium-oxide", "amount_mg": 200},
                ]
            },
            "compounds",
            "repeated_compound",
        ),
        (
            {"compounds": [{"compound": "unobtainium", "amount_mg": 1}]},
            "compounds[0].compound",
            "unknown_slug",
        ),
        (
            {**BODY, "supplements": [{"nutrient": "zinc", "amount": -1}]},
            "supplements[0].amount",
            "min_value",
        ),
        ({**BODY, "medications": ["aspirin-of-mars"]}, "medications", "unknown_slug"),
        (
            {**BODY, "medications": ["ciprofloxacin", "Ciproxin"]},
            "medications",
            "repeated_medication",
        ),
        ({"supplements": [{"nutrient": "iron", "amount": 14}]}, "products", "no_magnesium"),
        ({**BODY, "renal": "mild"}, "renal", "invalid_choice"),
    ],
)
def test_regimen_bad_input_is_a_400_in_the_envelope_and_changes_nothing(client, body, field, code):
    before = database_fingerprint()

    answer = post(client, body, status=400)

    error = answer["error"]
    assert (error["status"], error["code"]) == (400, "invalid_field")
    assert [(d["field"], d["code"]) for d in error["details"]] == [(field, code)]
    assert error["message"] == f"Invalid field: {field}."
    assert database_fingerprint() == before


def test_regimen_query_count_does_not_grow_with_the_items(client, django_assert_max_num_queries):
    post(client, BODY)  # the snapshots kept per version
    gtins = list(Product.objects.filter(status="published").values_list("gtin", flat=True)[:10])
    with django_assert_max_num_queries(8):
        post(client, {**BODY, "products": [{"gtin": gtins[0]}]})
    with django_assert_max_num_queries(8):
        post(client, {**BODY, "products": [{"gtin": gtin} for gtin in gtins]})


def test_regimen_leaves_amounts_exact_until_output():
    product = Product.objects.get(gtin=TAURATE_B6)
    assert isinstance(product.elemental_mg_per_day, Decimal)
