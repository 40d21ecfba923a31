"""Audit history: who changed what, when, and through which path (admin, API, import, command).

django-simple-history records the who, when and what of every save and delete of a registered
model. The path is ours: a context variable that the request middleware sets from the URL
(config.middleware.HistoryPathMiddleware) and that an import sets with ``recording_path``.
Anything else (management commands, fixture loads, the shell) is recorded as "command".
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import models
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_record


class ChangePath(models.TextChoices):
    ADMIN = "admin", _("admin")
    API = "api", _("API")
    IMPORT = "import", _("spreadsheet import")
    COMMAND = "command", _("command or data load")


_current_path: ContextVar[str] = ContextVar("history_path", default=ChangePath.COMMAND)


def current_path() -> str:
    return _current_path.get()


@contextmanager
def recording_path(path: str) -> Iterator[None]:
    """Record every change made inside the block as made through ``path``."""
    token = _current_path.set(path)
    try:
        yield
    finally:
        _current_path.reset(token)


class ChangePathRecord(models.Model):
    """The base of every historical model: adds the path of the change."""

    history_path = models.CharField(_("changed through"), max_length=10, choices=ChangePath.choices)

    class Meta:
        abstract = True


def audit_history(**options) -> HistoricalRecords:
    """The HistoricalRecords of a model of this project, with the change path."""
    return HistoricalRecords(bases=[ChangePathRecord], **options)


def history_attrs() -> dict:
    """The custom fields of a history row written in bulk (bulk_*_with_history)."""
    return {"history_path": current_path()}


@receiver(pre_create_historical_record, dispatch_uid="formulary_history_path")
def record_change_path(sender, history_instance, **kwargs):
    history_instance.history_path = current_path()


def bulk_history_delete(objs: Iterable[models.Model], model: type[models.Model], *, user=None):
    """Write the "deleted" history rows of ``objs`` that a queryset delete() is about to remove.

    simple-history records deletions only through Model.delete(); bulk writes call this first.
    """
    history_model = model.history.model
    fields = history_model.tracked_fields
    now = timezone.now()
    rows = [
        history_model(
            history_date=now,
            history_user=user or history_model.get_default_history_user(obj),
            history_type="-",
            history_change_reason="",
            **history_attrs(),
            **{field.attname: getattr(obj, field.attname) for field in fields},
        )
        for obj in objs
    ]
    return history_model.objects.bulk_create(rows, batch_size=2000)
