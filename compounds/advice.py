"""Intake plans for pharmacists: when to take magnesium, and how far from each medication.

The day model, so a pharmacist can check every plan by hand:

- the waking day runs from 07:00 to 23:00 (16 hours); times fall on a 30-minute grid;
- each listed medication is taken once a day;
- magnesium is taken ``intakes_per_day`` times (one for a compound; a product's servings per
  day, rounded up), at least 4 hours apart;
- a medication with a spacing rule must, for *every* magnesium intake, come at least
  ``drug_before_mg_hours`` before it or at least ``drug_after_mg_hours`` after it; an empty
  direction means that order is not advised, so it is not used;
- a medication with no rule at all keeps the compound's general spacing in both directions;
- monitoring, caution and information rules and "check the label" rules set no times.

The plan tries every placement of the magnesium intakes, puts each medication at the earliest
time its windows allow, and keeps the placement with the least total of (minutes between the
magnesium and its preferred time: 08:00 for the morning or either, 21:00 for the evening) plus
(minutes after waking of each medication), since the drugs concerned are mostly taken on
waking (levothyroxine and bisphosphonates on an empty stomach); ties go to the earliest.
When no placement meets every window, the plan says so and names the medications whose
windows collide; it never prints an impossible schedule.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import combinations, pairwise

from compounds.enums import FoodRelation, InteractionAction, Mechanism, TimeOfDay
from compounds.models import CompoundForm, InteractionRule
from compounds.selectors import rules_for_compound
from formulary.common.localization import localized, translated
from formulary.common.numbers import decimal_text

WAKE_MINUTE = 7 * 60
WAKING_DAY_MINUTES = 16 * 60
GRID_MINUTES = 30
MIN_MAGNESIUM_GAP_MINUTES = 4 * 60
MAX_INTAKES_PER_DAY = 4
PREFERRED_MINUTE = {
    TimeOfDay.MORNING: 60,
    TimeOfDay.EITHER: 60,
    TimeOfDay.EVENING: WAKING_DAY_MINUTES - 2 * 60,
}
SLOTS = range(0, WAKING_DAY_MINUTES + 1, GRID_MINUTES)
MAGNESIUM = "magnesium"


@dataclass(frozen=True)
class Window:
    """Directional spacing between a medication and each magnesium intake, in hours."""

    drug_before_mg_hours: Decimal | None
    drug_after_mg_hours: Decimal | None

    def allows(self, drug_minute: int, magnesium_minute: int) -> bool:
        before, after = self.drug_before_mg_hours, self.drug_after_mg_hours
        return (before is not None and drug_minute <= magnesium_minute - before * 60) or (
            after is not None and drug_minute >= magnesium_minute + after * 60
        )


def spacing_rules(rules: Iterable[InteractionRule]) -> list[InteractionRule]:
    return [rule for rule in rules if rule.action == InteractionAction.SPACING]


def timed_windows(rules: Sequence[InteractionRule], default_hours: Decimal) -> list[Window]:
    """The windows that constrain a medication's time; the general spacing if it has no rule."""
    if not rules:
        return [Window(default_hours, default_hours)]
    return [
        Window(rule.drug_before_mg_hours, rule.drug_after_mg_hours)
        for rule in spacing_rules(rules)
        if not rule.check_label
        and (rule.drug_before_mg_hours is not None or rule.drug_after_mg_hours is not None)
    ]


@dataclass(frozen=True)
class Schedule:
    feasible: bool
    times: tuple[tuple[int, str], ...]
    """(minutes after waking, "magnesium" or a medication slug), in time order."""
    conflicting: tuple[str, ...]


def earliest_time(windows: Sequence[Window], magnesium: Sequence[int]) -> int | None:
    for slot in SLOTS:
        if all(window.allows(slot, m) for window in windows for m in magnesium):
            return slot
    return None


def magnesium_placements(count: int):
    for placement in combinations(SLOTS, count):
        if all(b - a >= MIN_MAGNESIUM_GAP_MINUTES for a, b in pairwise(placement)):
            yield placement


def place(medications: dict[str, list[Window]], count: int, time_of_day: str):
    """(cost, magnesium minutes, {slug: minute}) of the best placement; None if none fits."""
    target = PREFERRED_MINUTE[TimeOfDay(time_of_day)]
    anchor = -1 if time_of_day == TimeOfDay.EVENING else 0
    best = None
    for magnesium in magnesium_placements(count):
        times = {slug: earliest_time(windows, magnesium) for slug, windows in medications.items()}
        if any(minute is None for minute in times.values()):
            continue
        cost = abs(magnesium[anchor] - target) + sum(times.values())
        if best is None or cost < best[0]:
            best = (cost, magnesium, times)
    return best


