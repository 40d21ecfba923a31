"""EU health claims: the data against its source, the "source of" verdict per product, the
claim filter, the admin section, and that claims stay apart from evidence and matching."""

import re
import shutil
from decimal import Decimal

import pytest
import yaml
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st
from knox.models import AuthToken

from compounds.knowledge_base import load_knowledge_base
from compounds.models import CompoundForm
from formulary import health_claims as claims_loading
from formulary.common.loading import FIXTURES_DIR, LoadError
from formulary.enums import ClaimNutrient, WordingStatus
from formulary.models import HealthClaim, Nutrient, SourceOfRule
from products import claims
from products.enums import AmountBasis, ProductStatus
from products.gtin import gs1_check_digit
from products.models import Brand, Product
from products.services import IngredientInput, NutrientInput, product_upsert

pytestmark = pytest.mark.django_db

API = "/api/v1"
BRAND = "claimmerk"
# The source of fixtures/claims.yaml, copied verbatim so a fresh clone can test against it.
REFERENCE_FILE = FIXTURES_DIR / "sources" / "eu-claims.md"
SHARED_REFERENCE = FIXTURES_DIR.parent.parent / "shared" / "reference" / "eu-claims.md"
TAG_STATUS = {
    "V": WordingStatus.VERIFIED,
    "S": WordingStatus.SECONDARY,
    "S, one source": WordingStatus.SECONDARY,
    "U": WordingStatus.UNVERIFIED,
    "U-tr": WordingStatus.OWN_TRANSLATION,
}
NOT_A_SOURCE = "so the product is not a source of"


def quiet(*_args):
    """Swallows the loader's progress lines."""


def gtin(serial: int) -> str:
    data = f"20799{serial:07d}"
    return data + str(gs1_check_digit(data))


def make_product(serial, lines, *, servings="1", nutrients=()):
    """A published product of the test brand; ``lines`` are (compound, mg, basis) per serving."""
    compounds = {compound.slug: compound for compound in CompoundForm.objects.all()}
    product, _ = product_upsert(
        gtin=gtin(serial),
        fields={
            "brand": Brand.objects.get_or_create(slug=BRAND, name="Claimmerk")[0],
            "name": f"Claimproduct {serial}",
            "dosage_form": "capsule",
            "units_per_package": 60,
            "units_per_serving": Decimal(1),
            "servings_per_day": Decimal(servings),
            "status": ProductStatus.PUBLISHED,
        },
        ingredients=[
            IngredientInput(compound=compounds[slug], amount_mg=Decimal(mg), amount_basis=basis)
            for slug, mg, basis in lines
        ],
        nutrients=[
            NutrientInput(nutrient=Nutrient.objects.get(slug=slug), amount=Decimal(amount))
            for slug, amount in nutrients
        ],
    )
    return product


def elemental(mg, slug="magnesium-bisglycinate"):
    return [(slug, mg, AmountBasis.ELEMENTAL)]


def health_claims(client, product, lang="en"):
    response = client.get(f"{API}/products/{product.gtin}/?lang={lang}")
    assert response.status_code == 200, response.content
    return {row["nutrient"]: row for row in response.json()["health_claims"]}


def claim_filter(client, query):
    response = client.get(f"{API}/products/?brand={BRAND}&{query}&page_size=100")
    assert response.status_code == 200, response.content
    return {row["gtin"] for row in response.json()["results"]}


# ---- the data against eu-claims.md ------------------------------------------------------


def reference_cell(cell: str) -> tuple[str, str]:
    """'Magnesium contributes to ... **[S]** (note)' -> (text, wording status)."""
    found = re.match(r"^(.*?)\s*\*\*\[([^\]]+)\]\*\*", cell.strip())
    assert found, cell
    return found.group(1), TAG_STATUS[found.group(2)]


