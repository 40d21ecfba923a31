"""advice/: intake guidance, directional windows for every medication of the vocabulary, the
sources of each rule, monitoring flags and a day schedule that is possible or says it is not."""

import math
from decimal import Decimal

import pytest

from compounds.advice import SLOTS, Window, plan_schedule
from compounds.enums import Mechanism, Severity
from compounds.medications import build_medication_index
from compounds.models import InteractionRule
from formulary.models import Medication
from products.enums import ProductStatus
from products.models import Product

pytestmark = pytest.mark.django_db

URL = "/api/v1/advice/"
COMPOUND = "magnesium-bisglycinate"

# Every medication of vocabulary.md ("Medications"), with the window magnesium-reference.md §3
# gives (the most conservative sourced value) and the labels that give a member its own:
# slug: ([(rule's medication, hours drug before Mg, hours drug after Mg)], actions, monitored)
SECTION_3 = {
    # ODS "≥2 h before or 4-6 h after"; Stockley and the UK SmPC "2-3 h": 3 h before, 6 h after.
    "tetracyclines": ([("tetracyclines", 3, 6)], ["spacing"], False),
    # "Quinolone ≥2 h before or ≥6 h after Mg. Moxifloxacin: ≥4 h before or ≥8 h after": the
    # class stands for any member, so moxifloxacin's own window comes with it.
    "fluoroquinolones": (
        [("fluoroquinolones", 2, 6), ("moxifloxacin", 4, 8)],
        ["spacing"],
        False,
    ),
    # ODS ≥2 h; UK SmPC "Mg 3-4 h before or after": 4 h either way. Taken alone (label).
    "bisphosphonates": ([("bisphosphonates", 4, 4)], ["spacing", "taken_alone"], False),
    # "≥4 h either side".
    "levothyroxine": ([("levothyroxine", 4, 4)], ["spacing"], False),
    # Depletion: "Flag for monitoring", no spacing.
    "proton-pump-inhibitors": ([("proton-pump-inhibitors", None, None)], ["monitoring"], True),
    "loop-diuretics": ([("loop-diuretics", None, None)], ["monitoring"], True),
    "thiazide-diuretics": ([("thiazide-diuretics", None, None)], ["monitoring"], True),
    # Retention: "Caution flag", no spacing.
    "potassium-sparing-diuretics": (
        [("potassium-sparing-diuretics", None, None)],
        ["caution"],
        True,
    ),
    # "No mandatory spacing; optional ≥2 h; monitor Mg/K".
    "digoxin": ([("digoxin", None, None)], ["monitoring"], True),
    # "Gabapentin ≥2 h after Mg"; the other order has no sourced window.
    "gabapentin": ([("gabapentin", None, 2)], ["spacing"], False),
    # "DTG ≥2 h before or ≥6 h after Mg" (Tivicay, Triumeq, Dovato).
    "dolutegravir": ([("dolutegravir", 2, 6)], ["spacing"], False),
    # "Not verified. Use the product label": "Block with 'check label'".
    "integrase-inhibitors-other": (
        [("integrase-inhibitors-other", None, None)],
        ["check_label"],
        False,
    ),
    # "≥3-4 h": the 4 h end.
    "penicillamine": ([("penicillamine", 4, 4)], ["spacing"], False),
    # "Informational flag only".
    "calcium-channel-blockers": (
        [("calcium-channel-blockers", None, None)],
        ["information"],
        False,
    ),
}
# Substances and products: the class's rule under their own name, or their label's override.
MEMBERS = {
    "ciprofloxacin": ([("fluoroquinolones", 2, 6)], ["spacing"]),
    "levofloxacin": ([("fluoroquinolones", 2, 6)], ["spacing"]),
    "moxifloxacin": ([("moxifloxacin", 4, 8)], ["spacing"]),
    "doxycycline": ([("tetracyclines", 3, 6)], ["spacing"]),
    "alendronate": ([("bisphosphonates", 4, 4)], ["spacing", "taken_alone"]),
    "ibandronate": ([("bisphosphonates", 4, 4)], ["spacing", "taken_alone"]),
    "omeprazole": ([("proton-pump-inhibitors", None, None)], ["monitoring"]),
    "furosemide": ([("loop-diuretics", None, None)], ["monitoring"]),
    "triumeq": ([("dolutegravir", 2, 6)], ["spacing"]),
    "juluca": ([("juluca", 4, 6)], ["spacing"]),
    "raltegravir": ([("integrase-inhibitors-other", None, None)], ["check_label"]),
}


def get_json(client, query, status=200):
    response = client.get(f"{URL}?{query}")
    assert response.status_code == status, response.content
    return response.json()


