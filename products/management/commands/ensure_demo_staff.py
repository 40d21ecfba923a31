from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "magnesium-demo"


class Command(BaseCommand):
    help = "Create (or reset) the demo staff login for a local trial and print it."

    def handle(self, *args, **options):
        # A superuser with a published password is a local trial's convenience and a
        # production server's open door.
        if not settings.DEMO_LOGINS_ALLOWED:
            raise CommandError(
                "ensure_demo_staff creates a login with a published password and refuses to "
                "run with DJANGO_ENV=production. Create staff with createsuperuser instead."
            )
        user, _ = get_user_model().objects.get_or_create(username=DEMO_USERNAME)
        user.is_staff = True
        user.is_superuser = True
        user.set_password(DEMO_PASSWORD)
        user.save()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo staff login for /admin/: username {DEMO_USERNAME!r}, "
                f"password {DEMO_PASSWORD!r}"
            )
        )
