"""Intake plans for pharmacists: when to take magnesium, and how far from each medication.

The day model, so a pharmacist can check every plan by hand (the response repeats it under
``assumptions``):

- the waking day runs from 07:00 to 23:00 (16 hours); times fall on a 30-minute grid;
- each medication is taken once a day unless the request says otherwise: ``2x`` or ``3x`` a
  day at a fixed interval (twice: 12 h apart, three times: 8 h apart, as "every 12 hours" and
  "every 8 hours" on antibiotic labels), or at the given times (``08:00/20:00``);
- magnesium is taken ``intakes_per_day`` times (one for a compound; a product's servings per
  day, rounded up), at least 4 hours apart;
- for *every* dose of a medication with a spacing rule and *every* magnesium intake, the dose
  comes at least ``drug_before_mg_hours`` before the magnesium or at least
  ``drug_after_mg_hours`` after it; an empty direction means that order is not advised, so it
  is not used; with several rules (a class and its members' overrides) every window holds,
  which is the most conservative of them;
- a medication with no rule at all keeps the compound's general spacing in both directions;
- a medication its label wants taken alone (oral bisphosphonates: first thing, fasting, and
  nothing else for 30 or 60 minutes) is the first intake of the day, and every other intake,
  magnesium and medicines alike, comes at least that long after it; two such medicines cannot
  both be first, so they collide;
- monitoring, caution and information rules and "check the label" rules set no times.

The plan tries every placement of the magnesium intakes, puts each medication's first dose at
the earliest time its windows allow, and keeps the placement with the least total of (minutes
between the magnesium and its preferred time: 08:00 for the morning or either, 21:00 for the
evening) plus (minutes after waking of each medication's first dose), since the drugs concerned
are mostly taken on waking; ties go to the earliest. When no placement meets every window, the
plan says so and names the intakes that collide; it never prints an impossible schedule.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import combinations, pairwise

from compounds.enums import FoodRelation, InteractionAction, Mechanism, TimeOfDay
from compounds.medications import MedicationIndex
from compounds.models import CompoundForm, InteractionRule
from compounds.selectors import rules_for_compound
from formulary.common.localization import localized, translated
from formulary.common.numbers import decimal_text
from formulary.enums import MedicationKind

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
# Doses a day -> minutes between doses: "every 12 hours", "every 8 hours".
DOSE_INTERVAL_MINUTES = {1: 0, 2: 12 * 60, 3: 8 * 60}
MAX_GIVEN_TIMES = 4


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


class DosingError(ValueError):
    """A medication's dosing that cannot be read, with a stable code."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Dosing:
    """How often a medication is taken: ``doses_per_day`` at the fixed interval, or at ``times``
    (minutes after waking). ``stated``: the request said so; otherwise once a day is assumed."""

    doses_per_day: int = 1
    times: tuple[int, ...] | None = None
    stated: bool = False

    @property
    def interval_minutes(self) -> int | None:
        return None if self.times is not None else DOSE_INTERVAL_MINUTES[self.doses_per_day]


FREQUENCY = re.compile(r"^([1-3])x$")
CLOCK = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")