def reference_claims() -> dict[str, dict]:
    """The claim tables of eu-claims.md (§2, §4), by key."""
    rows = {}
    for line in REFERENCE_FILE.read_text(encoding="utf-8").splitlines():
        found = re.match(r"^\| `((?:mg|b6)-[a-z-]+)` \| ([^|]+) \| ([^|]+) \| ([^|]+) \|", line)
        if not found:
            continue
        key, ids, english, dutch = found.groups()
        text_en, status_en = reference_cell(english)
        text_nl, status_nl = reference_cell(dutch)
        if text_nl.startswith("… "):  # the B6 rows elide the subject after the first one
            text_nl = "Vitamine B6 " + text_nl.removeprefix("… ")
        rows[key] = {
            "efsa_ids": re.sub(r"\s*\[U split\]", "", ids.strip()),
            "en": (text_en, status_en),
            "nl": (text_nl, status_nl),
        }
    return rows


def reference_conditions() -> dict[str, tuple[str, str]]:
    """The condition of use of §3, per language: (text, wording status)."""
    found = {}
    for line in REFERENCE_FILE.read_text(encoding="utf-8").splitlines():
        row = re.match(r'^\| (EN|NL) \| "(.*)" \| \*\*\[([^\]]+)\]\*\*', line)
        if row:
            language, text, tag = row.groups()
            found[language.lower()] = (text, TAG_STATUS[tag])
    return found


def test_claims_reference_copy_equals_the_shared_reference_when_beside_it():
    if not SHARED_REFERENCE.exists():
        pytest.skip("../shared/reference/eu-claims.md is not beside this checkout")

    assert REFERENCE_FILE.read_bytes() == SHARED_REFERENCE.read_bytes()


def test_claims_every_text_equals_the_reference_file_with_its_status():
    reference = reference_claims()
    loaded = {claim.slug: claim for claim in HealthClaim.objects.select_related("rule")}

    assert len(reference) == 20
    assert set(loaded) == set(reference)
    for slug, claim in loaded.items():
        expected = reference[slug]
        assert (claim.text_en, claim.text_en_status) == expected["en"], slug
        assert (claim.text_nl, claim.text_nl_status) == expected["nl"], slug
        assert claim.efsa_ids == expected["efsa_ids"], slug
        assert claim.rule.nutrient == ("magnesium" if slug.startswith("mg-") else "vitamin-b6")


def test_claims_condition_of_use_equals_the_reference_file_or_is_marked_unverified():
    conditions = reference_conditions()
    magnesium = SourceOfRule.objects.get(nutrient=ClaimNutrient.MAGNESIUM)
    vitamin_b6 = SourceOfRule.objects.get(nutrient=ClaimNutrient.VITAMIN_B6)

    assert (magnesium.condition_en, magnesium.condition_en_status) == conditions["en"]
    assert (magnesium.condition_nl, magnesium.condition_nl_status) == conditions["nl"]
    # §4: the B6 condition is the same sentence with vitamin B6, by analogy: unverified.
    assert vitamin_b6.condition_en == conditions["en"][0].replace(
        "source of magnesium", "source of vitamin B6"
    )
    assert vitamin_b6.condition_nl == conditions["nl"][0].replace(
        "bron van magnesium", "bron van vitamine B6"
    )
    assert vitamin_b6.condition_en_status == WordingStatus.UNVERIFIED
    assert vitamin_b6.condition_nl_status == WordingStatus.UNVERIFIED


def reference_thresholds() -> dict[str, tuple[Decimal, Decimal, Decimal]]:
    """§5.2: nutrient -> (NRV mg, share of the NRV, "source of" mg), as the table states them."""
    found = {}
    for line in REFERENCE_FILE.read_text(encoding="utf-8").splitlines():
        row = re.match(
            r"^\| (Magnesium|Vitamin B6) \| ([\d.]+) mg \| [\d.]+ \S ([\d.]+) = \*\*([\d.]+) mg",
            line,
        )
        if row:
            name, nrv, share, minimum = row.groups()
            found[name] = (Decimal(nrv), Decimal(share), Decimal(minimum))
    return found


