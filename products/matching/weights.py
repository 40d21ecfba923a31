"""Every number the match score uses, in one place, each with the reason it has its value.

The score of a product for the asked indications is

    score = 100 * sum of (weight * value)        (the weights add up to 1, every value is 0..1)

over the five components below. products/matching/score.py computes it in Python for the page of
results; products/matching/ranking.py computes the same formula in SQL to rank the whole
catalogue. Both read these constants, and tests/test_matching.py holds the two equal.
"""

from decimal import Decimal

from compounds.enums import EvidenceBasis, EvidenceGrade, LaxativeTendency

D = Decimal

EVIDENCE_WEIGHT = D("0.40")
"""How well the product's compound forms are supported for the asked indications.

The largest share: a customer asks for an indication, so the evidence is the point of the
match. Per asked indication the best evidence link among the product's compounds counts; an
indication the product does not cover counts as 0, so covering two asked indications beats
covering one (multi-indication coverage)."""

DOSE_WEIGHT = D("0.20")
"""How the elemental magnesium per day compares with the effective range (DOSE_CURVE)."""

HEADROOM_WEIGHT = D("0.15")
"""How far the daily amount stays under the supplemental upper limit of the jurisdiction."""

TOLERABILITY_WEIGHT = D("0.15")
"""How likely the product is to loosen the stool: the worst laxative tendency of its forms.

Osmotic diarrhoea is the critical effect behind both upper limits (SCF 2001, IOM 1997)."""

PRICE_WEIGHT = D("0.10")
"""Price per 100 mg elemental magnesium. The smallest share: price never outweighs evidence,
dose or safety, but it separates otherwise equal products."""

WEIGHTS = {
    "evidence": EVIDENCE_WEIGHT,
    "dose": DOSE_WEIGHT,
    "headroom": HEADROOM_WEIGHT,
    "tolerability": TOLERABILITY_WEIGHT,
    "price": PRICE_WEIGHT,
}

GRADE_STRENGTH = {
    EvidenceGrade.A: D("1.00"),
    EvidenceGrade.B: D("0.75"),
    EvidenceGrade.C: D("0.50"),
    EvidenceGrade.D: D("0.25"),
}
"""Evidence value of one compound-indication link by its grade: A consistent trials, B at
least one trial, C observational or mechanistic, D practice recommendation. Equal steps, so
one grade is always worth the same; a D link still counts, since it is why a webshop lists
the form for that use."""

CARRIER_BASIS_FACTOR = {EvidenceBasis.MAGNESIUM: D("1"), EvidenceBasis.CARRIER: D("0.5")}
"""A link that rests on the carrier molecule (glycine, taurine papers) supports the carrier,
not magnesium, so it counts half: a carrier-based B is worth a magnesium-based D + 1/8."""

DOSE_CURVE = ((D("0"), D("0")), (D("200"), D("1")), (D("400"), D("1")), (D("800"), D("0")))
"""(elemental mg per day, value), straight lines between the points, flat beyond the ends.

The effective range is 200-400 mg a day: the trials behind the graded links gave 250 mg
(Schuster 2025) and 300 mg (Pouteau 2018, the 2018 blood-pressure study), and 200 mg allows
for magnesium from food. Above 400 mg the absorbed fraction falls steeply (Fine 1991) and
diarrhoea becomes likely, so the value falls to 0 at 800 mg."""

HEADROOM_COMFORT_SHARE = D("0.8")
"""Up to 80 % of the upper limit the headroom value is 1; from there it falls in a straight
line to 0.5 at the limit itself, and any amount above the limit is worth 0. The 20 % margin
leaves room for magnesium from antacids, laxatives or a second supplement, which the
supplemental limit also counts."""

HEADROOM_AT_LIMIT = D("0.5")
"""The headroom value of a daily amount exactly at the upper limit (still within it)."""

TOLERABILITY = {
    LaxativeTendency.LOW: D("1.0"),
    LaxativeTendency.MODERATE: D("0.6"),
    LaxativeTendency.HIGH: D("0.2"),
}
"""Value by the worst laxative tendency among the product's forms. High marks forms used as
osmotic laxatives (oxide, hydroxide, sulfate); moderate marks forms ODS lists as commonly
causing diarrhoea. Most 'low' ratings are unverified (reference §8.10), hence not 1 vs 0."""

LAXATIVE_FORMS = (LaxativeTendency.HIGH,)
"""Tendencies that ``exclude_laxative=true`` removes: the forms used as osmotic laxatives."""

PRICE_CURVE = ((D("0.05"), D("1")), (D("0.80"), D("0")))
"""(euro per 100 mg elemental magnesium, value). €0.05 or less is about the cheapest oxide
and citrate on the market; €0.80 or more is the dearest niche forms (threonate, orotate)."""

PRICE_UNKNOWN = D("0.5")
"""The price value of a product without a price: the middle, so a missing price neither
rewards nor punishes it."""

LAXATIVE_WARNING_DAILY_MG = D("250")
"""A moderate laxative form gets the laxative warning above this daily amount, the EU upper
limit, which rests on osmotic diarrhoea. High (laxative) forms get it at any amount."""

SCORE_ORDER_PLACES = 6
"""Decimal places of the score that ranking compares; below them SQL (floating point on
SQLite) and Python (Decimal) may differ, so equal scores tie there and the GTIN decides."""