def parse_medication(text: str) -> tuple[str, Dosing]:
    """``ciprofloxacin``, ``ciprofloxacin:2x`` or ``levothyroxine:07:00/19:00`` -> (name, dosing).

    The name is everything before the first colon; the rest is ``1x``-``3x`` a day, or up to
    four clock times in the waking day joined by ``/``."""
    name, colon, spec = text.partition(":")
    name = name.strip()
    if not name:
        raise DosingError("invalid_dosing", f"{text!r}: the medication's name is missing.")
    if not colon:
        return name, Dosing()
    spec = spec.strip().lower()
    frequency = FREQUENCY.match(spec)
    if frequency:
        return name, Dosing(doses_per_day=int(frequency.group(1)), stated=True)
    times = []
    for part in spec.split("/"):
        matched = CLOCK.match(part.strip())
        if not matched:
            raise DosingError(
                "invalid_dosing",
                f"{text!r}: give how often (1x, 2x or 3x) or clock times such as 08:00/20:00.",
            )
        minute = int(matched.group(1)) * 60 + int(matched.group(2)) - WAKE_MINUTE
        if not 0 <= minute <= WAKING_DAY_MINUTES:
            raise DosingError(
                "outside_waking_day",
                f"{text!r}: {part.strip()} is outside the waking day of "
                f"{clock(0)}-{clock(WAKING_DAY_MINUTES)}.",
            )
        times.append(minute)
    if len(times) > MAX_GIVEN_TIMES or times != sorted(set(times)):
        raise DosingError(
            "invalid_dosing",
            f"{text!r}: give at most {MAX_GIVEN_TIMES} different times, earliest first.",
        )
    return name, Dosing(doses_per_day=len(times), times=tuple(times), stated=True)


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
class Timing:
    """What the schedule needs to know of one medication."""

    windows: tuple[Window, ...] = ()
    dosing: Dosing = field(default_factory=Dosing)
    alone_minutes: int | None = None

    @property
    def constrained(self) -> bool:
        return bool(self.windows) or self.alone_minutes is not None


@dataclass(frozen=True)
class Schedule:
    feasible: bool
    times: tuple[tuple[int, str], ...]
    """(minutes after waking, "magnesium" or a medication slug), in time order."""
    conflicting: tuple[str, ...]
    collisions: tuple[tuple[str, ...], ...] = ()
    """Groups of intakes that cannot all be placed: magnesium with one medication, or with two."""


def dose_minutes(dosing: Dosing, first: int) -> tuple[int, ...]:
    if dosing.times is not None:
        return dosing.times
    return tuple(first + i * dosing.interval_minutes for i in range(dosing.doses_per_day))


def first_dose_slots(dosing: Dosing, not_before: int):
    if dosing.times is not None:
        if dosing.times[0] >= not_before:
            yield dosing.times[0]
        return
    last_offset = (dosing.doses_per_day - 1) * dosing.interval_minutes
    for slot in SLOTS:
        if slot >= not_before and slot + last_offset <= WAKING_DAY_MINUTES:
            yield slot


def earliest_doses(timing: Timing, magnesium: Sequence[int], not_before: int):
    for first in first_dose_slots(timing.dosing, not_before):
        doses = dose_minutes(timing.dosing, first)
        if all(
            window.allows(dose, m) for window in timing.windows for dose in doses for m in magnesium
        ):
            return doses
    return None


def magnesium_placements(count: int):
    for placement in combinations(SLOTS, count):
        if all(b - a >= MIN_MAGNESIUM_GAP_MINUTES for a, b in pairwise(placement)):
            yield placement


def place_for(magnesium: Sequence[int], medications: dict[str, Timing]):
    """{slug: dose minutes} for one magnesium placement, or None when something does not fit."""
    alone = [slug for slug, timing in medications.items() if timing.alone_minutes is not None]
    if len(alone) > 1:
        return None
    times, not_before = {}, 0
    for slug in alone:
        timing = medications[slug]
        for first in first_dose_slots(timing.dosing, 0):
            doses = dose_minutes(timing.dosing, first)
            end = doses[0] + timing.alone_minutes
            if all(m >= end for m in magnesium) and all(
                window.allows(dose, m)
                for window in timing.windows
                for dose in doses
                for m in magnesium
            ):
                times[slug], not_before = doses, end
                break
        else:
            return None
    for slug, timing in medications.items():
        if slug in times:
            continue
        doses = earliest_doses(timing, magnesium, not_before)
        if doses is None:
            return None
        times[slug] = doses
    return times


def place(medications: dict[str, Timing], count: int, time_of_day: str):
    """(cost, magnesium minutes, {slug: dose minutes}) of the best placement; None if none fits."""
    target = PREFERRED_MINUTE[TimeOfDay(time_of_day)]
    anchor = -1 if time_of_day == TimeOfDay.EVENING else 0
    best = None
    for magnesium in magnesium_placements(count):
        times = place_for(magnesium, medications)
        if times is None:
            continue
        cost = abs(magnesium[anchor] - target) + sum(doses[0] for doses in times.values())
        if best is None or cost < best[0]:
            best = (cost, magnesium, times)
    return best


