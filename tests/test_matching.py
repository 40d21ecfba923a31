"""products/match/: ranking on constructed catalogues, explanations, the SQL and Python score
held equal, the stored match rows kept current on every write path, errors and query counts."""

import importlib
import io
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from django.db import connection
from django.utils import translation
from rest_framework.renderers import JSONRenderer

from compounds.models import Carrier, CompoundForm, CompoundIndication, EvidenceCitation
from formulary.citations import short_citation
from formulary.models import Indication, Reference
from formulary.selectors import adult_upper_limit
from products.api.match import MatchSerializer, match_row
from products.enums import AmountBasis, ProductStatus
from products.gtin import gs1_check_digit
from products.knowledge import knowledge, population_knowledge
from products.matching import score as matching
from products.matching import weights as match_weights
from products.matching.explain import MatchRequest, compound_forms, explain, prefetch_page
from products.matching.index import product_indications_rebuild
from products.matching.ranking import ranked_matches
from products.models import Brand, CatalogueChange, IngredientLine, Product, ProductIndication
from products.populations import cautions_for, population_for
from products.services import IngredientInput, product_upsert

pytestmark = pytest.mark.django_db

URL = "/api/v1/products/match/"
BRAND = "matchmerk"


def gtin(serial: int) -> str:
    data = f"20998{serial:07d}"
    return f"{data}{gs1_check_digit(data)}"


def make_compound(slug, *, laxative="low", laxative_status="verified", links=()):
    """A chloride-like form whose only differences are the ones a test names."""
    compound = CompoundForm(
        slug=slug,
        name_nl=slug,
        name_en=slug.replace("-", " ").capitalize(),
        formula="MgCl2",
        classification="inorganic",
        carrier=Carrier.objects.get(slug="chloride"),
        needs_stomach_acid="no",
        laxative_tendency=laxative,
        laxative_status=laxative_status,
        default_spacing_hours=Decimal(3),
    )
    compound.full_clean()
    compound.save()
    for indication, grade, basis in links:
        link(compound, indication, grade, basis)
    return compound


def link(compound, indication, grade, basis="magnesium", status="verified"):
    return CompoundIndication.objects.create(
        compound=compound,
        indication=Indication.objects.get(slug=indication),
        grade=grade,
        basis=basis,
        rationale_nl="test",
        rationale_en="test",
        status=status,
    )


def make_product(serial, lines, *, per_day="200", price="10.00", servings="1"):
    """A published product of the test brand; ``lines`` are compounds with a share each."""
    product, _ = product_upsert(
        gtin=gtin(serial),
        fields={
            "brand": Brand.objects.get_or_create(slug=BRAND, name="Matchmerk")[0],
            "name": f"Product {serial}",
            "dosage_form": "capsule",
            "units_per_package": 100,
            "units_per_serving": Decimal(1),
            "servings_per_day": Decimal(servings),
            "status": ProductStatus.PUBLISHED,
            "price_eur": None if price is None else Decimal(price),
        },
        ingredients=[
            IngredientInput(
                compound=compound,
                amount_mg=Decimal(per_day) * Decimal(share) / Decimal(servings),
                amount_basis=AmountBasis.ELEMENTAL,
            )
            for compound, share in lines
        ],
        nutrients=[],
    )
    return product


def results(client, query, status=200):
    response = client.get(f"{URL}?brand={BRAND}&{query}")
    assert response.status_code == status, response.content
    return response.json()["results"]


def by_gtin(rows):
    return {row["gtin"]: row for row in rows}


def codes(row):
    return [warning["code"] for warning in row["warnings"]]


def test_match_higher_grade_outranks_lower_grade_at_equal_dose(client):
    strong = make_compound("test-strong", links=[("sleep", "B", "magnesium")])
    weak = make_compound("test-weak", links=[("sleep", "D", "magnesium")])
    low = make_product(1, [(weak, 1)])
    high = make_product(2, [(strong, 1)])

    rows = results(client, "indication=sleep")

    assert [row["gtin"] for row in rows] == [high.gtin, low.gtin]
    assert by_gtin(rows)[high.gtin]["factors"]["evidence"]["value"] == 0.75
    assert by_gtin(rows)[low.gtin]["factors"]["evidence"]["value"] == 0.25
    assert rows[0]["score"] - rows[1]["score"] == pytest.approx(0.5 * 40, abs=0.11)


