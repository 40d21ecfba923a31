"""The database, not only forms, keeps the data consistent."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import translation

from compounds.models import CompoundForm, InteractionRule, SupplementRule
from formulary.models import Indication, Medication, Reference
from products.models import IngredientLine, Product

pytestmark = pytest.mark.django_db


def rejected_by_database(queryset, **values):
    with pytest.raises(IntegrityError), transaction.atomic():
        queryset.update(**values)


def test_check_constraints_reject_values_outside_the_choices():
    rejected_by_database(Product.objects.filter(pk=Product.objects.first().pk), status="sold-out")
    rejected_by_database(
        CompoundForm.objects.filter(slug="magnesium-oxide"), laxative_tendency="extreme"
    )
    rejected_by_database(Reference.objects.filter(pk=Reference.objects.first().pk), status="maybe")


def test_check_constraints_reject_out_of_range_amounts():
    product = Product.objects.first()
    rejected_by_database(Product.objects.filter(pk=product.pk), servings_per_day=0)
    rejected_by_database(Product.objects.filter(pk=product.pk), price_eur=Decimal("-1"))
    rejected_by_database(IngredientLine.objects.filter(product=product), amount_mg=0)


def test_spacing_hours_are_refused_on_a_monitoring_rule():
    rule = InteractionRule.objects.get(medication__slug="proton-pump-inhibitors")

    rejected_by_database(InteractionRule.objects.filter(pk=rule.pk), drug_before_mg_hours=2)
    rule.drug_before_mg_hours = Decimal("2")
    # The message is translated (lazily, when read); Dutch is the default language.
    with translation.override("en"):
        with pytest.raises(ValidationError) as raised:
            rule.full_clean()
        assert raised.value.message_dict == {
            "mechanism": [
                "Only chelation and absorption rules carry spacing hours; "
                "clear the hours or change the mechanism."
            ]
        }


@pytest.mark.parametrize(
    ("rule", "language", "advice", "message"),
    [
        (
            lambda: SupplementRule.objects.get(nutrient__slug="iron"),
            "en",
            "Keep iron 3-4 hours from magnesium.",
            "Give the window in the hours fields, not in the advice (found “3-4 hours”): "
            "the sentence that states the window is written from those fields.",
        ),
        (
            lambda: SupplementRule.objects.get(nutrient__slug="iron"),
            "nl",
            "Houd ijzer 3-4 uur gescheiden van magnesium.",
            "Geef het venster op in de urenvelden, niet in het advies (gevonden: “3-4 uur”): "
            "de zin die het venster noemt, wordt uit die velden geschreven.",
        ),
        (
            lambda: InteractionRule.objects.get(medication__slug="levothyroxine"),
            "en",
            "Take it two hours before magnesium.",
            "Give the window in the hours fields, not in the advice (found “two hours”): "
            "the sentence that states the window is written from those fields.",
        ),
    ],
)
def test_a_spacing_rule_refuses_hours_in_its_advice_text(rule, language, advice, message):
    # The hours have one home, the hours fields; a figure in the text would drift from them.
    rule = rule()
    setattr(rule, f"advice_{language}", advice)

    with pytest.raises(ValidationError) as raised:
        rule.full_clean()

    # The message is translated lazily, when read.
    with translation.override(language):
        assert raised.value.message_dict == {f"advice_{language}": [message]}
    assert raised.value.error_dict[f"advice_{language}"][0].code == "hours_in_advice"


def test_a_monitoring_rule_may_name_hours_in_its_advice():
    # Digoxin's "if an interaction is suspected, keep 2 h apart" is advice, not a window.
    rule = InteractionRule.objects.get(medication__slug="digoxin")

    rule.full_clean()

    assert "2 h" in rule.advice_en


def test_gtin_and_slugs_are_unique_in_the_database():
    product = Product.objects.first()
    other = Product.objects.exclude(pk=product.pk).first()
    rejected_by_database(Product.objects.filter(pk=other.pk), gtin=product.gtin)
    rejected_by_database(Indication.objects.filter(slug="sleep"), slug="stress")


def test_compound_used_by_a_product_cannot_be_deleted():
    compound = IngredientLine.objects.first().compound

    with pytest.raises(ProtectedError):
        compound.delete()


def test_cited_reference_cannot_be_deleted():
    with pytest.raises(ProtectedError):
        Reference.objects.get(key="NOAH2021").delete()


def test_medication_with_rules_cannot_be_deleted():
    with pytest.raises(ProtectedError):
        Medication.objects.get(slug="levothyroxine").delete()


def test_indication_with_evidence_cannot_be_deleted():
    with pytest.raises(ProtectedError):
        Indication.objects.get(slug="sleep").delete()


def test_compound_formula_that_does_not_parse_fails_validation_with_the_reason():
    compound = CompoundForm.objects.get(slug="magnesium-oxide")
    compound.formula = "Mg(OH2"

    with pytest.raises(ValidationError) as raised:
        compound.full_clean()

    assert raised.value.message_dict == {"formula": ["Position 3: '(' is never closed."]}


def test_compound_formula_without_magnesium_fails_validation():
    compound = CompoundForm.objects.get(slug="magnesium-oxide")
    compound.formula = "CaCO3"

    with pytest.raises(ValidationError) as raised:
        compound.full_clean()

    assert raised.value.message_dict == {
        "formula": ["The formula 'CaCO3' contains no magnesium (Mg)."]
    }


def test_compound_derived_chemistry_follows_the_formula_on_save():
    compound = CompoundForm.objects.get(slug="magnesium-chloride-anhydrous")
    compound.formula = "MgCl2·6H2O"
    compound.save()

    compound.refresh_from_db()
    assert compound.hydrate == "hexahydrate"
    assert compound.water_of_hydration == 6
    assert compound.molar_mass_g_mol == Decimal("203.2950")
    assert compound.elemental_magnesium_percent.quantize(Decimal("0.01")) == Decimal("11.96")
