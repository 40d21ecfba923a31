from django.core.management.base import BaseCommand, CommandError

from products.demo_staff import DemoStaffRefused, demo_staff_ensure


class Command(BaseCommand):
    help = (
        "Create (or reset) the demo logins for a local trial, one per role, and print them. "
        "Refused when DJANGO_ENV=production."
    )

    def handle(self, *args, **options):
        try:
            logins = demo_staff_ensure()
        except DemoStaffRefused as error:
            raise CommandError(str(error)) from error
        self.stdout.write(self.style.SUCCESS("Demo logins for /admin/:"))
        for login in logins:
            role = login.role or "superuser"
            self.stdout.write(
                f"  {role:<20} username {login.username!r:<13} password {login.password!r}"
            )