def test_source_of_rule_thresholds_are_the_reference_files_arithmetic():
    reference = reference_thresholds()
    rules = {rule.nutrient: rule for rule in SourceOfRule.objects.all()}

    assert set(reference) == {"Magnesium", "Vitamin B6"}
    for nutrient, name in (("magnesium", "Magnesium"), ("vitamin-b6", "Vitamin B6")):
        nrv, share, minimum = reference[name]
        rule = rules[nutrient]
        threshold = claims.SourceOfThreshold(
            nutrient=nutrient,
            nrv_mg=rule.nrv_mg,
            minimum_percent_of_nrv=rule.minimum_percent_of_nrv,
        )
        assert rule.nrv_mg == nrv
        assert rule.minimum_percent_of_nrv == share * 100
        assert threshold.minimum_mg == minimum
    assert {rule.basis for rule in rules.values()} == {"per_daily_dose"}
    assert {rule.basis_status for rule in rules.values()} == {"unverified"}


def test_claims_served_are_never_marked_official_without_being_verified(client):
    product = make_product(1, elemental("200"), nutrients=[("vitamin-b6", "1.4")])

    for lang in ("nl", "en"):
        rows = health_claims(client, product, lang)
        served = [claim for row in rows.values() for claim in row["claims"]]
        served += [row["condition"] for row in rows.values()]

        assert len(served) == 22
        for item in served:
            assert item["official_wording"] is (item["wording_status"] == "verified")
        assert not any(item["official_wording"] for item in served)


# ---- the loader ---------------------------------------------------------------------------


def claims_file_with(tmp_path, monkeypatch, change):
    path = tmp_path / "claims.yaml"
    shutil.copy(claims_loading.CLAIMS_FILE, path)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    monkeypatch.setattr(claims_loading, "CLAIMS_FILE", path)


def test_load_knowledge_base_twice_keeps_one_row_per_claim():
    load_knowledge_base(report=quiet)
    load_knowledge_base(report=quiet)

    assert HealthClaim.objects.count() == 20
    assert SourceOfRule.objects.count() == 2


def test_load_claims_magnesium_nrv_disagreeing_with_the_intake_refused_and_nothing_changed(
    tmp_path, monkeypatch
):
    def change(data):
        data["source_of_rules"][0]["nrv_mg"] = "400"
        data["claims"][0]["text_en"] = "Changed"

    claims_file_with(tmp_path, monkeypatch, change)

    with pytest.raises(LoadError, match="differs from the EU adult NRV reference intake"):
        load_knowledge_base(report=quiet)

    assert SourceOfRule.objects.get(nutrient="magnesium").nrv_mg == Decimal("375")
    assert HealthClaim.objects.get(slug="mg-tiredness").text_en == (
        "Magnesium contributes to a reduction of tiredness and fatigue"
    )


def test_load_claims_a_claim_left_out_of_the_file_is_removed(tmp_path, monkeypatch):
    def change(data):
        data["claims"] = [row for row in data["claims"] if row["slug"] != "mg-teeth"]

    claims_file_with(tmp_path, monkeypatch, change)

    load_knowledge_base(report=quiet)

    assert not HealthClaim.objects.filter(slug="mg-teeth").exists()
    assert HealthClaim.objects.count() == 19


# ---- the verdict per product --------------------------------------------------------------


def test_stated_figure_gets_decimals_rather_than_round_across_the_threshold():
    assert claims.stated(Decimal("26.13"), 0, minimum=Decimal(15)) == Decimal("26")
    assert claims.stated(Decimal("14.99973"), 0, minimum=Decimal(15)) == Decimal("14.9997")
    assert claims.stated(Decimal("0.2095"), 3, minimum=Decimal("0.21")) == Decimal("0.2095")
    assert claims.stated(Decimal("0.21"), 1, minimum=Decimal("0.21")) == Decimal("0.21")
    assert claims.stated(Decimal("56.25"), 1, minimum=Decimal("56.25")) == Decimal("56.3")


@given(
    value=st.decimals(min_value=0, max_value=1000, places=6, allow_nan=False),
    minimum=st.sampled_from([Decimal("56.25"), Decimal("0.21"), Decimal(15)]),
    places=st.integers(min_value=0, max_value=3),
)
def test_stated_figure_is_always_on_the_same_side_of_the_minimum(value, minimum, places):
    figure = claims.stated(value, places, minimum=minimum)

    assert (figure >= minimum) is (value >= minimum)
    assert abs(figure - value) <= Decimal("0.5") * Decimal(10) ** -places


