"""advice/: intake guidance, directional windows for every medication of the vocabulary, the
sources of each rule, monitoring flags and a day schedule that is possible or says it is not."""

import math
from decimal import Decimal

import pytest

from compounds.advice import SLOTS, Window, plan_schedule
from compounds.enums import Mechanism, Severity
from compounds.models import InteractionRule
from formulary.models import Medication
from products.enums import ProductStatus
from products.models import Product

pytestmark = pytest.mark.django_db

URL = "/api/v1/advice/"
COMPOUND = "magnesium-bisglycinate"

# Every medication of vocabulary.md ("Medications"), with the suggested software default of
# magnesium-reference.md §3 (the most conservative sourced value):
# slug: (hours drug before Mg, hours drug after Mg, actions, monitoring flag)
SECTION_3 = {
    # "Tetracycline ≥2 h before Mg, or ≥4-6 h after Mg": the 6 h end of the range.
    "tetracyclines": (2, 6, ["spacing"], False),
    # "Quinolone ≥2 h before or ≥6 h after Mg".
    "fluoroquinolones": (2, 6, ["spacing"], False),
    # "Bisphosphonate first (fasting), Mg ≥2 h later"; Mg first: UK SmPC 3-4 h, so 4.
    "bisphosphonates": (2, 4, ["spacing"], False),
    # "≥4 h either side".
    "levothyroxine": (4, 4, ["spacing"], False),
    # Depletion: "Flag for monitoring", no spacing.
    "proton-pump-inhibitors": (None, None, ["monitoring"], True),
    "loop-diuretics": (None, None, ["monitoring"], True),
    "thiazide-diuretics": (None, None, ["monitoring"], True),
    # Retention: "Caution flag", no spacing.
    "potassium-sparing-diuretics": (None, None, ["caution"], True),
    # "No mandatory spacing; optional ≥2 h; monitor Mg/K".
    "digoxin": (None, None, ["monitoring"], True),
    # "Gabapentin ≥2 h after Mg"; the other order has no sourced window.
    "gabapentin": (None, 2, ["spacing"], False),
    # "DTG ≥2 h before or ≥6 h after Mg".
    "dolutegravir": (2, 6, ["spacing"], False),
    # "Not verified. Use the product label": "Block with 'check label'".
    "integrase-inhibitors-other": (None, None, ["check_label"], False),
    # "≥3-4 h": the 4 h end.
    "penicillamine": (4, 4, ["spacing"], False),
    # "Informational flag only".
    "calcium-channel-blockers": (None, None, ["information"], False),
}


def get_json(client, query, status=200):
    response = client.get(f"{URL}?{query}")
    assert response.status_code == status, response.content
    return response.json()


def hours(value):
    return None if value is None else float(value)


def test_advice_section_3_table_covers_every_medication_of_the_vocabulary():
    assert set(SECTION_3) == set(Medication.objects.values_list("slug", flat=True))


@pytest.mark.parametrize("slug", sorted(SECTION_3))
def test_advice_gives_the_section_3_window_and_its_sources(client, slug):
    before, after, actions, monitored = SECTION_3[slug]

    body = get_json(client, f"compound={COMPOUND}&medication={slug}&lang=en")

    [entry] = body["medications"]
    assert (entry["slug"], entry["actions"]) == (slug, actions)
    [rule] = entry["rules"]
    assert (rule["drug_before_mg_hours"], rule["drug_after_mg_hours"]) == (
        hours(before),
        hours(after),
    )
    stored = InteractionRule.objects.get(medication__slug=slug)
    assert [r["key"] for r in rule["references"]] == sorted(
        stored.references.values_list("key", flat=True)
    )
    for reference in rule["references"]:
        assert set(reference) >= {"doi", "pmid", "status", "citation"}
    assert rule["status"] == stored.status
    assert bool(body["monitoring"]) == monitored


@pytest.mark.parametrize(
    ("slug", "sentence"),
    [
        ("levothyroxine", "take levothyroxine at least 4 h before or 4 h after magnesium"),
        (
            "fluoroquinolones",
            "take fluoroquinolones (ciprofloxacin, moxifloxacin, gemifloxacin, "
            "lomefloxacin, prulifloxacin) at least 2 h before or 6 h after magnesium",
        ),
        (
            "gabapentin",
            "take gabapentin at least 2 h after magnesium; taking it before magnesium "
            "is not advised (no sourced window)",
        ),
        (
            "integrase-inhibitors-other",
            "check the product label of other integrase inhibitors "
            "(bictegravir, raltegravir, cabotegravir, elvitegravir): no verified window with "
            "magnesium",
        ),
    ],
)
def test_advice_phrases_each_window_in_both_directions(client, slug, sentence):
    body = get_json(client, f"compound={COMPOUND}&medication={slug}&lang=en")

    assert body["medications"][0]["advice"] == [sentence]