def test_match_carrier_based_link_counts_half_of_a_magnesium_based_one(client):
    carrier = make_compound("test-carrier", links=[("sleep", "B", "carrier")])
    product = make_product(1, [(carrier, 1)])

    row = results(client, "indication=sleep")[0]

    assert row["gtin"] == product.gtin
    assert row["factors"]["evidence"]["value"] == 0.375


def test_match_over_the_upper_limit_loses_headroom_and_gets_the_warning(client):
    form = make_compound("test-form", links=[("sleep", "B", "magnesium")])
    within = make_product(1, [(form, 1)], per_day="200")
    over = make_product(2, [(form, 1)], per_day="300", servings="2")

    rows = by_gtin(results(client, "indication=sleep"))

    assert rows[within.gtin]["factors"]["headroom"]["value"] == 1.0
    assert rows[over.gtin]["factors"]["headroom"]["value"] == 0.0
    assert rows[over.gtin]["factors"]["dose"]["value"] == 1.0
    assert "upper_limit_exceeded" in codes(rows[over.gtin])
    assert "upper_limit_exceeded" not in codes(rows[within.gtin])
    assert rows[within.gtin]["score"] > rows[over.gtin]["score"]
    assert (
        "300 mg elemental magnesium a day is above the EU supplemental upper limit of 250 mg"
        in results(client, "indication=sleep&lang=en")[1]["reasons"]
    )


def test_match_headroom_follows_the_jurisdiction(client):
    form = make_compound("test-form", links=[("sleep", "B", "magnesium")])
    product = make_product(1, [(form, 1)], per_day="300", servings="2")

    eu = results(client, "indication=sleep&jurisdiction=eu")[0]
    us = results(client, "indication=sleep&jurisdiction=us")[0]

    assert (eu["gtin"], us["gtin"]) == (product.gtin, product.gtin)
    assert "upper_limit_exceeded" in codes(eu)
    assert "upper_limit_exceeded" not in codes(us)
    # 300 mg is between 80 % (280 mg) and 100 % of the US limit of 350 mg.
    assert us["factors"]["headroom"]["value"] == pytest.approx(1 - 0.5 * 20 / 70, abs=0.001)


def test_match_one_intake_above_half_the_eu_limit_gets_the_split_warning(client):
    form = make_compound("test-form", links=[("sleep", "B", "magnesium")])
    once = make_product(1, [(form, 1)], per_day="200")
    twice = make_product(2, [(form, 1)], per_day="200", servings="2")

    rows = by_gtin(results(client, "indication=sleep"))

    assert "split_daily_dose" in codes(rows[once.gtin])
    assert "split_daily_dose" not in codes(rows[twice.gtin])
    assert "split_daily_dose" not in codes(results(client, "indication=sleep&jurisdiction=us")[0])


def test_match_laxative_form_drops_with_exclude_laxative(client):
    gentle = make_compound("test-gentle", links=[("sleep", "D", "magnesium")])
    laxative = make_compound("test-laxative", laxative="high", links=[("sleep", "B", "magnesium")])
    kept = make_product(1, [(gentle, 1)])
    dropped = make_product(2, [(gentle, Decimal("0.5")), (laxative, Decimal("0.5"))])

    every = by_gtin(results(client, "indication=sleep"))
    excluded = results(client, "indication=sleep&exclude_laxative=true")

    assert set(every) == {kept.gtin, dropped.gtin}
    assert every[dropped.gtin]["factors"]["tolerability"]["value"] == 0.2
    assert "laxative_tendency" in codes(every[dropped.gtin])
    assert [row["gtin"] for row in excluded] == [kept.gtin]
    assert set(by_gtin(results(client, "indication=sleep&exclude_laxative=false"))) == set(every)


def test_match_multi_indication_coverage_counts_and_equal_scores_tie_on_gtin(client):
    both = make_compound(
        "test-both", links=[("sleep", "B", "magnesium"), ("stress", "B", "magnesium")]
    )
    one = make_compound("test-one", links=[("sleep", "B", "magnesium")])
    covers_one = make_product(1, [(one, 1)])
    covers_both = make_product(2, [(both, 1)])

    two_asked = results(client, "indication=sleep,stress")
    sleep_only = results(client, "indication=sleep")

    assert [row["gtin"] for row in two_asked] == [covers_both.gtin, covers_one.gtin]
    assert two_asked[0]["covered_indications"] == ["sleep", "stress"]
    assert two_asked[1]["covered_indications"] == ["sleep"]
    assert (
        two_asked[0]["factors"]["evidence"]["value"],
        two_asked[1]["factors"]["evidence"]["value"],
    ) == (0.75, 0.375)
    assert (
        "No compound in this product is linked to stress and anxiety"
        in results(client, "indication=sleep,stress&lang=en")[1]["reasons"]
    )
    # For sleep alone the two score the same, so the GTIN decides.
    assert sleep_only[0]["score"] == sleep_only[1]["score"]
    assert [row["gtin"] for row in sleep_only] == sorted([covers_one.gtin, covers_both.gtin])


