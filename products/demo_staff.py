"""The demo logins of a local trial: one per role, so a newcomer sees what each role sees.

Shop staff curate the catalogue; pharmacist editors keep the knowledge base. The superuser is
there for everything else. The groups come from the data migration products.0002.
"""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str  # the group's name, or "" for the superuser


DEMO_LOGINS = (
    DemoLogin("demo", "magnesium-demo", ""),
    DemoLogin("winkel", "winkel-demo", "Shop staff"),
    DemoLogin("apotheker", "apotheker-demo", "Pharmacist editors"),
)


class DemoStaffRefused(Exception):
    pass


@transaction.atomic
def demo_staff_ensure() -> tuple[DemoLogin, ...]:
    """Create or reset the demo logins; refused on a production profile (DJANGO_ENV)."""
    if settings.DJANGO_ENV == "production":
        # Known passwords on a production database would be an open door.
        raise DemoStaffRefused(
            "DJANGO_ENV is production: demo logins are for local trials only; none was created."
        )
    for login in DEMO_LOGINS:
        user, _created = get_user_model().objects.get_or_create(username=login.username)
        user.is_staff = True
        user.is_superuser = not login.role
        user.set_password(login.password)
        user.save()
        user.groups.set([Group.objects.get(name=login.role)] if login.role else [])
    return DEMO_LOGINS
