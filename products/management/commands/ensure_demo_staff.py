from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "magnesium-demo"


class Command(BaseCommand):
    help = "Create (or reset) the demo staff login for a local trial and print it."

    def handle(self, *args, **options):
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