def test_match_indication_match_all_keeps_only_products_covering_every_indication(client):
    both = make_compound(
        "test-both", links=[("sleep", "B", "magnesium"), ("stress", "B", "magnesium")]
    )
    one = make_compound("test-one", links=[("sleep", "B", "magnesium")])
    covers_both = make_product(1, [(both, 1)])
    make_product(2, [(one, 1)])

    rows = results(client, "indication=sleep,stress&indication_match=all")

    assert [row["gtin"] for row in rows] == [covers_both.gtin]


def test_match_a_product_without_a_linked_compound_is_not_a_match(client):
    unlinked = make_compound("test-unlinked", links=[("energy", "A", "magnesium")])
    make_product(1, [(unlinked, 1)])

    assert results(client, "indication=sleep") == []


def test_match_max_daily_amount_and_catalogue_filters_narrow_the_matches(client):
    form = make_compound("test-form", links=[("sleep", "B", "magnesium")])
    small = make_product(1, [(form, 1)], per_day="100")
    make_product(2, [(form, 1)], per_day="300")

    rows = results(client, "indication=sleep&max_daily_elemental_mg=150&dosage_form=capsule")

    assert [row["gtin"] for row in rows] == [small.gtin]
    assert results(client, "indication=sleep&dosage_form=tablet") == []


def test_match_price_per_100mg_scores_the_cheaper_product_higher(client):
    form = make_compound("test-form", links=[("sleep", "B", "magnesium")])
    cheap = make_product(1, [(form, 1)], price="10.00")
    dear = make_product(2, [(form, 1)], price="100.00")
    unpriced = make_product(3, [(form, 1)], price=None)

    rows = by_gtin(results(client, "indication=sleep&lang=en"))

    # 100 units of 200 mg = 20,000 mg: €0.05 and €0.50 per 100 mg.
    assert rows[cheap.gtin]["factors"]["price"]["value"] == 1.0
    assert rows[dear.gtin]["factors"]["price"]["value"] == pytest.approx(0.4, abs=0.001)
    assert rows[unpriced.gtin]["factors"]["price"]["value"] == 0.5
    assert "€0.5 per 100 mg elemental magnesium" in rows[dear.gtin]["reasons"]
    assert "No price known" in rows[unpriced.gtin]["reasons"]


def test_match_medications_give_spacing_monitoring_and_label_warnings(client):
    form = make_compound("test-form", links=[("sleep", "B", "magnesium")])
    make_product(1, [(form, 1)])

    row = results(
        client,
        "indication=sleep&lang=en&medication=levothyroxine,proton-pump-inhibitors,"
        "integrase-inhibitors-other,potassium-sparing-diuretics,calcium-channel-blockers",
    )[0]

    by_code = {warning["code"]: warning["message"] for warning in row["warnings"]}
    assert by_code["medication_spacing"] == (
        "Take levothyroxine at least 4 h before or 4 h after magnesium."
    )
    assert by_code["medication_check_label"].startswith(
        "Check the product label of other integrase inhibitors"
    )
    assert by_code["medication_monitoring"].startswith("Proton-pump inhibitors: Long-term PPI use")
    assert by_code["medication_caution"].startswith("Potassium-sparing diuretics: ")
    assert by_code["medication_information"].startswith("Calcium-channel blockers: ")


@pytest.mark.parametrize(
    ("medication", "messages"),
    [
        ("moxifloxacin", ["Take moxifloxacin at least 4 h before or 8 h after magnesium."]),
        ("Avelox", ["Take moxifloxacin at least 4 h before or 8 h after magnesium."]),
        (
            "juluca",
            ["Take Juluca (dolutegravir/rilpivirine) at least 4 h before or 6 h after magnesium."],
        ),
        ("Ciproxin", ["Take ciprofloxacin at least 2 h before or 6 h after magnesium."]),
        (
            "fluoroquinolones",
            [
                "Take fluoroquinolones (ciprofloxacin, levofloxacin, ofloxacin) at least 2 h "
                "before or 6 h after magnesium.",
                "Take moxifloxacin at least 4 h before or 8 h after magnesium.",
            ],
        ),
        (
            "alendronate",
            ["Take alendronic acid (alendronate) at least 4 h before or 4 h after magnesium."],
        ),
    ],
)
def test_match_medication_warnings_give_the_label_windows(client, medication, messages):
    form = make_compound("test-form", links=[("sleep", "B", "magnesium")])
    make_product(1, [(form, 1)])

    row = results(client, f"indication=sleep&lang=en&medication={medication}")[0]

    assert [w["message"] for w in row["warnings"] if w["code"] == "medication_spacing"] == messages


