"""Spreadsheet import and export: the command, the format rules and the admin's preview."""

import csv
import io
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.test import TestCase
from django.urls import reverse

from products.models import Brand, IngredientLine, NutrientLine, Product
from products.selectors import product_dose, products_with_lines
from products.spreadsheet.columns import ALL_COLUMNS
from tests.test_admin import FIRST_DEMO, new_gtin, staff_client

pytestmark = pytest.mark.django_db

IMPORT = reverse("admin:products_product_import")
PRODUCTS = reverse("admin:products_product_changelist")
HEADER = ",".join(ALL_COLUMNS)


def row(gtin, compound="magnesium-oxide", amount="100", basis="elemental", **product):
    cells = {
        "gtin": gtin,
        "brand": "Testmerk",
        "name": "Test",
        "dosage_form": "capsule",
        "units_per_serving": "1",
        "servings_per_day": "2",
        "status": "draft",
        "units_per_package": "60",
        "vegan": "true",
        "gluten_free": "false",
        "lactose_free": "false",
        "price_eur": "9.95",
        "label_elemental_mg_per_serving": "",
        "nutrients": "",
        "compound": compound,
        "amount_mg": amount,
        "amount_basis": basis,
        **product,
    }
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow([cells[c] for c in ALL_COLUMNS])
    return out.getvalue()


def write(tmp_path, lines, name="products.csv", header=HEADER):
    path = tmp_path / name
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def run_import(path, *args):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_products", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def rejected(path, *args):
    err = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("import_products", str(path), *args, stdout=io.StringIO(), stderr=err)
    return raised.value, err.getvalue()


def export(tmp_path, name="export.csv"):
    path = tmp_path / name
    call_command("export_products", str(path), stderr=io.StringIO())
    return path


def table_counts():
    return {
        model.__name__: (model.objects.count(), model.history.count())
        for model in (Product, IngredientLine, NutrientLine, Brand)
    }


def every_table_count():
    """Rows of every table, history tables included."""
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


# ---- importing ------------------------------------------------------------------------


def test_import_creates_products_lines_and_brand_with_the_computed_amounts(tmp_path):
    first, second = new_gtin(1), new_gtin(2)
    path = write(
        tmp_path,
        [
            row(first, "magnesium-oxide", "100", "elemental", nutrients="vitamin-b6:1.4"),
            row(first, "magnesium-bisglycinate", "500", "compound", nutrients="vitamin-b6:1.4"),
            row(second, "magnesium-citrate-tri-anhydrous", "200", "elemental", brand="Nieuw Merk"),
        ],
    )

    out, err = run_import(path)

    assert "3 rows, 2 products: 2 were created, 0 were updated, 0 unchanged." in out
    assert "New brands: Nieuw Merk, Testmerk." in out
    assert "3 rows validated" in err
    assert "2 of 2 new products written" in err
    product = products_with_lines().get(gtin=first)
    assert [(line.compound.slug, line.amount_mg) for line in product.ingredients.all()] == [
        ("magnesium-oxide", Decimal("100")),
        ("magnesium-bisglycinate", Decimal("500")),
    ]
    assert [(n.nutrient.slug, n.amount) for n in product.nutrients.all()] == [
        ("vitamin-b6", Decimal("1.4"))
    ]
    dose = product_dose(product)
    assert product.elemental_mg_per_day == dose.elemental_mg_per_day.quantize(Decimal("0.0001"))
    assert Brand.objects.get(name="Nieuw Merk").slug == "nieuw-merk"


def test_import_upsert_replaces_the_lines_of_an_existing_product(tmp_path):
    product = Product.objects.get(gtin=FIRST_DEMO)
    path = write(
        tmp_path,
        [
            row(FIRST_DEMO, "magnesium-oxide", "150", "elemental", brand=product.brand.name),
            row(FIRST_DEMO, "magnesium-taurate", "300", "compound", brand=product.brand.name),
        ],
    )

    out, _ = run_import(path)

    assert "0 were created, 1 were updated, 0 unchanged" in out
    product.refresh_from_db()
    assert list(product.ingredients.values_list("compound__slug", "amount_mg")) == [
        ("magnesium-oxide", Decimal("150")),
        ("magnesium-taurate", Decimal("300")),
    ]
    assert product.name == "Test"
    assert product.elemental_mg_per_day == product_dose(
        products_with_lines().get(pk=product.pk)
    ).elemental_mg_per_day.quantize(Decimal("0.0001"))


def test_import_dry_run_reports_the_counts_and_writes_nothing(tmp_path):
    exported = export(tmp_path).read_text(encoding="utf-8").splitlines()
    changed = exported[1].replace("Magnesium Bisglycinaat Nacht", "Nieuwe naam")
    path = write(tmp_path, [changed, *exported[2:], row(new_gtin(3))], name="dry.csv")
    before = table_counts()

    out, _ = run_import(path, "--dry-run")

    assert "56 products: 1 would be created, 1 would be updated, 54 unchanged." in out
    assert table_counts() == before
    assert Product.objects.get(gtin=FIRST_DEMO).name == "Magnesium Bisglycinaat Nacht"