def collisions(medications: dict[str, Timing], count: int, time_of_day: str):
    """The smallest groups that do not fit: magnesium with one medication, else with two."""

    def fits(slugs):
        return place({s: medications[s] for s in slugs}, count, time_of_day) is not None

    alone = [(MAGNESIUM, slug) for slug in medications if not fits([slug])]
    if alone:
        return tuple(alone)
    pairs = [(MAGNESIUM, a, b) for a, b in combinations(medications, 2) if not fits([a, b])]
    return tuple(pairs) or ((MAGNESIUM, *medications),)


def plan_schedule(
    medications: dict[str, Timing | list[Window]], *, intakes_per_day: int, time_of_day: str
) -> Schedule:
    timings = {
        slug: value if isinstance(value, Timing) else Timing(windows=tuple(value))
        for slug, value in medications.items()
    }
    timed = {slug: timing for slug, timing in timings.items() if timing.constrained}
    count = max(1, min(intakes_per_day, MAX_INTAKES_PER_DAY))
    best = place(timed, count, time_of_day)
    if best is None:
        groups = collisions(timed, count, time_of_day)
        culprits = tuple(dict.fromkeys(s for group in groups for s in group if s != MAGNESIUM))
        return Schedule(feasible=False, times=(), conflicting=culprits, collisions=groups)
    _cost, magnesium, times = best
    entries = [(minute, MAGNESIUM) for minute in magnesium] + [
        (minute, slug) for slug, doses in times.items() for minute in doses
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


def medication_label(medication, members: Sequence[str] = ()) -> str:
    """ "fluoroquinolones (ciprofloxacin, levofloxacin)": the name as a sentence uses it.

    Class and substance names are common nouns (lower case in a sentence); a combination
    product's name is a brand and keeps its capitals."""
    name = localized(medication, "name")
    if medication.kind != MedicationKind.COMBINATION:
        name = name[:1].lower() + name[1:]
        members = [member[:1].lower() + member[1:] for member in members]
    return f"{name} ({', '.join(members)})" if members else name


def window_text(label: str, window: Window) -> str:
    """E.g. "take levothyroxine at least 4 h before or 4 h after magnesium"."""
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
    return check_label_text(label)


def check_label_text(label: str) -> str:
    return translated(
        {
            "en": "check the product label of {drug}: no verified window with magnesium",
            "nl": "raadpleeg de productinformatie van {drug}: geen geverifieerd venster met "
            "magnesium",
        },
        drug=label,
    )


def alone_text(label: str, minutes: int) -> str:
    return translated(
        {
            "en": "take {drug} first thing in the day, fasting, with plain water only, and "
            "nothing else (food, drink, magnesium or other medicines) for at least {minutes} "
            "minutes",
            "nl": "neem {drug} als eerste van de dag in, nuchter, alleen met water, en daarna "
            "minstens {minutes} minuten niets anders (eten, drinken, magnesium of andere "
            "geneesmiddelen)",
        },
        drug=label,
        minutes=minutes,
    )


def rule_subject(rule: InteractionRule, asked, index: MedicationIndex) -> str:
    """Whom a rule's sentence names: the asked medication when it inherits the rule from its
    class, else the rule's own row (a class's spacing rule with the members that keep it)."""
    own = index.by_slug[rule.medication.slug]
    if own.pk != asked.pk and own.pk in {row.pk for row in index.lineage(asked)}:
        return medication_label(asked)
    if own.kind == MedicationKind.CLASS and rule.action == InteractionAction.SPACING:
        # Which members the window holds for: one with its own label window is not among them.
        return medication_label(own, index.members_following(own, rule))
    return medication_label(own)


def rule_text(rule: InteractionRule, subject: str) -> str | None:
    """The spacing sentence of a spacing rule; None for monitoring, caution and information."""
    if rule.action != InteractionAction.SPACING:
        return None
    if rule.check_label:
        return check_label_text(subject)
    return window_text(subject, Window(rule.drug_before_mg_hours, rule.drug_after_mg_hours))


MONITORING_MECHANISMS = (Mechanism.DEPLETION, Mechanism.RETENTION)


def collision_text(group: Sequence[str], names: dict[str, str]) -> str:
    return " + ".join(names[slug] for slug in group)


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
            "(07:00-23:00) with {count} magnesium intake(s) a day; these intakes collide: "
            "{groups}. Discuss the timing or the choice of medicines with the prescriber "
            "instead of following a schedule.",
            "nl": "De innamevensters van {drugs} passen niet allemaal in één dag (07:00-23:00) "
            "met {count} magnesiuminname(s) per dag; deze innames botsen: {groups}. Overleg "
            "over het tijdstip of de keuze van de middelen met de voorschrijver in plaats van "
            "een schema te volgen.",
        },
        drugs=", ".join(names[slug] for slug in schedule.conflicting),
        count=intakes_per_day,
        groups="; ".join(collision_text(group, names) for group in schedule.collisions),
    )