def test_match_unverified_data_is_named_in_a_warning(client):
    form = make_compound("test-form", laxative_status="unverified")
    link(form, "sleep", "B", status="unverified")
    make_product(1, [(form, 1)])

    row = results(client, "indication=sleep&lang=en")[0]

    assert {
        "code": "unverified_data",
        "message": "Not verified in the sources: evidence Test "
        "form for sleep quality (unverified); laxative tendency of Test form (unverified).",
    } in row["warnings"]


def test_match_every_evidence_reason_names_compound_carrier_grade_basis_and_sources(client):
    rows = client.get(f"{URL}?indication=sleep,stress,heart-vessels&lang=en&page_size=100")
    assert rows.status_code == 200
    products = {p.gtin: p for p in Product.objects.prefetch_related("ingredients__compound")}

    checked = 0
    for row in rows.json()["results"]:
        compounds = [line.compound for line in products[row["gtin"]].ingredients.all()]
        links = (
            CompoundIndication.objects.filter(
                compound__in=compounds, indication__slug__in=row["covered_indications"]
            )
            .select_related("compound__carrier", "indication")
            .prefetch_related("references")
        )
        expected = set()
        for evidence in links:
            subject = (
                evidence.compound.carrier.name_en.lower()
                if evidence.basis == "carrier"
                else "magnesium"
            )
            sources = (
                ", ".join(short_citation(r) for r in evidence.references.all()) or "no source cited"
            )
            expected.add(
                f"{evidence.compound.name_en}: {subject} for {evidence.indication.name_en.lower()} "
                f"(evidence {evidence.grade}, {evidence.basis}-based; {sources})"
            )
        evidence_reasons = [r for r in row["reasons"] if "(evidence " in r]
        assert len(evidence_reasons) == len(row["covered_indications"])
        assert set(evidence_reasons) <= expected
        # The sentence shows the daily amount exactly as the result's own field does.
        mg = f"{row['elemental_mg_per_day']:g}"
        assert f"{mg} mg elemental magnesium a day is" in " ".join(row["reasons"])
        checked += 1
    assert checked > 5
    assert (
        "Magnesium bisglycinate (glycinate, diglycinate): magnesium for sleep quality "
        "(evidence B, magnesium-based; Schuster 2025)"
        in {reason for row in rows.json()["results"] for reason in row["reasons"]}
    )


def test_match_texts_follow_the_request_language(client):
    form = make_compound("test-form", links=[("sleep", "B", "carrier")])
    make_product(1, [(form, 1)], per_day="300", servings="2")

    row = results(client, "indication=sleep")[0]

    assert (
        row["reasons"][0] == "test-form: chloride bij slaapkwaliteit (bewijs B, op basis van "
        "de drager; geen bron)"
    )
    assert (
        "300 mg elementair magnesium per dag ligt boven de EU-bovengrens voor supplementen "
        "van 250 mg" in row["reasons"]
    )


INDICATION_SETS = [
    ["sleep"],
    ["sleep", "stress"],
    ["heart-vessels", "sport", "energy"],
    ["constipation", "cramps"],
]


@pytest.mark.parametrize("slugs", INDICATION_SETS)
@pytest.mark.parametrize("jurisdiction", ["eu", "us"])
def test_match_score_sql_equals_python_on_every_demo_product(slugs, jurisdiction):
    """The one formula, twice: products/matching/ranking.py (SQL) and products/matching/score.py."""
    limit = adult_upper_limit(jurisdiction)
    indications = [Indication.objects.get(slug=slug) for slug in slugs]
    ranked = list(
        ranked_matches(
            Product.objects.all(),
            indication_ids=[i.pk for i in indications],
            limit_mg=limit.amount_mg,
        )
    )
    prefetch_page(ranked, slugs)
    request = MatchRequest(
        indications=indications, limit=limit, jurisdiction=jurisdiction, rules=[]
    )

    python_scores = {p.gtin: explain(p, request)["score"] for p in ranked}

    assert len(ranked) > 3
    for product in ranked:
        assert float(python_scores[product.gtin]) == pytest.approx(product.match_score, abs=1e-9)
    assert [p.gtin for p in ranked] == sorted(
        python_scores, key=lambda g: matching.rank_key(python_scores[g], g)
    )