def test_advice_in_dutch_by_default(client):
    body = get_json(client, f"compound={COMPOUND}&medication=levothyroxine")

    assert body["medications"][0]["advice"] == [
        "neem levothyroxine minstens 4 uur vóór of 4 uur ná magnesium in"
    ]
    assert body["intake"]["text"] == (
        "Neem magnesium 's ochtends of 's avonds in, bij voorkeur op een lege maag."
    )


def test_advice_monitoring_flags_name_depletion_and_retention(client):
    body = get_json(
        client,
        f"compound={COMPOUND}&medication=proton-pump-inhibitors,"
        "potassium-sparing-diuretics,levothyroxine&lang=en",
    )

    assert [(f["medication"], f["mechanism"], f["action"]) for f in body["monitoring"]] == [
        ("proton-pump-inhibitors", "depletion", "monitoring"),
        ("potassium-sparing-diuretics", "retention", "caution"),
    ]
    assert body["monitoring"][0]["advice"].startswith("Long-term PPI use")


def test_advice_intake_follows_the_compounds_guidance(client):
    body = get_json(client, "compound=magnesium-taurate&lang=en")

    assert body["subject"] == {
        "compound": "magnesium-taurate",
        "product": None,
        "name": "Magnesium taurate (taurinate)",
    }
    assert (body["intake"]["time_of_day"], body["intake"]["food_relation"]) == (
        "morning",
        "empty-stomach-preferred",
    )
    assert body["intake"]["text"] == (
        "Take magnesium in the morning, preferably on an empty stomach."
    )
    assert body["intake"]["compounds"][0]["status"] == "secondary"
    assert body["medications"] == []
    assert body["schedule"]["times"] == [
        {"time": "08:00", "take": "magnesium", "name": "Magnesium"}
    ]


def test_advice_for_a_product_uses_its_compounds_and_servings(client):
    product = (
        Product.objects.filter(status=ProductStatus.PUBLISHED, servings_per_day__gt=1)
        .prefetch_related("ingredients__compound")
        .first()
    )

    body = get_json(client, f"product={product.gtin}&medication=levothyroxine&lang=en")

    assert body["subject"] == {"compound": None, "product": product.gtin, "name": product.name}
    assert [c["slug"] for c in body["intake"]["compounds"]] == [
        line.compound.slug for line in product.ingredients.all()
    ]
    schedule = body["schedule"]
    assert schedule["magnesium_intakes_per_day"] == math.ceil(product.servings_per_day)
    assert [t["take"] for t in schedule["times"]].count("magnesium") == math.ceil(
        product.servings_per_day
    )


def minutes(clock):
    hours_part, minutes_part = clock.split(":")
    return int(hours_part) * 60 + int(minutes_part) - 7 * 60


def test_advice_schedule_meets_every_window_it_prints(client):
    every = ",".join(sorted(SECTION_3))
    body = get_json(client, f"compound={COMPOUND}&medication={every}&lang=en")

    schedule = body["schedule"]
    assert schedule["feasible"] is True
    magnesium = [minutes(t["time"]) for t in schedule["times"] if t["take"] == "magnesium"]
    timed = {t["take"]: minutes(t["time"]) for t in schedule["times"] if t["take"] != "magnesium"}
    # Only the medications with a sourced window are timed; the label one is not.
    assert set(timed) == {
        slug for slug, (b, a, *_rest) in SECTION_3.items() if b is not None or a is not None
    }
    for slug, drug in timed.items():
        before, after, *_rest = SECTION_3[slug]
        for mg in magnesium:
            assert (before is not None and drug <= mg - before * 60) or (
                after is not None and drug >= mg + after * 60
            ), (slug, drug, mg)
    assert all(0 <= minute <= 16 * 60 for minute in [*magnesium, *timed.values()])


def make_rule(slug, *, before=None, after=None):
    medication = Medication.objects.create(slug=slug, name_nl=slug, name_en=slug.capitalize())
    InteractionRule.objects.create(
        medication=medication,
        mechanism=Mechanism.CHELATION,
        severity=Severity.MAJOR,
        drug_before_mg_hours=before,
        drug_after_mg_hours=after,
        advice_nl="test",
        advice_en="test",
    )