ACTION_ORDER = [
    "check_label",
    "spacing",
    "general_spacing",
    "taken_alone",
    "monitoring",
    "caution",
    "information",
]


def medication_advice(
    medication, compounds: Sequence[CompoundForm], index: MedicationIndex, dosing: Dosing
) -> dict:
    """One medication's part of the plan: its rules in force, sentences, windows and dosing."""
    in_force = index.rules_for(medication)
    applying = {
        rule.pk: rule for compound in compounds for rule in rules_for_compound(compound, in_force)
    }
    rules = [rule for rule in in_force if rule.pk in applying]
    default_hours = max(compound.default_spacing_hours for compound in compounds)
    alone = index.taken_alone(medication)
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
                text=window_text(medication_label(medication), window),
            )
        ]
        actions = {"general_spacing"}
    else:
        sentences = [
            rule_text(rule, rule_subject(rule, medication, index)) or localized(rule, "advice")
            for rule in rules
        ]
        actions = {"check_label" if rule.check_label else rule.action.value for rule in rules}
    if alone:
        sentences.append(alone_text(medication_label(medication), alone[0]))
        actions.add("taken_alone")
    return {
        "slug": medication.slug,
        "name": localized(medication, "name"),
        "kind": medication.kind,
        "actions": sorted(actions, key=ACTION_ORDER.index),
        "advice": sentences,
        "rules": rules,
        "taken_alone": None
        if alone is None
        else {
            "minutes": alone[0],
            "stated_by": alone[1].slug,
            "references": list(alone[1].medicationcitation_set.all()),
        },
        "dosing": dosing,
        "timing": Timing(
            windows=tuple(timed_windows(rules, default_hours)),
            dosing=dosing,
            alone_minutes=None if alone is None else alone[0],
        ),
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


FREQUENCY_TEXT = {
    1: {"en": "once a day", "nl": "eenmaal per dag"},
    2: {"en": "twice a day, 12 h apart", "nl": "tweemaal per dag, 12 uur na elkaar"},
    3: {"en": "three times a day, 8 h apart", "nl": "driemaal per dag, 8 uur na elkaar"},
}


def dosing_text(name: str, dosing: Dosing) -> str:
    if dosing.times is not None:
        how = translated(
            {"en": "at {times}", "nl": "om {times}"},
            times=", ".join(clock(minute) for minute in dosing.times),
        )
    else:
        how = translated(FREQUENCY_TEXT[dosing.doses_per_day])
    source = (
        {"en": "as asked", "nl": "zoals gevraagd"}
        if dosing.stated
        else {"en": "assumed: no frequency given", "nl": "aangenomen: geen frequentie opgegeven"}
    )
    return translated(
        {"en": "{name}: {how} ({source}).", "nl": "{name}: {how} ({source})."},
        name=name,
        how=how,
        source=translated(source),
    )


def assumptions(entries: Sequence[dict], magnesium_count: int) -> dict:
    """What the schedule assumed, as data and as sentences a pharmacist can check."""
    day = translated(
        {
            "en": "The waking day runs from {start} to {end}; times fall on a {grid}-minute grid.",
            "nl": "De dag loopt van {start} tot {end}; tijden vallen op een raster van {grid} "
            "minuten.",
        },
        start=clock(0),
        end=clock(WAKING_DAY_MINUTES),
        grid=GRID_MINUTES,
    )
    magnesium = translated(
        {
            "en": "Magnesium: {count} intake(s) a day, at least {gap} h apart.",
            "nl": "Magnesium: {count} inname(s) per dag, minstens {gap} uur na elkaar.",
        },
        count=magnesium_count,
        gap=MIN_MAGNESIUM_GAP_MINUTES // 60,
    )
    rule = translated(
        {
            "en": "Every dose of a medication keeps its window with every magnesium intake; "
            "where several rules apply, every window is kept (the most conservative).",
            "nl": "Elke dosis van een geneesmiddel houdt zijn venster met elke magnesiuminname; "
            "gelden meerdere regels, dan worden alle vensters gehouden (de strengste).",
        }
    )
    return {
        "day_start": clock(0),
        "day_end": clock(WAKING_DAY_MINUTES),
        "grid_minutes": GRID_MINUTES,
        "magnesium_intakes_per_day": magnesium_count,
        "magnesium_min_gap_hours": MIN_MAGNESIUM_GAP_MINUTES // 60,
        "medications": [
            {
                "medication": entry["slug"],
                "doses_per_day": entry["dosing"].doses_per_day,
                "interval_hours": None
                if entry["dosing"].interval_minutes in (None, 0)
                else entry["dosing"].interval_minutes // 60,
                "times": None
                if entry["dosing"].times is None
                else [clock(minute) for minute in entry["dosing"].times],
                "stated": entry["dosing"].stated,
            }
            for entry in entries
        ],
        "text": [day, magnesium, rule]
        + [dosing_text(entry["name"], entry["dosing"]) for entry in entries],
    }


def intake_plan(
    *,
    compounds: Sequence[CompoundForm],
    intakes_per_day: int,
    medications: Sequence[tuple],
    index: MedicationIndex,
    others: Sequence[tuple[str, str, Timing]] = (),
) -> dict:
    """The whole plan for the magnesium in ``compounds`` and ``medications`` ((medication,
    dosing) pairs). ``others``: (slug, name, timing) of further intakes the schedule places
    under the same rules, such as another supplement with its own window (products.regimen)."""
    time_of_day, food_relation = intake_guidance(compounds)
    entries = [
        medication_advice(medication, compounds, index, dosing)
        for medication, dosing in medications
    ]
    count = max(1, min(intakes_per_day, MAX_INTAKES_PER_DAY))
    schedule = plan_schedule(
        {entry["slug"]: entry["timing"] for entry in entries}
        | {slug: timing for slug, _name, timing in others},
        intakes_per_day=count,
        time_of_day=time_of_day,
    )
    names = {entry["slug"]: entry["name"] for entry in entries}
    names |= {slug: name for slug, name, _timing in others}
    names[MAGNESIUM] = "Magnesium"
    dose_number: dict[str, int] = {}
    times = []
    for minute, slug in schedule.times:
        dose_number[slug] = dose_number.get(slug, 0) + 1
        times.append(
            {"time": clock(minute), "take": slug, "name": names[slug], "dose": dose_number[slug]}
        )
    return {
        "intake": {
            "time_of_day": time_of_day,
            "food_relation": food_relation,
            "text": intake_text(time_of_day, food_relation),
            "compounds": compounds,
        },
        "medications": entries,
        "monitoring": monitoring_flags(entries),
        "assumptions": assumptions(entries, count),
        "schedule": {
            "feasible": schedule.feasible,
            "day_start": clock(0),
            "day_end": clock(WAKING_DAY_MINUTES),
            "magnesium_intakes_per_day": count,
            "times": times,
            "conflicting": list(schedule.conflicting),
            "collisions": [list(group) for group in schedule.collisions],
            "message": schedule_message(schedule, names, count),
        },
    }