MATCH_REQUESTS = [
    # (indications, jurisdiction, population, medications, renal, language)
    (["sleep"], "eu", None, [], None, "nl"),
    (["sleep", "stress"], "us", "child-4-8", ["levothyroxine", "digoxin"], "severe", "en"),
    (["heart-vessels", "sport", "energy"], "eu", "child-1-3", ["levothyroxine"], None, "en"),
    (["constipation", "cramps"], "us", "pregnancy", [], "severe", "nl"),
]


@pytest.mark.parametrize(
    ("slugs", "jurisdiction", "population", "medications", "renal", "language"), MATCH_REQUESTS
)
def test_match_rows_render_exactly_what_the_match_serializer_renders(
    slugs, jurisdiction, population, medications, renal, language
):
    """products.api.match.match_row writes the page without the serializer; MatchSerializer
    stays what the OpenAPI schema is made from, so the two must give the same bytes."""
    populations = population_knowledge()
    asked = population_for(populations, population)
    indications = [Indication.objects.get(slug=slug) for slug in slugs]
    limit = populations.population_limits[asked.slug, jurisdiction]
    with translation.override(language):
        ranked = list(
            ranked_matches(
                Product.objects.select_related("brand"),
                indication_ids=[i.pk for i in indications],
                limit_mg=limit.amount_mg if limit else None,
            )
        )
        prefetch_page(ranked, slugs)
        request = MatchRequest(
            indications=indications,
            limit=limit,
            jurisdiction=jurisdiction,
            rules=knowledge().rules_for(medications),
            population=asked,
            cautions=cautions_for(renal),
        )
        results = [explain(product, request) for product in ranked]

    rows = [match_row(result) for result in results]

    assert len(rows) > 3
    assert JSONRenderer().render(rows) == JSONRenderer().render(
        MatchSerializer(results, many=True).data
    )
    assert rows == MatchSerializer(results, many=True).data


def test_match_page_reads_a_compound_its_kept_snapshot_does_not_hold_yet():
    """A line may name a compound newer than the snapshot of compounds (created after the
    request read the knowledge version): the page reads it rather than failing."""
    form = make_compound("kept-form", links=[("sleep", "B", "magnesium")])
    product = make_product(1, [(form, 1)])
    sleep = Indication.objects.get(slug="sleep")
    compound_forms()
    newer = CompoundForm.objects.get(pk=form.pk)
    newer.pk, newer.slug = None, "newer-form"
    CompoundForm.objects.bulk_create([newer])  # no signals: the kept snapshot stays
    IngredientLine.objects.filter(product=product).update(compound=newer)
    ranked = list(
        ranked_matches(
            Product.objects.filter(pk=product.pk),
            indication_ids=[sleep.pk],
            limit_mg=adult_upper_limit("eu").amount_mg,
            with_lines=True,
        )
    )

    prefetch_page(ranked, ["sleep"])

    assert newer.pk not in compound_forms()
    assert [line.compound.slug for line in ranked[0].match_lines] == ["newer-form"]