def plan_schedule(
    medications: dict[str, list[Window]], *, intakes_per_day: int, time_of_day: str
) -> Schedule:
    timed = {slug: windows for slug, windows in medications.items() if windows}
    count = max(1, min(intakes_per_day, MAX_INTAKES_PER_DAY))
    best = place(timed, count, time_of_day)
    if best is None:
        # The medications whose removal lets the rest fit; all of them if no single one does.
        culprits = tuple(
            slug
            for slug in timed
            if place({s: w for s, w in timed.items() if s != slug}, count, time_of_day)
        )
        return Schedule(feasible=False, times=(), conflicting=culprits or tuple(timed))
    _cost, magnesium, times = best
    entries = [(minute, MAGNESIUM) for minute in magnesium] + [
        (minute, slug) for slug, minute in times.items()
    ]
    return Schedule(feasible=True, times=tuple(sorted(entries)), conflicting=())


def clock(minute_after_waking: int) -> str:
    minute = WAKE_MINUTE + minute_after_waking
    return f"{minute // 60:02d}:{minute % 60:02d}"


def combined_guidance(values: Iterable[str], either: str) -> str:
    """One value for several compounds: the one they share, else ``either``."""
    specific = set(values) - {either}
    return specific.pop() if len(specific) == 1 else either


def intake_guidance(compounds: Sequence[CompoundForm]) -> tuple[str, str]:
    return (
        combined_guidance((c.time_of_day for c in compounds), TimeOfDay.EITHER),
        combined_guidance((c.food_relation for c in compounds), FoodRelation.EITHER),
    )


TIME_OF_DAY_TEXT = {
    TimeOfDay.MORNING: {"en": "in the morning", "nl": "'s ochtends"},
    TimeOfDay.EVENING: {"en": "in the evening", "nl": "'s avonds"},
    TimeOfDay.EITHER: {"en": "in the morning or the evening", "nl": "'s ochtends of 's avonds"},
}
FOOD_TEXT = {
    FoodRelation.EMPTY_STOMACH_PREFERRED: {
        "en": "preferably on an empty stomach",
        "nl": "bij voorkeur op een lege maag",
    },
    FoodRelation.WITH_MEAL: {"en": "with a meal", "nl": "bij de maaltijd"},
    FoodRelation.EITHER: {"en": "with or without food", "nl": "met of zonder eten"},
}


def intake_text(time_of_day: str, food_relation: str) -> str:
    return translated(
        {"en": "Take magnesium {time}, {food}.", "nl": "Neem magnesium {time} in, {food}."},
        time=translated(TIME_OF_DAY_TEXT[TimeOfDay(time_of_day)]),
        food=translated(FOOD_TEXT[FoodRelation(food_relation)]),
    )


def medication_label(medication) -> str:
    """ "fluoroquinolones (ciprofloxacin, moxifloxacin, ...)": the name as a sentence uses it."""
    name = localized(medication, "name")
    name = name[:1].lower() + name[1:]
    return f"{name} ({medication.examples})" if medication.examples else name


def window_text(medication, window: Window) -> str:
    """E.g. "take levothyroxine at least 4 h before or 4 h after magnesium"."""
    label = medication_label(medication)
    before, after = window.drug_before_mg_hours, window.drug_after_mg_hours
    if before is not None and after is not None:
        return translated(
            {
                "en": "take {drug} at least {before} h before or {after} h after magnesium",
                "nl": "neem {drug} minstens {before} uur vóór of {after} uur ná magnesium in",
            },
            drug=label,
            before=decimal_text(before),
            after=decimal_text(after),
        )
    if after is not None:
        return translated(
            {
                "en": "take {drug} at least {after} h after magnesium; taking it before "
                "magnesium is not advised (no sourced window)",
                "nl": "neem {drug} minstens {after} uur ná magnesium in; innemen vóór "
                "magnesium wordt afgeraden (geen onderbouwd venster)",
            },
            drug=label,
            after=decimal_text(after),
        )
    if before is not None:
        return translated(
            {
                "en": "take {drug} at least {before} h before magnesium; taking it after "
                "magnesium is not advised (no sourced window)",
                "nl": "neem {drug} minstens {before} uur vóór magnesium in; innemen ná "
                "magnesium wordt afgeraden (geen onderbouwd venster)",
            },
            drug=label,
            before=decimal_text(before),
        )
    return check_label_text(medication)


def check_label_text(medication) -> str:
    return translated(
        {
            "en": "check the product label of {drug}: no verified window with magnesium",
            "nl": "raadpleeg de productinformatie van {drug}: geen geverifieerd venster met "
            "magnesium",
        },
        drug=medication_label(medication),
    )


