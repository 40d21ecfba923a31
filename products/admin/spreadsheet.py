"""Spreadsheet import and export in the product admin.

Import: upload, then a preview of what would be created, updated and unchanged and of every
problem, then confirm. Nothing is written before the confirmation; the upload waits in a
temporary folder under a random name that is never shown. The check and the write are
background jobs (products/spreadsheet/jobs.py) whose progress the import page follows.
Export: the changelist as it is filtered, or the selected products (an action).
"""

import tempfile
import uuid

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from products.enums import ImportJobStatus
from products.models import ImportJob
from products.spreadsheet.exporting import csv_lines, export_rows, write_xlsx
from products.spreadsheet.guide import column_guide, template_rows
from products.spreadsheet.jobs import (
    import_job_confirm,
    import_job_progress,
    import_job_start,
    job_report,
)
from products.spreadsheet.reading import FORMATS, SpreadsheetError, file_format

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
    return rows_response(export_rows(products), suffix, export_filename(suffix))


def rows_response(rows, suffix: str, filename: str):
    if suffix == ".csv":
        response = StreamingHttpResponse(csv_lines(rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    # FileResponse closes the file when it has been sent.
    target = tempfile.TemporaryFile()  # noqa: SIM115
    write_xlsx(rows, target)
    target.seek(0)
    return FileResponse(target, as_attachment=True, filename=filename, content_type=XLSX_TYPE)


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
                "import/template.<str:extension>",
                view(self.import_template_view),
                name="products_product_import_template",
            ),
            path(
                "import/<uuid:token>/",
                view(self.import_job_view),
                name="products_product_import_job",
            ),
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

    # ---- import ----------------------------------------------------------------------------
    # The check and the write run as background jobs (products/spreadsheet/jobs.py); these
    # views upload, follow a job's progress and confirm it.

    def import_template_view(self, request, extension: str):
        """The import's header and one example row, to fill in (CSV or XLSX)."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        suffix = f".{extension}"
        if suffix not in FORMATS:
            raise PermissionDenied
        return rows_response(iter(template_rows()), suffix, f"products-template{suffix}")

    def import_view(self, request):
        if not self.has_import_permission(request):
            raise PermissionDenied
        if request.method == "POST" and "confirm" in request.POST:
            return self.import_confirm(request)
        form = ImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            job = import_job_start(
                user=request.user,
                upload=form.cleaned_data["file"],
                language=translation.get_language() or "",
            )
            return HttpResponseRedirect(self.job_url(job))
        return self.render_import(request, {"form": form})

    def job_url(self, job: ImportJob) -> str:
        return reverse("admin:products_product_import_job", args=[job.token])

    def user_job(self, request, token) -> ImportJob | None:
        try:
            token = uuid.UUID(str(token))
        except ValueError:
            return None
        jobs = ImportJob.objects.filter(token=token)
        if not request.user.is_superuser:
            jobs = jobs.filter(user=request.user)
        return jobs.first()

    def import_job_view(self, request, token):
        if not self.has_import_permission(request):
            raise PermissionDenied
        job = self.user_job(request, token)
        if job is None:
            messages.error(request, _("That upload is no longer waiting; upload the file again."))
            return HttpResponseRedirect(reverse("admin:products_product_import"))
        if job.status == ImportJobStatus.IMPORTED:
            report = job_report(job)
            messages.success(
                request,
                _(
                    "Imported %(name)s: %(created)d created, %(updated)d updated, "
                    "%(unchanged)d unchanged."
                )
                % {
                    "name": job.file_name,
                    "created": report.created,
                    "updated": report.updated,
                    "unchanged": report.unchanged,
                },
            )
            return HttpResponseRedirect(reverse("admin:products_product_changelist"))
        if job.status == ImportJobStatus.FAILED:
            return self.render_import(
                request, {"form": ImportForm(), "file_error": job.report["error"]}, status=400
            )
        if job.status in (ImportJobStatus.QUEUED, ImportJobStatus.RUNNING):
            return self.render_import(
                request, {"job": job, "job_progress": import_job_progress(job)}
            )
        report = job_report(job)
        problem_count = job.report["problem_count"]
        return self.render_import(
            request,
            {
                "job": job,
                "report": report,
                "problems": report.problems[:PREVIEW_PROBLEMS],
                "problem_count": problem_count,
                "hidden_problems": max(problem_count - PREVIEW_PROBLEMS, 0),
                "file_name": job.file_name,
                "token": job.token if job.status == ImportJobStatus.PREVIEWED else "",
            },
        )

    def import_confirm(self, request):
        job = self.user_job(request, request.POST.get("confirm", ""))
        if job is None or not import_job_confirm(job):
            messages.error(request, _("That upload is no longer waiting; upload the file again."))
            return HttpResponseRedirect(reverse("admin:products_product_import"))
        return HttpResponseRedirect(self.job_url(job))

    def render_import(self, request, context: dict, *, status: int = 200):
        return render(
            request,
            "admin/products/product/import.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": _("Import products from a spreadsheet"),
                "columns": column_guide(),
                **context,
            },
            status=status,
        )
