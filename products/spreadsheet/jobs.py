"""Spreadsheet imports from the admin as background jobs on Huey.

A 150,000-row file passed the preview and then died at the web worker's 30 s timeout with
nothing written. Now an upload becomes an ``ImportJob``: a worker checks it (the preview),
staff confirm, a worker writes it, all or nothing, through the same ``import_products`` the
command uses. The admin page follows the job's progress, which the worker writes to the
cache (the job's own row changes only when a run ends: the write is one transaction, and
its progress must be visible before it commits).

Huey runs on the Redis of the deployment (``REDIS_URL``: ``manage.py run_huey`` is the
worker); without Redis, the embedded default, Huey's immediate mode runs a job inside the
request, so ``make demo`` needs no broker. Uploads nobody confirmed are removed after
``IMPORT_UPLOAD_MAX_AGE_HOURS``, by a periodic task, by every new upload and by
``manage.py clean_import_uploads``.
"""

import logging
import secrets
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from products.enums import ImportJobStatus
from products.models import ImportJob
from products.spreadsheet.importing import ImportReport, Problem, import_products
from products.spreadsheet.reading import SpreadsheetError, file_format

UPLOAD_DIR = Path(tempfile.gettempdir()) / "formulary-product-imports"
# Problems kept with a job for the admin to show; the count is kept whole.
KEPT_PROBLEMS = 500
PROGRESS_SECONDS = 24 * 3600
log = logging.getLogger(__name__)


def stored_path(job: ImportJob) -> Path:
    return UPLOAD_DIR / job.stored_name


def progress_key(job: ImportJob) -> str:
    return f"import-job:{job.token}:progress"


def import_job_progress(job: ImportJob) -> str:
    return cache.get(progress_key(job), "") or ""


def import_job_start(*, user, upload, language: str) -> ImportJob:
    """Store ``upload`` under a random name and queue its check (the preview)."""
    uploads_clean()
    UPLOAD_DIR.mkdir(parents=True, exist_ok=True)
    stored_name = f"{secrets.token_hex(16)}{file_format(upload.name)}"
    with (UPLOAD_DIR / stored_name).open("wb") as target:
        for chunk in upload.chunks():
            target.write(chunk)
    job = ImportJob.objects.create(
        user=user, file_name=upload.name[:255], stored_name=stored_name, language=language
    )
    transaction.on_commit(lambda: run_import_job(job.pk))
    return job


def import_job_confirm(job: ImportJob) -> bool:
    """Queue the write of a checked job; False when it is not waiting for confirmation."""
    queued = ImportJob.objects.filter(pk=job.pk, status=ImportJobStatus.PREVIEWED).update(
        status=ImportJobStatus.QUEUED, confirmed=True
    )
    if not queued or not stored_path(job).is_file():
        return False
    transaction.on_commit(lambda: run_import_job(job.pk))
    return True


@db_task()
def run_import_job(job_id: int) -> None:
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None or job.status != ImportJobStatus.QUEUED:
        return
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJobStatus.RUNNING)
    path = stored_path(job)

    def progress(message: str) -> None:
        cache.set(progress_key(job), message, PROGRESS_SECONDS)

    with translation.override(job.language or settings.LANGUAGE_CODE):
        job.status, job.report = run_import(job, path, progress)
    if job.status != ImportJobStatus.PREVIEWED:
        path.unlink(missing_ok=True)
    job.save(update_fields=["status", "report", "updated_at"])


def run_import(job: ImportJob, path: Path, progress) -> tuple[str, dict]:
    if not path.is_file():
        return ImportJobStatus.FAILED, {
            "error": _("The upload is no longer waiting; upload the file again.")
        }
    try:
        report = import_products(
            path,
            name=job.file_name,
            dry_run=not job.confirmed,
            user=job.user,
            progress=progress,
        )
    except SpreadsheetError as error:
        return ImportJobStatus.FAILED, {"error": error.message}
    except Exception:
        # A bug, not the file: logged with its traceback, shown as a plain failure.
        log.exception("Import job %s failed", job.token)
        return ImportJobStatus.FAILED, {"error": _("The import failed; nothing was saved.")}
    if not report.ok:
        return ImportJobStatus.REJECTED, report_data(report)
    if job.confirmed:
        return ImportJobStatus.IMPORTED, report_data(report)
    return ImportJobStatus.PREVIEWED, report_data(report)


def report_data(report: ImportReport) -> dict:
    return {
        "rows": report.rows,
        "products": report.products,
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "new_brands": report.new_brands[:KEPT_PROBLEMS],
        "problem_count": len(report.problems),
        "problems": [[p.row, p.column, p.message] for p in report.problems[:KEPT_PROBLEMS]],
    }


def job_report(job: ImportJob) -> ImportReport | None:
    """The stored report as the import's own report (problems cut at ``KEPT_PROBLEMS``)."""
    data = job.report
    if "rows" not in data:
        return None
    return ImportReport(
        rows=data["rows"],
        products=data["products"],
        created=data["created"],
        updated=data["updated"],
        unchanged=data["unchanged"],
        new_brands=data["new_brands"],
        problems=[Problem(*problem) for problem in data["problems"]],
        written=job.status == ImportJobStatus.IMPORTED,
    )


def uploads_clean(*, max_age_hours: float | None = None) -> int:
    """Remove uploads older than ``max_age_hours`` (default: the setting); returns how many."""
    hours = settings.IMPORT_UPLOAD_MAX_AGE_HOURS if max_age_hours is None else max_age_hours
    if not UPLOAD_DIR.is_dir():
        return 0
    oldest = time.time() - hours * 3600
    removed = 0
    for path in UPLOAD_DIR.iterdir():
        if path.is_file() and path.stat().st_mtime < oldest:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


@db_periodic_task(crontab(minute="*/30"))
def clean_abandoned_uploads() -> None:
    uploads_clean()