BAD_ROWS = [
    # (cells, the (row, column) of each problem it causes)
    ({"gtin": "2000000000016"}, [("gtin", "the last digit should be 5")]),
    ({"dosage_form": "gummy"}, [("dosage_form", "is not one of: capsule, tablet")]),
    ({"amount": "-0"}, [("amount_mg", "is negative")]),
    ({"amount": "NaN"}, [("amount_mg", "")]),
    ({"amount": "1e400"}, [("amount_mg", "")]),
    ({"amount": "1,5"}, [("amount_mg", "use a point as the decimal separator")]),
    ({"compound": "magnesium-unobtainium"}, [("compound", "Unknown compound")]),
    ({"basis": "salt"}, [("amount_basis", "is not one of: compound, elemental")]),
    ({"vegan": "misschien"}, [("vegan", "Write true or false")]),
    ({"nutrients": "vitamin-x:1"}, [("nutrients", "Unknown nutrient")]),
    ({"price_eur": "-1"}, [("price_eur", "is negative")]),
    ({"units_per_serving": "0"}, [("units_per_serving", "")]),
    ({"servings_per_day": ""}, [("servings_per_day", "a value is required")]),
]


def test_import_reports_every_problem_with_row_and_column_and_writes_nothing(tmp_path):
    lines, expected = [], []
    for serial, (cells, problems) in enumerate(BAD_ROWS, start=10):
        cells = dict(cells)
        lines.append(
            row(
                cells.pop("gtin", new_gtin(serial)),
                cells.pop("compound", "magnesium-oxide"),
                cells.pop("amount", "100"),
                cells.pop("basis", "elemental"),
                **cells,
            )
        )
        expected += [(len(lines) + 1, column, text) for column, text in problems]
    # Two rows of one product that disagree on the name and repeat a compound.
    lines.append(row(new_gtin(90)))
    lines.append(row(new_gtin(90), name="Other name"))
    expected += [(len(lines) + 1, "name", "differs from"), (len(lines) + 1, "compound", "once")]
    path = write(tmp_path, lines)
    before = table_counts()

    error, err = rejected(path)

    assert error.returncode == 1
    reported = [line for line in err.splitlines() if line.startswith("  row ")]
    assert [line.split(":")[0].strip() for line in reported] == [
        f"row {r}, column {c}" for r, c, _ in sorted(expected)
    ]
    for line, (_, _, text) in zip(reported, sorted(expected), strict=True):
        assert text in line
    assert table_counts() == before


def test_import_bad_row_99999_of_100000_leaves_every_table_and_its_history_as_before(tmp_path):
    # Issue 7's "nothing lost": 50,000 products of two lines each, the second to last row bad.
    lines = []
    for serial in range(50_000):
        gtin = new_gtin(100_000 + serial)
        lines.append(row(gtin, "magnesium-oxide", "100"))
        lines.append(row(gtin, "magnesium-citrate-tri-anhydrous", "50"))
    lines[99_997] = row(new_gtin(100_000 + 49_998), "magnesium-oxide", "abc")
    path = write(tmp_path, lines)
    before = every_table_count()

    error, err = rejected(path)

    assert error.returncode == 1
    assert "  row 99999, column amount_mg: " in err
    assert "100000 rows validated" in err
    assert every_table_count() == before


def test_import_new_product_without_units_per_package_column_is_a_problem(tmp_path):
    columns = [c for c in ALL_COLUMNS if c != "units_per_package"]
    path = tmp_path / "short.csv"
    path.write_text(
        ",".join(columns) + "\n" + f"{new_gtin(5)},Merk,Naam,capsule,1,1,draft,"
        "false,false,false,,,,magnesium-oxide,100,elemental\n",
        encoding="utf-8",
    )

    _, err = rejected(path)

    assert "row 2, column units_per_package: GTIN" in err


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("products.txt", b"gtin\n", "is not a CSV or XLSX file"),
        ("products.csv", HEADER.encode() + "\n\xe9\n".encode("latin-1"), "not UTF-8"),
        ("products.csv", b"gtin,brand,name\n", "Required columns are missing: dosage_form"),
        ("products.csv", (HEADER + ",colour\n").encode(), "Unknown columns: colour"),
        ("products.xlsx", b"not a workbook", "cannot be read as an XLSX workbook"),
    ],
)
def test_import_refuses_a_file_it_cannot_read(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)

    error, _ = rejected(path)

    assert error.returncode == 2
    assert message in str(error)


def test_import_reads_semicolon_separated_csv(tmp_path):
    path = tmp_path / "nl.csv"
    path.write_text(
        HEADER.replace(",", ";") + "\n" + row(new_gtin(6)).replace(",", ";") + "\n",
        encoding="utf-8",
    )

    out, _ = run_import(path, "--dry-run")

    assert "1 would be created" in out