def hours(value):
    return None if value is None else float(value)


def test_advice_section_3_table_covers_every_class_and_lone_substance():
    assert set(SECTION_3) == set(
        Medication.objects.filter(parent__isnull=True).values_list("slug", flat=True)
    )


def windows_of(entry):
    return [
        (rule["medication"], rule["drug_before_mg_hours"], rule["drug_after_mg_hours"])
        for rule in entry["rules"]
    ]


@pytest.mark.parametrize("slug", sorted(SECTION_3))
def test_advice_gives_the_section_3_window_and_its_sources(client, slug):
    windows, actions, monitored = SECTION_3[slug]

    body = get_json(client, f"compound={COMPOUND}&medication={slug}&lang=en")

    [entry] = body["medications"]
    assert (entry["slug"], entry["actions"]) == (slug, actions)
    assert windows_of(entry) == [(m, hours(b), hours(a)) for m, b, a in windows]
    for rule in entry["rules"]:
        stored = InteractionRule.objects.get(
            medication__slug=rule["medication"], mechanism=rule["mechanism"]
        )
        assert [r["key"] for r in rule["references"]] == sorted(
            stored.references.values_list("key", flat=True)
        )
        assert [s["key"] for s in rule["sources"]] == [r["key"] for r in rule["references"]]
        for reference in rule["references"]:
            assert set(reference) >= {"doi", "pmid", "status", "citation"}
        assert rule["status"] == stored.status
    assert bool(body["monitoring"]) == monitored


@pytest.mark.parametrize("slug", sorted(MEMBERS))
def test_advice_for_a_substance_or_product_uses_the_rules_in_force_for_it(client, slug):
    windows, actions = MEMBERS[slug]

    body = get_json(client, f"compound={COMPOUND}&medication={slug}&lang=en")

    [entry] = body["medications"]
    assert (entry["slug"], entry["actions"]) == (slug, actions)
    assert windows_of(entry) == [(m, hours(b), hours(a)) for m, b, a in windows]


def test_advice_rule_sources_keep_the_window_each_states(client):
    body = get_json(client, f"compound={COMPOUND}&medication=bisphosphonates&lang=en")

    [rule] = body["medications"][0]["rules"]
    assert [
        (s["key"], s["drug_before_mg_hours"], s["drug_after_mg_hours"]) for s in rule["sources"]
    ] == [("ALENDRONATE-LABEL", 0.5, None), ("ODS-MG", 2.0, 2.0), ("SMPC-NEOMAG", 4.0, 4.0)]
    assert (rule["drug_before_mg_hours"], rule["drug_after_mg_hours"]) == (4.0, 4.0)