def test_health_claims_magnesium_just_at_the_threshold_qualifies(client):
    product = make_product(2, elemental("56.25"))

    magnesium = health_claims(client, product)["magnesium"]

    assert magnesium["may_carry_claims"] is True
    assert magnesium["verdict"] == (
        "56.3 mg magnesium per daily dose = 15 % of the NRV, at least 15 % needed"
    )
    assert (magnesium["amount_mg_per_day"], magnesium["percent_of_nrv"]) == (56.3, 15.0)
    assert (magnesium["nrv_mg"], magnesium["minimum_mg_per_day"]) == (375.0, 56.25)
    assert [claim["slug"] for claim in magnesium["claims"]] == sorted(
        HealthClaim.objects.filter(rule__nutrient="magnesium").values_list("slug", flat=True)
    )
    assert magnesium["claims"][-1] == {
        "slug": "mg-tiredness",
        "text": "Magnesium contributes to a reduction of tiredness and fatigue",
        "wording_status": "secondary",
        "official_wording": False,
        "note": '"a reduction", as the register copies give it; "the reduction" is the '
        "B-vitamin wording.",
        "efsa_ids": "244",
        "sources": magnesium["claims"][-1]["sources"],
    }
    assert [source["key"] for source in magnesium["claims"][-1]["sources"]] == [
        "EFSA-2010-1807",
        "EU-432-2012",
        "EU-REGISTER-COPIES",
        "NL-TRADE-WORDINGS",
    ]


def test_health_claims_magnesium_just_below_the_threshold_says_why_not(client):
    product = make_product(3, elemental("56.249"))

    magnesium = health_claims(client, product)["magnesium"]
    dutch = health_claims(client, product, "nl")["magnesium"]

    assert magnesium["may_carry_claims"] is False
    assert magnesium["claims"] == []
    assert magnesium["verdict"] == (
        "56.2 mg magnesium per daily dose = 14.9997 % of the NRV; at least 15 % (56.25 mg) is "
        "needed, so the product is not a source of magnesium and may carry none of its claims"
    )
    assert dutch["verdict"] == (
        "56,2 mg magnesium per dagdosis = 14,9997 % van de referentie-inname; minstens 15 % "
        "(56,25 mg) is nodig, dus het product is geen bron van magnesium en mag geen van de "
        "claims ervan dragen"
    )


def test_health_claims_per_daily_dose_counts_every_serving(client):
    product = make_product(4, elemental("28.125"), servings="2")

    magnesium = health_claims(client, product)["magnesium"]

    assert magnesium["may_carry_claims"] is True
    assert magnesium["amount_mg_per_day"] == 56.3


def test_health_claims_magnesium_from_two_compounds_sums_them(client):
    # Neither line alone is a source of magnesium; together they are, exactly at 56.25 mg.
    product = make_product(
        5,
        [
            ("magnesium-bisglycinate", "30", AmountBasis.ELEMENTAL),
            ("magnesium-citrate-tri-anhydrous", "26.25", AmountBasis.ELEMENTAL),
        ],
    )
    alone = make_product(6, elemental("30"))

    assert health_claims(client, product)["magnesium"]["may_carry_claims"] is True
    assert health_claims(client, alone)["magnesium"]["may_carry_claims"] is False
    assert claim_filter(client, "claim=mg-muscle") >= {product.gtin}
    assert alone.gtin not in claim_filter(client, "claim=mg-muscle")


def test_health_claims_combination_product_judges_each_nutrient_apart(client):
    # eu-claims.md §8: 60 mg Mg and 0.1 mg B6 a day may carry the Mg claims, not the B6 ones.
    product = make_product(7, elemental("60"), nutrients=[("vitamin-b6", "0.1")])

    rows = health_claims(client, product)

    assert list(rows) == ["magnesium", "vitamin-b6"]
    assert rows["magnesium"]["may_carry_claims"] is True
    assert rows["magnesium"]["verdict"] == (
        "60 mg magnesium per daily dose = 16 % of the NRV, at least 15 % needed"
    )
    assert rows["vitamin-b6"]["may_carry_claims"] is False
    assert rows["vitamin-b6"]["claims"] == []
    assert rows["vitamin-b6"]["verdict"] == (
        "0.1 mg vitamin B6 per daily dose = 7 % of the NRV; at least 15 % (0.21 mg) is needed, "
        "so the product is not a source of vitamin B6 and may carry none of its claims"
    )