# ---- round trip -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["export.csv", "export.xlsx"])
def test_export_imports_back_unchanged(tmp_path, name):
    path = export(tmp_path, name)

    out, _ = run_import(path, "--dry-run")

    assert f"{Product.objects.count()} products: 0 would be created, 0 would be updated" in out


def test_export_into_an_empty_catalogue_and_out_again_is_identical(tmp_path):
    first = export(tmp_path, "first.csv")
    Product.objects.all().delete()
    Brand.objects.all().delete()

    run_import(first)
    second = export(tmp_path, "second.csv")

    assert second.read_text(encoding="utf-8") == first.read_text(encoding="utf-8")
    assert len(first.read_text(encoding="utf-8").splitlines()) == IngredientLine.objects.count() + 1


def test_export_to_stdout_is_csv_ordered_by_gtin():
    out = io.StringIO()

    call_command("export_products", "-", stdout=out)

    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [r["gtin"] for r in rows] == sorted(r["gtin"] for r in rows)
    assert len(rows) == IngredientLine.objects.count()


# ---- the admin ------------------------------------------------------------------------


def upload(client, path):
    """Upload as staff do, let the background job run (Huey's immediate mode, after the
    commit), and open the job's page as the browser's redirect does."""
    with path.open("rb") as handle, TestCase.captureOnCommitCallbacks(execute=True):
        posted = client.post(IMPORT, {"file": handle})
    if posted.status_code != 302:
        return posted
    return client.get(posted.headers["Location"])


def confirm(client, token):
    with TestCase.captureOnCommitCallbacks(execute=True):
        posted = client.post(IMPORT, {"confirm": token})
    return client.get(posted.headers["Location"], follow=True)


def test_admin_import_preview_writes_nothing_until_confirmed(tmp_path, client, django_user_model):
    shop = staff_client(client, django_user_model, "Shop staff")
    gtin = new_gtin(7)
    path = write(tmp_path, [row(gtin)])
    before = table_counts()

    preview = upload(shop, path)

    assert preview.status_code == 200
    assert preview.context["report"].created == 1
    assert "Nothing has been saved yet." in preview.content.decode()
    assert table_counts() == before
    confirmed = confirm(shop, preview.context["token"])
    assert Product.objects.filter(gtin=gtin).exists()
    assert [str(m) for m in confirmed.context["messages"]] == [
        "Imported products.csv: 1 created, 0 updated, 0 unchanged."
    ]


def test_admin_import_preview_lists_the_problems_and_offers_no_confirmation(
    tmp_path, client, django_user_model
):
    shop = staff_client(client, django_user_model, "Shop staff")
    path = write(tmp_path, [row(new_gtin(8), amount="0")])

    preview = upload(shop, path)

    html = preview.content.decode()
    assert [(p.row, p.column) for p in preview.context["problems"]] == [(2, "amount_mg")]
    assert 'name="confirm"' not in html
    assert shop.post(IMPORT, {"confirm": preview.context["token"]}).status_code == 302
    assert not Product.objects.filter(gtin=new_gtin(8)).exists()


def test_admin_import_is_refused_to_a_pharmacist_editor(tmp_path, client, django_user_model):
    pharmacist = staff_client(client, django_user_model, "Pharmacist editors")

    assert pharmacist.get(IMPORT).status_code == 403


def test_admin_export_follows_the_changelist_filter(client, django_user_model):
    shop = staff_client(client, django_user_model, "Shop staff")
    url = reverse("admin:products_product_export", args=["csv"])

    response = shop.get(url, {"status__exact": "draft"})

    text = b"".join(response.streaming_content).decode()
    gtins = {r["gtin"] for r in csv.DictReader(io.StringIO(text))}
    assert gtins == set(Product.objects.filter(status="draft").values_list("gtin", flat=True))


def test_admin_export_selected_products_as_xlsx_imports_back(tmp_path, client, django_user_model):
    shop = staff_client(client, django_user_model, "Shop staff")
    selected = list(Product.objects.order_by("gtin")[:3])

    response = shop.post(
        PRODUCTS,
        {"action": "export_selected_xlsx", "_selected_action": [p.pk for p in selected]},
    )
    path = tmp_path / "selected.xlsx"
    path.write_bytes(b"".join(response.streaming_content))

    out, _ = run_import(path, "--dry-run")
    assert "3 products: 0 would be created, 0 would be updated, 3 unchanged" in out


def test_import_amounts_too_large_to_store_is_a_problem_and_writes_nothing(tmp_path):
    # 156,692.635 mg elemental per serving at 777.54 servings a day is 121,833,791 mg a day:
    # more than the stored daily amount can hold. Found by the round-trip property test.
    path = write(tmp_path, [row(new_gtin(95), amount="156692.635", servings_per_day="777.54")])
    before = table_counts()

    error, err = rejected(path)

    assert error.returncode == 1
    reported = [line for line in err.splitlines() if line.startswith("  row ")]
    assert len(reported) == 1
    assert reported[0].startswith("  row 2, column amount_mg:")
    assert (
        "121834791 mg elemental magnesium a day, more than the catalogue can hold" in (reported[0])
    )
    assert table_counts() == before