def test_match_rows_cover_exactly_the_products_the_python_rules_link():
    """The stored rows equal what matching.py gives for evidence, tolerability, dose, price
    and their weighted sum with the headroom of each jurisdiction, the points."""
    expected = {}
    for product in Product.objects.prefetch_related("ingredients__compound__evidence"):
        compounds = [line.compound for line in product.ingredients.all()]
        tolerability = matching.tolerability_value(c.laxative_tendency for c in compounds)
        values = (
            float(matching.dose_value(product.elemental_mg_per_day)),
            float(
                matching.price_value(
                    matching.price_per_100mg(
                        price_eur=product.price_eur,
                        elemental_mg_per_serving=product.elemental_mg_per_serving,
                        units_per_serving=product.units_per_serving,
                        units_per_package=product.units_per_package,
                    )
                )
            ),
        )
        weights = match_weights.WEIGHTS
        base = (
            weights["dose"] * Decimal(values[0])
            + weights["price"] * Decimal(values[1])
            + weights["tolerability"] * tolerability
        )
        points = [
            float(
                base
                + weights["headroom"]
                * matching.headroom_value(
                    product.elemental_mg_per_day, adult_upper_limit(jurisdiction).amount_mg
                )
            )
            for jurisdiction in ("eu", "us")
        ]
        values = (*values, *points)
        for compound in compounds:
            for evidence in compound.evidence.all():
                key = (product.pk, evidence.indication_id)
                strength = matching.link_strength(evidence.grade, evidence.basis)
                old = expected.get(key, (Decimal(0), "Z"))
                expected[key] = (
                    max(old[0], strength),
                    min(old[1], evidence.grade),
                    tolerability,
                    *values,
                )

    stored = {
        (row.product_id, row.indication_id): (
            row.evidence_strength,
            row.best_grade,
            row.tolerability,
            row.dose_value,
            row.price_value,
            row.points_eu,
            row.points_us,
        )
        for row in ProductIndication.objects.all()
    }

    assert set(stored) == set(expected)
    for key, (strength, grade, tolerability, *numbers) in expected.items():
        assert stored[key][:3] == (strength, grade, tolerability)
        assert list(stored[key][3:]) == [pytest.approx(number, abs=1e-12) for number in numbers]


def linked_indication_ids(product_id: int) -> set[int]:
    """The ids in ``Product.linked_indications`` ("|2|7|"; NULL for none)."""
    text = Product.objects.values_list("linked_indications", flat=True).get(pk=product_id)
    return {int(part) for part in text.strip("|").split("|")} if text is not None else set()


def rows_of(product):
    """The product's match rows; and its stored links name their indications, no more."""
    rows = ProductIndication.objects.filter(product=product).select_related("indication")
    assert linked_indication_ids(product.pk) == {row.indication_id for row in rows}
    return {
        row.indication.slug: (row.evidence_strength, row.best_grade, row.tolerability)
        for row in rows
    }


def test_match_rows_follow_a_product_save_with_new_lines():
    sleepy = make_compound("test-sleepy", links=[("sleep", "B", "magnesium")])
    tense = make_compound("test-tense", laxative="moderate", links=[("stress", "C", "magnesium")])
    product = make_product(1, [(sleepy, 1)])
    assert rows_of(product) == {"sleep": (Decimal("0.75"), "B", Decimal("1"))}

    make_product(1, [(tense, 1)])

    assert rows_of(product) == {"stress": (Decimal("0.5"), "C", Decimal("0.6"))}


def test_match_rows_follow_a_compound_change():
    form = make_compound("test-form", links=[("sleep", "B", "magnesium")])
    product = make_product(1, [(form, 1)])

    form.laxative_tendency = "high"
    form.save()

    assert rows_of(product) == {"sleep": (Decimal("0.75"), "B", Decimal("0.2"))}


def test_match_rows_follow_evidence_links_added_regraded_moved_and_deleted():
    form = make_compound("test-form")
    other = make_compound("test-other")
    product = make_product(1, [(form, 1)])
    other_product = make_product(2, [(other, 1)])
    assert rows_of(product) == {}

    evidence = link(form, "sleep", "C")
    assert rows_of(product) == {"sleep": (Decimal("0.5"), "C", Decimal("1"))}

    evidence.grade, evidence.basis = "A", "carrier"
    evidence.save()
    assert rows_of(product) == {"sleep": (Decimal("0.5"), "A", Decimal("1"))}

    evidence.compound = other
    evidence.save()
    assert rows_of(product) == {}
    assert rows_of(other_product) == {"sleep": (Decimal("0.5"), "A", Decimal("1"))}

    evidence.delete()
    assert rows_of(other_product) == {}


def test_match_reflects_a_regraded_link_in_the_next_response(client):
    first = make_compound("test-first", links=[("sleep", "C", "magnesium")])
    second = make_compound("test-second", links=[("sleep", "B", "magnesium")])
    make_product(1, [(first, 1)])
    make_product(2, [(second, 1)])
    assert [row["gtin"] for row in results(client, "indication=sleep")] == [gtin(2), gtin(1)]

    evidence = CompoundIndication.objects.get(compound=first)
    evidence.grade = "A"
    evidence.save()

    assert [row["gtin"] for row in results(client, "indication=sleep")] == [gtin(1), gtin(2)]