def test_advice_windows_that_cannot_all_be_met_give_no_schedule(client):
    # "first" must come 10 h before magnesium, so magnesium is at 17:00 or later; "last" must
    # come 8 h after it, so magnesium is at 15:00 or earlier: no day of 07:00-23:00 fits both.
    make_rule("first-drug", before=Decimal(10))
    make_rule("last-drug", after=Decimal(8))

    body = get_json(
        client, f"compound={COMPOUND}&medication=first-drug,last-drug,levothyroxine&lang=en"
    )

    schedule = body["schedule"]
    assert (schedule["feasible"], schedule["times"]) == (False, [])
    assert schedule["conflicting"] == ["first-drug", "last-drug"]
    assert schedule["message"].startswith(
        "The spacing windows of First-drug, Last-drug cannot all be met in one waking day"
    )
    # Each alone fits.
    assert get_json(client, f"compound={COMPOUND}&medication=first-drug")["schedule"]["feasible"]
    assert get_json(client, f"compound={COMPOUND}&medication=last-drug")["schedule"]["feasible"]


def test_plan_schedule_more_magnesium_intakes_can_make_a_window_impossible():
    window = {"wide": [Window(Decimal(6), Decimal(6))]}

    once = plan_schedule(window, intakes_per_day=1, time_of_day="either")
    four_times = plan_schedule(window, intakes_per_day=4, time_of_day="either")

    assert once.feasible
    # Four intakes 4 h apart fill 07:00-23:00; nothing is 6 h from all of them.
    assert not four_times.feasible
    assert four_times.conflicting == ("wide",)


def test_plan_schedule_prefers_the_evening_for_an_evening_compound():
    schedule = plan_schedule({}, intakes_per_day=1, time_of_day="evening")

    assert schedule.times == ((14 * 60, "magnesium"),)
    assert SLOTS[-1] == 16 * 60


def test_advice_medication_without_rules_keeps_the_general_spacing(client):
    Medication.objects.create(slug="new-drug", name_nl="Nieuw", name_en="New drug")

    body = get_json(client, f"compound={COMPOUND}&medication=new-drug&lang=en")

    assert body["medications"][0]["actions"] == ["general_spacing"]
    assert body["medications"][0]["advice"] == [
        "No specific rule; the general rule for magnesium medicines applies: take new drug at "
        "least 3 h before or 3 h after magnesium"
    ]


def error(message, details):
    return {
        "error": {
            "status": 400,
            "code": "invalid_parameter",
            "message": message,
            "details": details,
        }
    }


EXACTLY_ONE = "Give exactly one of compound (a slug) or product (a GTIN)."


@pytest.mark.parametrize("query", ["", f"compound={COMPOUND}&product=2073300015485"])
def test_advice_needs_exactly_one_of_compound_or_product(client, query):
    assert get_json(client, query, 400) == error(
        "Invalid parameter: compound, product.",
        [
            {"field": "compound", "code": "exactly_one", "message": EXACTLY_ONE},
            {"field": "product", "code": "exactly_one", "message": EXACTLY_ONE},
        ],
    )


@pytest.mark.parametrize(
    ("query", "field", "code", "message"),
    [
        (
            "compound=magnesium-unobtainium",
            "compound",
            "unknown_slug",
            "Unknown compound: magnesium-unobtainium.",
        ),
        ("product=2099999999996", "product", "unknown_gtin", "Unknown product: 2099999999996."),
        (
            f"compound={COMPOUND}&medication=levothyroxine,aspirin,statins",
            "medication",
            "unknown_slug",
            "Unknown medication: aspirin, statins.",
        ),
        ("product=12ab", "product", "invalid", "A GTIN has 8-14 digits."),
    ],
)
def test_advice_unknown_or_malformed_values_are_a_400_naming_them(
    client, query, field, code, message
):
    assert get_json(client, query, 400) == error(
        f"Invalid parameter: {field}.",
        [
            {"field": field, "code": code, "message": message},
        ],
    )


def test_advice_for_a_draft_product_is_unknown(client):
    draft = Product.objects.filter(status=ProductStatus.DRAFT).first()

    body = get_json(client, f"product={draft.gtin}", 400)

    assert body["error"]["details"] == [
        {"field": "product", "code": "unknown_gtin", "message": f"Unknown product: {draft.gtin}."}
    ]


def test_advice_query_count_does_not_grow_with_the_medications(client, django_assert_num_queries):
    get_json(client, f"compound={COMPOUND}&medication=digoxin")  # loads the slugs kept per version
    # The catalogue version of the kept slugs; compound, medications, their rules, references
    # and compounds.
    with django_assert_num_queries(6):
        get_json(client, f"compound={COMPOUND}&medication=levothyroxine")
    with django_assert_num_queries(6):
        get_json(client, f"compound={COMPOUND}&medication={','.join(SECTION_3)}")
