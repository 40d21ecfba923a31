"""Spreadsheet import and export in the product admin.

Import: upload, then a preview of what would be created, updated and unchanged and of every
problem, then confirm. Nothing is written before the confirmation; the upload waits in a
temporary folder under a random name that only the uploader's session knows.
Export: the changelist as it is filtered, or the selected products (an action).
"""

import secrets
import tempfile
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from products.spreadsheet.exporting import csv_lines, export_rows, write_xlsx
from products.spreadsheet.importing import import_products
from products.spreadsheet.reading import FORMATS, SpreadsheetError, file_format

UPLOAD_DIR = Path(tempfile.gettempdir()) / "formulary-product-imports"
SESSION_KEY = "product_import"
PREVIEW_PROBLEMS = 500
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Spreadsheet (CSV or XLSX)"),
        help_text=gettext_lazy(
            "One row per ingredient line; rows with the same GTIN form one product. "
            "You see what would change before anything is saved."
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:
            file_format(upload.name)
        except SpreadsheetError as error:
            raise forms.ValidationError(error.message) from error
        limit = settings.SPREADSHEET_MAX_FILE_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                _("The file is %(size)d MB; at most %(limit)d MB can be imported. Split it.")
                % {"size": upload.size // (1024 * 1024), "limit": limit // (1024 * 1024)}
            )
        return upload


def export_filename(suffix: str) -> str:
    return f"products-{timezone.localdate().isoformat()}{suffix}"


def export_response(products, suffix: str):
    if suffix == ".csv":
        response = StreamingHttpResponse(
            csv_lines(export_rows(products)), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{export_filename(suffix)}"'
        return response
    # FileResponse closes the file when it has been sent.
    target = tempfile.TemporaryFile()  # noqa: SIM115
    write_xlsx(export_rows(products), target)
    target.seek(0)
    return FileResponse(
        target, as_attachment=True, filename=export_filename(suffix), content_type=XLSX_TYPE
    )


class SpreadsheetAdminMixin:
    """For the Product admin: import and export views, export actions, changelist buttons."""

    change_list_template = "admin/products/product/change_list.html"

    def has_import_permission(self, request) -> bool:
        return request.user.has_perm("products.import_products")

    def has_export_permission(self, request) -> bool:
        return request.user.has_perm("products.export_products")

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("import/", view(self.import_view), name="products_product_import"),
            path(
                "export/<str:extension>/",
                view(self.export_view),
                name="products_product_export",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "has_import_permission": self.has_import_permission(request),
            "has_export_permission": self.has_export_permission(request),
        }
        return super().changelist_view(request, extra_context)

    # ---- export -------------------------------------------------------------------------

    def export_view(self, request, extension: str):
        if not self.has_export_permission(request):
            raise PermissionDenied
        suffix = f".{extension}"
        if suffix not in FORMATS:
            raise PermissionDenied
        # The changelist's own filters and search, read from the same query string.
        products = self.get_changelist_instance(request).get_queryset(request)
        return export_response(products, suffix)

    def export_selected_csv(self, request, queryset):
        return export_response(queryset, ".csv")

    export_selected_csv.short_description = gettext_lazy("Export selected products (CSV)")
    export_selected_csv.allowed_permissions = ["export"]

    def export_selected_xlsx(self, request, queryset):
        return export_response(queryset, ".xlsx")

    export_selected_xlsx.short_description = gettext_lazy("Export selected products (XLSX)")
    export_selected_xlsx.allowed_permissions = ["export"]

    # ---- import -------------------------------------------------------------------------

    def import_view(self, request):
        if not self.has_import_permission(request):
            raise PermissionDenied
        if request.method == "POST" and "confirm" in request.POST:
            return self.import_confirm(request)
        form = ImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            UPLOAD_DIR.mkdir(parents=True, exist_ok=True)
            token = secrets.token_hex(16)
            stored = UPLOAD_DIR / f"{token}{file_format(upload.name)}"
            with stored.open("wb") as target:
                for chunk in upload.chunks():
                    target.write(chunk)
            request.session[SESSION_KEY] = {"token": token, "name": upload.name}
            return self.import_preview(request, stored, upload.name, token)
        return self.render_import(request, {"form": form})

    def import_preview(self, request, stored: Path, name: str, token: str):
        try:
            report = import_products(stored, name=name, dry_run=True)
        except SpreadsheetError as error:
            stored.unlink(missing_ok=True)
            return self.render_import(
                request, {"form": ImportForm(), "file_error": error.message}, status=400
            )
        if not report.ok:
            stored.unlink(missing_ok=True)
            request.session.pop(SESSION_KEY, None)
        return self.render_import(
            request,
            {
                "report": report,
                "problems": report.problems[:PREVIEW_PROBLEMS],
                "hidden_problems": max(len(report.problems) - PREVIEW_PROBLEMS, 0),
                "file_name": name,
                "token": token,
            },
        )

    def import_confirm(self, request):
        pending = request.session.get(SESSION_KEY) or {}
        token = request.POST.get("confirm", "")
        name = pending.get("name", "")
        stored = UPLOAD_DIR / f"{token}{Path(name).suffix.lower()}"
        if not token or pending.get("token") != token or not stored.is_file():
            messages.error(request, _("That upload is no longer waiting; upload the file again."))
            return HttpResponseRedirect(reverse("admin:products_product_import"))
        del request.session[SESSION_KEY]
        try:
            report = import_products(stored, name=name, user=request.user)
        except SpreadsheetError as error:
            messages.error(request, error.message)
            return HttpResponseRedirect(reverse("admin:products_product_import"))
        finally:
            stored.unlink(missing_ok=True)
        if not report.ok:
            # The catalogue changed between the preview and the confirmation.
            return self.render_import(
                request,
                {
                    "report": report,
                    "problems": report.problems[:PREVIEW_PROBLEMS],
                    "file_name": name,
                },
            )
        messages.success(
            request,
            _(
                "Imported %(name)s: %(created)d created, %(updated)d updated, "
                "%(unchanged)d unchanged."
            )
            % {
                "name": name,
                "created": report.created,
                "updated": report.updated,
                "unchanged": report.unchanged,
            },
        )
        return HttpResponseRedirect(reverse("admin:products_product_changelist"))

    def render_import(self, request, context: dict, *, status: int = 200):
        return render(
            request,
            "admin/products/product/import.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": _("Import products from a spreadsheet"),
                **context,
            },
            status=status,
        )