@pytest.mark.parametrize(
    ("slug", "sentence"),
    [
        ("levothyroxine", "take levothyroxine at least 4 h before or 4 h after magnesium"),
        ("ciprofloxacin", "take ciprofloxacin at least 2 h before or 6 h after magnesium"),
        ("Avelox", "take moxifloxacin at least 4 h before or 8 h after magnesium"),
        (
            "juluca",
            "take Juluca (dolutegravir/rilpivirine) at least 4 h before or 6 h after magnesium",
        ),
        (
            "gabapentin",
            "take gabapentin at least 2 h after magnesium; taking it before magnesium "
            "is not advised (no sourced window)",
        ),
        (
            "integrase-inhibitors-other",
            "check the product label of other integrase inhibitors "
            "(bictegravir, cabotegravir, elvitegravir, raltegravir): no verified window with "
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
        {"time": "08:00", "take": "magnesium", "name": "Magnesium", "dose": 1}
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


def rules_in_force(slug):
    """(before, after) hours of every timed window in force for a medication, from the data."""
    index = build_medication_index()
    return [
        (rule.drug_before_mg_hours, rule.drug_after_mg_hours)
        for rule in index.rules_for(index.by_slug[slug])
        if rule.action == "spacing" and not rule.check_label
    ]


def assert_meets_every_window(schedule):
    magnesium = [minutes(t["time"]) for t in schedule["times"] if t["take"] == "magnesium"]
    doses = [(t["take"], minutes(t["time"])) for t in schedule["times"] if t["take"] != "magnesium"]
    for slug, drug in doses:
        for before, after in rules_in_force(slug):
            for mg in magnesium:
                assert (before is not None and drug <= mg - before * 60) or (
                    after is not None and drug >= mg + after * 60
                ), (slug, drug, mg)
    assert all(0 <= minute <= 16 * 60 for minute in [*magnesium, *(d for _s, d in doses)])
    return magnesium, doses


def test_advice_schedule_meets_every_window_it_prints(client):
    every = ",".join(sorted(SECTION_3))
    body = get_json(client, f"compound={COMPOUND}&medication={every}&lang=en")

    schedule = body["schedule"]
    assert schedule["feasible"] is True
    magnesium, doses = assert_meets_every_window(schedule)
    # Only the medications with a sourced window are timed; the label one is not.
    assert {slug for slug, _minute in doses} == {
        slug
        for slug, (windows, *_rest) in SECTION_3.items()
        if any(w[1:] != (None, None) for w in windows)
    }
    # The bisphosphonate comes first and alone: nothing else in its 30 minutes.
    first = min(minute for _slug, minute in doses)
    assert dict(doses)["bisphosphonates"] == first == 0
    assert all(minute >= 30 for slug, minute in doses if slug != "bisphosphonates")
    assert all(minute >= 30 for minute in magnesium)


def test_advice_fluoroquinolones_as_a_class_keep_moxifloxacins_longer_window(client):
    body = get_json(client, "compound=magnesium-oxide&medication=fluoroquinolones&lang=en")

    assert body["medications"][0]["advice"] == [
        "take fluoroquinolones (ciprofloxacin, levofloxacin, ofloxacin) at least 2 h before or "
        "6 h after magnesium",
        "take moxifloxacin at least 4 h before or 8 h after magnesium",
    ]
    schedule = body["schedule"]
    [magnesium] = [minutes(t["time"]) for t in schedule["times"] if t["take"] == "magnesium"]
    [drug] = [minutes(t["time"]) for t in schedule["times"] if t["take"] == "fluoroquinolones"]
    # Magnesium 2 h after the antibiotic, allowed by the class rule, is not enough for
    # moxifloxacin: the plan keeps 4 h before (or 8 h after).
    assert drug <= magnesium - 4 * 60 or drug >= magnesium + 8 * 60


def test_advice_twice_daily_antibiotic_gets_two_doses_each_spaced(client):
    body = get_json(client, f"compound={COMPOUND}&medication=ciprofloxacin:2x&lang=en")

    schedule = body["schedule"]
    assert schedule["feasible"] is True
    doses = [t for t in schedule["times"] if t["take"] == "ciprofloxacin"]
    assert [d["dose"] for d in doses] == [1, 2]
    assert minutes(doses[1]["time"]) - minutes(doses[0]["time"]) == 12 * 60
    assert_meets_every_window(schedule)
    [magnesium] = [t["time"] for t in schedule["times"] if t["take"] == "magnesium"]
    # 2 h after the 07:00 dose and 10 h before the 19:00 one (which needs at least 6 h), as
    # near to the preferred 08:00 as both windows allow.
    assert (doses[0]["time"], doses[1]["time"], magnesium) == ("07:00", "19:00", "09:00")


def test_advice_medication_at_given_times_is_planned_at_those_times(client):
    body = get_json(
        client, f"compound={COMPOUND}&medication=levothyroxine:07:00,doxycycline:2x&lang=en"
    )

    schedule = body["schedule"]
    times = [(t["time"], t["take"]) for t in schedule["times"]]
    assert ("07:00", "levothyroxine") in times
    assert [t for t, slug in times if slug == "doxycycline"] == ["07:00", "19:00"]
    assert_meets_every_window(schedule)
    # Levothyroxine 4 h before magnesium, doxycycline 3 h before it and 6 h after it.
    assert [t for t, slug in times if slug == "magnesium"] == ["11:00"]


def test_advice_three_daily_doses_leave_no_room_for_magnesium_and_say_so(client):
    # Every 8 h from 07:00 to 23:00: magnesium would need 3 h after one dose and 6 h before
    # the next, and 8 h holds only one of the two.
    body = get_json(client, f"compound={COMPOUND}&medication=doxycycline:3x&lang=en")

    schedule = body["schedule"]
    assert (schedule["feasible"], schedule["collisions"]) == (False, [["magnesium", "doxycycline"]])


def test_advice_states_its_assumptions(client):
    body = get_json(
        client, f"compound={COMPOUND}&medication=ciprofloxacin:2x,levothyroxine&lang=en"
    )

    assumptions = body["assumptions"]
    assert (assumptions["day_start"], assumptions["day_end"], assumptions["grid_minutes"]) == (
        "07:00",
        "23:00",
        30,
    )
    assert assumptions["medications"] == [
        {
            "medication": "ciprofloxacin",
            "doses_per_day": 2,
            "interval_hours": 12,
            "times": None,
            "stated": True,
        },
        {
            "medication": "levothyroxine",
            "doses_per_day": 1,
            "interval_hours": None,
            "times": None,
            "stated": False,
        },
    ]
    assert assumptions["text"][-2:] == [
        "Ciprofloxacin: twice a day, 12 h apart (as asked).",
        "Levothyroxine: once a day (assumed: no frequency given).",
    ]


def test_advice_bisphosphonate_is_taken_alone_for_the_minutes_its_label_states(client):
    body = get_json(client, f"compound={COMPOUND}&medication=ibandronate,levothyroxine&lang=en")

    entry = body["medications"][0]
    assert entry["taken_alone"]["minutes"] == 60
    assert entry["taken_alone"]["stated_by"] == "ibandronate"
    assert [c["reference"]["key"] for c in entry["taken_alone"]["references"]] == [
        "IBANDRONATE-LABEL"
    ]
    times = {t["take"]: minutes(t["time"]) for t in body["schedule"]["times"]}
    assert times["ibandronate"] == 0
    assert times["levothyroxine"] >= 60
    assert times["magnesium"] >= 4 * 60


def test_advice_two_medicines_that_must_each_come_first_collide(client):
    body = get_json(client, f"compound={COMPOUND}&medication=alendronate,ibandronate&lang=en")

    schedule = body["schedule"]
    assert (schedule["feasible"], schedule["times"]) == (False, [])
    assert schedule["collisions"] == [["magnesium", "alendronate", "ibandronate"]]
    assert (
        "these intakes collide: Magnesium + Alendronic acid (alendronate) + Ibandronic acid"
        in (schedule["message"])
    )


def test_advice_finds_medications_by_brand_and_dutch_name(client):
    body = get_json(client, f"compound={COMPOUND}&medication=Ciproxin,omeprazol,FUROSEMIDE")

    assert [m["slug"] for m in body["medications"]] == ["ciprofloxacin", "omeprazole", "furosemide"]


def make_rule(slug, *, before=None, after=None):
    medication = Medication.objects.create(
        slug=slug, kind="substance", name_nl=slug, name_en=slug.capitalize()
    )
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
    assert schedule["collisions"] == [["magnesium", "first-drug", "last-drug"]]
    assert schedule["message"].startswith(
        "The spacing windows of First-drug, Last-drug cannot all be met in one waking day "
        "(07:00-23:00) with 1 magnesium intake(s) a day; these intakes collide: "
        "Magnesium + First-drug + Last-drug."
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
    Medication.objects.create(
        slug="new-drug", kind="substance", name_nl="Nieuw", name_en="New drug"
    )

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
        (
            f"compound={COMPOUND}&medication=ciprofloxacin:5x",
            "medication",
            "invalid_dosing",
            "'ciprofloxacin:5x': give how often (1x, 2x or 3x) or clock times such as 08:00/20:00.",
        ),
        (
            f"compound={COMPOUND}&medication=levothyroxine:06:00",
            "medication",
            "outside_waking_day",
            "'levothyroxine:06:00': 06:00 is outside the waking day of 07:00-23:00.",
        ),
        (
            f"compound={COMPOUND}&medication=levothyroxine:19:00/08:00",
            "medication",
            "invalid_dosing",
            "'levothyroxine:19:00/08:00': give at most 4 different times, earliest first.",
        ),
        (
            f"compound={COMPOUND}&medication=ciprofloxacin,Ciproxin:2x",
            "medication",
            "repeated_medication",
            "Each medication once: ciprofloxacin given more than once.",
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
    get_json(client, f"compound={COMPOUND}&medication=digoxin")  # builds the kept index
    # The catalogue version and the compound: medications, rules and their sources come from
    # the index kept per catalogue version.
    with django_assert_num_queries(2):
        get_json(client, f"compound={COMPOUND}&medication=levothyroxine")
    with django_assert_num_queries(2):
        get_json(client, f"compound={COMPOUND}&medication={','.join(SECTION_3)}")


def test_advice_after_a_rule_is_saved_shows_the_new_window(client):
    before = get_json(client, f"compound={COMPOUND}&medication=moxifloxacin&lang=en")
    rule = InteractionRule.objects.get(medication__slug="moxifloxacin")
    rule.drug_after_mg_hours = Decimal(9)
    rule.save()

    after = get_json(client, f"compound={COMPOUND}&medication=moxifloxacin&lang=en")

    assert before["medications"][0]["advice"] == [
        "take moxifloxacin at least 4 h before or 8 h after magnesium"
    ]
    assert after["medications"][0]["advice"] == [
        "take moxifloxacin at least 4 h before or 9 h after magnesium"
    ]