def test_health_claims_vitamin_b6_just_at_and_just_below_the_threshold(client):
    at = make_product(8, elemental("100"), nutrients=[("vitamin-b6", "0.21")])
    two_servings = make_product(
        9, elemental("50"), servings="2", nutrients=[("vitamin-b6", "0.105")]
    )
    below = make_product(10, elemental("100"), nutrients=[("vitamin-b6", "0.209")])

    at_row = health_claims(client, at)["vitamin-b6"]
    below_row = health_claims(client, below)["vitamin-b6"]

    assert at_row["may_carry_claims"] is True
    assert at_row["verdict"] == (
        "0.21 mg vitamin B6 per daily dose = 15 % of the NRV, at least 15 % needed"
    )
    assert len(at_row["claims"]) == 10
    assert health_claims(client, two_servings)["vitamin-b6"]["may_carry_claims"] is True
    assert below_row["may_carry_claims"] is False
    assert below_row["amount_mg_per_day"] == 0.209
    assert claim_filter(client, "claim=b6-energy") == {at.gtin, two_servings.gtin}


def test_health_claims_product_without_vitamin_b6_judges_magnesium_only(client):
    product = make_product(11, elemental("98"))

    rows = health_claims(client, product)

    assert list(rows) == ["magnesium"]
    assert rows["magnesium"]["verdict"] == (
        "98 mg magnesium per daily dose = 26 % of the NRV, at least 15 % needed"
    )


# ---- the filter, its SQL twin and its query count -----------------------------------------


def test_claim_filter_several_claims_needs_every_nutrient(client):
    both = make_product(12, elemental("100"), nutrients=[("vitamin-b6", "1.4")])
    magnesium_only = make_product(13, elemental("100"))

    assert claim_filter(client, "claim=mg-energy") == {both.gtin, magnesium_only.gtin}
    assert claim_filter(client, "claim=mg-energy,b6-energy") == {both.gtin}
    assert claim_filter(client, "claim=mg-energy&claim=b6-energy") == {both.gtin}


def test_claim_filter_unknown_claim_is_a_400_in_the_error_envelope(client):
    response = client.get(f"{API}/products/?claim=mg-sleep")

    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "status": 400,
            "code": "invalid_parameter",
            "message": "Invalid parameter: claim.",
            "details": [
                {
                    "field": "claim",
                    "code": "unknown_slug",
                    "message": "Unknown health claim: mg-sleep.",
                }
            ],
        }
    }


def test_claim_filter_sql_agrees_with_the_detail_on_every_demo_product(client):
    published = list(Product.objects.filter(status=ProductStatus.PUBLISHED))
    filtered = {}
    for slug in ("mg-tiredness", "b6-tiredness"):
        response = client.get(f"{API}/products/?claim={slug}&page_size=100")
        filtered[slug] = {row["gtin"] for row in response.json()["results"]}

    for product in published:
        rows = health_claims(client, product)
        carries_b6 = "vitamin-b6" in rows and rows["vitamin-b6"]["may_carry_claims"]
        assert (product.gtin in filtered["mg-tiredness"]) is rows["magnesium"]["may_carry_claims"]
        assert (product.gtin in filtered["b6-tiredness"]) is carries_b6
    assert filtered["b6-tiredness"], "the demo catalogue has products with vitamin B6"


@pytest.fixture
def warm(client):
    """One read loads the reference data kept per catalogue version, as a live server has."""
    client.get(f"{API}/products/?page_size=1")


def test_claim_filter_list_runs_at_most_three_queries(client, warm, django_assert_max_num_queries):
    client.get(f"{API}/products/?claim=mg-energy,b6-energy&lang=en")

    with django_assert_max_num_queries(3):
        response = client.get(f"{API}/products/?claim=mg-energy,b6-energy&page_size=100")

    assert response.status_code == 200
    assert len(response.json()["results"]) >= 3