def test_match_evidence_wording_follows_a_renamed_compound_and_an_edited_reference(client):
    # The sentence and facts of a link are kept per knowledge version (products.matching.explain).
    form = make_compound("test-form", links=[("sleep", "B", "magnesium")])
    evidence = CompoundIndication.objects.get(compound=form)
    reference = Reference.objects.create(
        key="test-jansen", citation="Jansen A. Magnesium and sleep. 2024.", status="verified"
    )
    EvidenceCitation.objects.create(evidence=evidence, reference=reference)
    make_product(1, [(form, 1)])
    row = results(client, "indication=sleep&lang=en")[0]
    assert row["reasons"][0] == (
        "Test form: magnesium for sleep quality (evidence B, magnesium-based; Jansen 2024)"
    )
    assert (row["evidence"][0]["references"], row["evidence"][0]["status"]) == (
        ["test-jansen"],
        "verified",
    )

    form.name_en = "Renamed form"
    form.save()
    reference.citation = "Pieters B. Magnesium and sleep. 2025."
    reference.save()
    evidence.status = "disputed"
    evidence.save()

    row = results(client, "indication=sleep&lang=en")[0]
    assert row["reasons"][0] == (
        "Renamed form: magnesium for sleep quality (evidence B, magnesium-based; Pieters 2025)"
    )
    assert row["evidence"][0]["status"] == "disputed"
    nl = results(client, "indication=sleep&lang=nl")[0]
    assert nl["reasons"][0] == (
        "test-form: magnesium bij slaapkwaliteit (bewijs B, op basis van magnesium; Pieters 2025)"
    )


def test_refresh_matching_rebuilds_every_row_from_scratch():
    before = set(
        ProductIndication.objects.values_list(
            "product_id", "indication_id", "evidence_strength", "best_grade", "tolerability"
        )
    )
    ProductIndication.objects.all().delete()

    output = io.StringIO()
    call_command("refresh_matching", stdout=output)

    after = set(
        ProductIndication.objects.values_list(
            "product_id", "indication_id", "evidence_strength", "best_grade", "tolerability"
        )
    )
    assert after == before
    assert len(after) > 50
    assert output.getvalue() == f"Match rows rebuilt: {len(after)}.\n"
    for product_id in Product.objects.values_list("pk", flat=True):
        assert linked_indication_ids(product_id) == {
            indication for product, indication, *_ in after if product == product_id
        }


def test_linked_indications_are_the_match_rows_of_every_product_and_filter_alike(client):
    """The list's indication filter reads the links stored on the product; they select the
    products the match rows link, for one indication, any of two and all of two."""
    links = {}
    for product_id, indication in ProductIndication.objects.filter(
        product__status=ProductStatus.PUBLISHED
    ).values_list("product_id", "indication__slug"):
        links.setdefault(indication, set()).add(product_id)
    gtins = dict(Product.objects.values_list("pk", "gtin"))

    def listed(query):
        body = client.get(f"/api/v1/products/?{query}&page_size=100").json()
        assert body["next"] is None, "the demo catalogue fits a page"
        return {row["gtin"] for row in body["results"]}

    for product_id in gtins:
        assert linked_indication_ids(product_id) == set(
            ProductIndication.objects.filter(product_id=product_id).values_list(
                "indication_id", flat=True
            )
        )
    for slug, product_ids in links.items():
        assert listed(f"indication={slug}") == {gtins[pk] for pk in product_ids}, slug
    assert listed("indication=sleep,sport") == {gtins[pk] for pk in links["sleep"] | links["sport"]}
    assert listed("indication=sleep,sport&indication_match=all") == {
        gtins[pk] for pk in links["sleep"] & links["sport"]
    }
    assert links["sleep"] & links["sport"] and links["sleep"] - links["sport"]


def test_product_indications_rebuild_of_some_products_leaves_the_others_alone():
    product_ids = list(Product.objects.values_list("pk", flat=True)[:3])
    others = set(
        ProductIndication.objects.exclude(product_id__in=product_ids).values_list(
            "product_id", "indication_id", "evidence_strength"
        )
    )
    ProductIndication.objects.all().delete()

    product_indications_rebuild(product_ids=product_ids)

    assert set(ProductIndication.objects.values_list("product_id", flat=True)) <= set(product_ids)
    assert ProductIndication.objects.exists()
    assert not others & set(
        ProductIndication.objects.values_list("product_id", "indication_id", "evidence_strength")
    )


def error(message, details):
    return {
        "error": {
            "status": 400,
            "code": "invalid_parameter",
            "message": message,
            "details": details,
        }
    }


def unknown(field, what):
    return {"field": field, "code": "unknown_slug", "message": f"Unknown {what}."}