def rule_text(rule: InteractionRule) -> str | None:
    """The spacing sentence of a spacing rule; None for monitoring, caution and information."""
    if rule.action != InteractionAction.SPACING:
        return None
    if rule.check_label:
        return check_label_text(rule.medication)
    return window_text(rule.medication, Window(rule.drug_before_mg_hours, rule.drug_after_mg_hours))


MONITORING_MECHANISMS = (Mechanism.DEPLETION, Mechanism.RETENTION)


def schedule_message(schedule: Schedule, names: dict[str, str], intakes_per_day: int) -> str:
    if schedule.feasible:
        return translated(
            {
                "en": "One way to meet every window in a waking day of 07:00-23:00.",
                "nl": "Eén manier om aan alle vensters te voldoen op een dag van 07:00 tot 23:00.",
            }
        )
    return translated(
        {
            "en": "The spacing windows of {drugs} cannot all be met in one waking day "
            "(07:00-23:00) with {count} magnesium intake(s) a day. Discuss the timing or the "
            "choice of medicines with the prescriber instead of following a schedule.",
            "nl": "De innamevensters van {drugs} passen niet allemaal in één dag (07:00-23:00) "
            "met {count} magnesiuminname(s) per dag. Overleg over het tijdstip of de keuze "
            "van de middelen met de voorschrijver in plaats van een schema te volgen.",
        },
        drugs=", ".join(names[slug] for slug in schedule.conflicting),
        count=intakes_per_day,
    )


ACTION_ORDER = ["check_label", "spacing", "general_spacing", "monitoring", "caution", "information"]


def medication_advice(medication, compounds: Sequence[CompoundForm]) -> dict:
    """One medication's part of the plan; ``medication.interaction_rules`` is prefetched."""
    applying = {
        rule.pk: rule
        for compound in compounds
        for rule in rules_for_compound(compound, medication.interaction_rules.all())
    }
    rules = sorted(applying.values(), key=lambda rule: rule.mechanism)
    default_hours = max(compound.default_spacing_hours for compound in compounds)
    if not rules:
        window = Window(default_hours, default_hours)
        sentences = [
            translated(
                {
                    "en": "No specific rule; the general rule for magnesium medicines applies: "
                    "{text}",
                    "nl": "Geen specifieke regel; de algemene regel voor magnesiummiddelen geldt: "
                    "{text}",
                },
                text=window_text(medication, window),
            )
        ]
        actions = ["general_spacing"]
    else:
        sentences = [rule_text(rule) or localized(rule, "advice") for rule in rules]
        actions = sorted(
            {"check_label" if rule.check_label else rule.action.value for rule in rules},
            key=ACTION_ORDER.index,
        )
    return {
        "slug": medication.slug,
        "name": localized(medication, "name"),
        "actions": actions,
        "advice": sentences,
        "rules": rules,
        "windows": timed_windows(rules, default_hours),
    }


def monitoring_flags(medications: Sequence[dict]) -> list[dict]:
    return [
        {
            "medication": entry["slug"],
            "mechanism": rule.mechanism,
            "action": rule.action.value,
            "advice": localized(rule, "advice"),
        }
        for entry in medications
        for rule in entry["rules"]
        if rule.mechanism in MONITORING_MECHANISMS
    ]


def intake_plan(*, compounds: Sequence[CompoundForm], intakes_per_day: int, medications) -> dict:
    """The whole plan for the magnesium in ``compounds`` and the given medications."""
    time_of_day, food_relation = intake_guidance(compounds)
    entries = [medication_advice(medication, compounds) for medication in medications]
    schedule = plan_schedule(
        {entry["slug"]: entry["windows"] for entry in entries},
        intakes_per_day=intakes_per_day,
        time_of_day=time_of_day,
    )
    names = {entry["slug"]: entry["name"] for entry in entries}
    names[MAGNESIUM] = "Magnesium"
    return {
        "intake": {
            "time_of_day": time_of_day,
            "food_relation": food_relation,
            "text": intake_text(time_of_day, food_relation),
            "compounds": compounds,
        },
        "medications": entries,
        "monitoring": monitoring_flags(entries),
        "schedule": {
            "feasible": schedule.feasible,
            "day_start": clock(0),
            "day_end": clock(WAKING_DAY_MINUTES),
            "magnesium_intakes_per_day": max(1, min(intakes_per_day, MAX_INTAKES_PER_DAY)),
            "times": [
                {"time": clock(minute), "take": slug, "name": names[slug]}
                for minute, slug in schedule.times
            ],
            "conflicting": list(schedule.conflicting),
            "message": schedule_message(schedule, names, intakes_per_day),
        },
    }