def test_product_detail_with_health_claims_runs_at_most_three_queries(
    client, warm, django_assert_max_num_queries
):
    product = make_product(14, elemental("100"), nutrients=[("vitamin-b6", "1.4")])
    client.get(f"{API}/products/?page_size=1")  # the product's save made a new version

    with django_assert_max_num_queries(3):
        response = client.get(f"{API}/products/{product.gtin}/")

    assert len(response.json()["health_claims"]) == 2


def test_product_list_carries_no_health_claims(client):
    make_product(15, elemental("100"))

    rows = client.get(f"{API}/products/?brand={BRAND}").json()["results"]

    assert rows and all("health_claims" not in row for row in rows)


def test_match_takes_the_claim_filter(client):
    with_b6 = make_product(16, elemental("200"), nutrients=[("vitamin-b6", "1.4")])
    make_product(17, elemental("200"))

    response = client.get(f"{API}/products/match/?indication=sleep&brand={BRAND}&claim=b6-energy")

    assert response.status_code == 200, response.content
    assert [row["gtin"] for row in response.json()["results"]] == [with_b6.gtin]


# ---- apart from evidence ------------------------------------------------------------------


def test_health_claims_do_not_change_the_match_score(client):
    # The same compound and dose; one may carry the ten vitamin B6 claims, the other none.
    with_b6 = make_product(18, elemental("200"), nutrients=[("vitamin-b6", "1.4")])
    without = make_product(19, elemental("200"))
    assert health_claims(client, with_b6)["vitamin-b6"]["may_carry_claims"] is True

    response = client.get(f"{API}/products/match/?indication=sleep&brand={BRAND}")

    scores = {row["gtin"]: row["score"] for row in response.json()["results"]}
    assert set(scores) == {with_b6.gtin, without.gtin}
    assert scores[with_b6.gtin] == scores[without.gtin]


def test_product_detail_names_claims_and_evidence_apart(client):
    product = make_product(20, elemental("200"))

    row = client.get(f"{API}/products/{product.gtin}/?lang=en").json()

    assert {"health_claims", "indications"} <= set(row)
    assert all("best_grade" in indication for indication in row["indications"])
    assert all("grade" not in key for nutrient in row["health_claims"] for key in nutrient)
    served = {claim["text"] for nutrient in row["health_claims"] for claim in nutrient["claims"]}
    assert not any(word in text.lower() for text in served for word in ("sleep", "stress"))


def test_write_body_with_health_claims_is_refused_by_name(django_user_model):
    product = make_product(21, elemental("200"))
    user = django_user_model.objects.create_user(username="chef", is_superuser=True)
    _, token = AuthToken.objects.create(user)
    client = Client(HTTP_AUTHORIZATION=f"Token {token}")

    response = client.patch(
        f"{API}/products/{product.gtin}/",
        {"health_claims": []},
        content_type="application/json",
        HTTP_IF_MATCH="*",
    )

    assert response.status_code == 400
    assert [detail["field"] for detail in response.json()["error"]["details"]] == ["health_claims"]


# ---- the admin ----------------------------------------------------------------------------


def test_admin_product_page_shows_the_claims_it_may_carry_read_only(admin_client):
    product = make_product(22, elemental("98"), nutrients=[("vitamin-b6", "0.1")])

    page = admin_client.get(
        f"/admin/products/product/{product.pk}/change/", HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()

    assert "EU health claims it may carry" in page
    assert "98 mg magnesium per daily dose = 26 % of the NRV, at least 15 % needed" in page
    assert "Magnesium contributes to normal muscle function" in page
    assert "0.1 mg vitamin B6 per daily dose = 7 % of the NRV" in page
    assert "Vitamin B6 contributes to" not in page
    assert 'name="health_claims"' not in page


def test_admin_product_page_in_dutch_marks_our_own_translations(admin_client):
    product = make_product(23, elemental("98"))

    page = admin_client.get(
        f"/admin/products/product/{product.pk}/change/", HTTP_ACCEPT_LANGUAGE="nl"
    ).content.decode()

    assert "98 mg magnesium per dagdosis = 26 % van de referentie-inname" in page
    assert "Magnesium draagt bij tot de elektrolytenbalans" in page
    assert "onze eigen vertaling, niet de officiële tekst" in page