def test_match_without_an_indication_is_a_400(client):
    response = client.get(f"{URL}?lang=en")

    assert response.status_code == 400
    assert response.json() == error(
        "Invalid parameter: indication.",
        [{"field": "indication", "code": "required", "message": "This field is required."}],
    )


def test_match_unknown_slugs_are_a_400_naming_them(client):
    response = client.get(
        f"{URL}?indication=sleep,flying&medication=levothyroxine,aspirin&symptom=itching"
        "&risk_group=pilots&jurisdiction=mars"
    )

    assert response.status_code == 400
    assert response.json() == error(
        "Invalid parameter: indication, jurisdiction, medication, risk_group, symptom.",
        [
            unknown("indication", "indication: flying"),
            unknown("symptom", "symptom: itching"),
            unknown("risk_group", "risk group: pilots"),
            unknown("medication", "medication: aspirin"),
            {
                "field": "jurisdiction",
                "code": "invalid_choice",
                "message": "Selecteer een geldige keuze. mars is geen beschikbare keuze.",
            },
        ],
    )


@pytest.mark.parametrize("page_size", [1, 15])
def test_match_runs_at_most_five_queries_whatever_the_results_and_no_count(
    client, django_assert_max_num_queries, page_size
):
    url = (
        f"{URL}?indication=sleep,stress,heart-vessels&medication=levothyroxine,digoxin"
        f"&page_size={page_size}"
    )
    client.get(f"{url}&lang=en")  # loads the knowledge kept per version, as a live server has

    # The catalogue version, the evidence signatures with their best points, how deep the best
    # of them go, the ranking above their floors (with the page's lines); indications, limits,
    # evidence and rules are kept, and so are the signatures once read (the test below).
    with django_assert_max_num_queries(4) as captured:
        response = client.get(url)

    assert response.status_code == 200
    assert len(response.json()["results"]) == page_size
    assert not any("COUNT(" in q["sql"].upper() for q in captured.captured_queries)


def test_match_answers_a_repeated_request_from_the_cache(client, django_assert_num_queries):
    url = f"{URL}?indication=sleep,sport&medication=levothyroxine"
    first = client.get(url)

    with django_assert_num_queries(1):  # the catalogue version
        again = client.get(url)

    assert (again.status_code, again.json()) == (200, first.json())
    assert again.headers["ETag"] == first.headers["ETag"]


def test_match_reads_the_evidence_signatures_once_per_catalogue_version(
    client, django_assert_num_queries
):
    client.get(f"{URL}?indication=sleep,sport")

    # Another request for the same indications, not cached: the version and the ranking.
    with django_assert_num_queries(2):
        response = client.get(f"{URL}?indication=sleep,sport&medication=levothyroxine")

    assert response.status_code == 200


def test_match_lists_only_published_products(client):
    form = make_compound("test-form", links=[("sleep", "B", "magnesium")])
    published = make_product(1, [(form, 1)])
    draft = make_product(2, [(form, 1)])
    Product.objects.filter(pk=draft.pk).update(status=ProductStatus.DRAFT)

    assert [row["gtin"] for row in results(client, "indication=sleep")] == [published.gtin]


def test_match_reflects_a_new_price_in_the_next_response(client):
    form = make_compound("test-form", links=[("sleep", "B", "magnesium")])
    make_product(1, [(form, 1)], price="10.00")
    assert results(client, "indication=sleep")[0]["factors"]["price"]["value"] == 1.0

    make_product(1, [(form, 1)], price="100.00")

    assert results(client, "indication=sleep")[0]["factors"]["price"]["value"] == pytest.approx(
        0.4, abs=0.001
    )


def test_linked_indications_migration_fills_every_product_and_logs_no_change():
    """0021 fills the links of a catalogue that has match rows and none stored, and takes
    back the change-log rows its UPDATE fired: no answer changed, so no webshop must fetch
    the catalogue again."""
    migration = importlib.import_module("products.migrations.0021_fill_linked_indications")
    expected = {
        pk: linked_indication_ids(pk) for pk in Product.objects.values_list("pk", flat=True)
    }
    Product.objects.update(linked_indications=None)
    logged_before = CatalogueChange.objects.count()
    assert any(expected.values())

    # The fill reads only its schema editor's connection (SQLite's own editor refuses to open
    # inside the test's transaction).
    migration.fill(django_apps, SimpleNamespace(connection=connection))

    assert {pk: linked_indication_ids(pk) for pk in expected} == expected
    assert CatalogueChange.objects.count() == logged_before
