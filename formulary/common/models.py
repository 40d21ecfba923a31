"""The platform's own table: the version counters that key every cached answer.

Imported by ``formulary.models`` so that Django registers it with the ``formulary`` app (a
model needs an app); it belongs to the platform, not to the vocabulary.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CatalogueVersion(models.Model):
    """One counter per kind of answer (see ``formulary.common.catalogue_version``).

    In the database, not in the cache, so that a write raises it in its own transaction: every
    process sees the new version exactly when it sees the new data.
    """

    key = models.CharField(_("key"), max_length=64, primary_key=True)
    value = models.BigIntegerField(_("value"))

    class Meta:
        app_label = "formulary"
        verbose_name = _("catalogue version")
        verbose_name_plural = _("catalogue versions")
        ordering = ["key"]

    def __str__(self):
        return f"{self.key}={self.value}"
