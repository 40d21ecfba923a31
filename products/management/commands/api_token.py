"""Issues, lists and revokes the API tokens of a user.

Tokens are stored hashed (django-rest-knox): a token is shown once, when it is issued, and
can never be shown again. Only its first characters (the key) are kept readable, to tell
tokens apart when listing and revoking them.
"""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from knox.models import AuthToken
from knox.settings import knox_settings

KEY_SHOWN = 8
WRITE_PERMISSIONS = ("products.add_product", "products.change_product", "products.delete_product")


class Command(BaseCommand):
    help = (
        "API tokens per user: `issue USERNAME [--expiry-days N]` prints a new token once; "
        "`list [USERNAME]` shows tokens by key; `revoke USERNAME [--key KEY]` deletes all of "
        "the user's tokens, or the one with that key."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        issue = actions.add_parser("issue", help="Issue a token and print it once.")
        issue.add_argument("username")
        issue.add_argument(
            "--expiry-days",
            type=int,
            default=knox_settings.TOKEN_TTL.days,
            help="Days until the token expires (default: API_TOKEN_TTL_DAYS, %(default)s).",
        )
        listing = actions.add_parser("list", help="List the tokens, without their secrets.")
        listing.add_argument("username", nargs="?")
        revoke = actions.add_parser("revoke", help="Revoke a user's tokens.")
        revoke.add_argument("username")
        revoke.add_argument("--key", help="Revoke only the token whose key starts with this.")

    def handle(self, *args, action, **options):
        getattr(self, action)(**options)

    def user(self, username):
        try:
            return get_user_model().objects.get_by_natural_key(username)
        except get_user_model().DoesNotExist as error:
            raise CommandError(f"No user {username!r}.") from error

    def issue(self, *, username, expiry_days, **_):
        if expiry_days < 1:
            raise CommandError("--expiry-days must be at least 1.")
        user = self.user(username)
        if not user.is_active:
            raise CommandError(f"User {username!r} is inactive; activate the user first.")
        token_row, token = AuthToken.objects.create(user, expiry=timedelta(days=expiry_days))
        granted = [perm for perm in WRITE_PERMISSIONS if user.has_perm(perm)]
        self.stderr.write(
            f"Token {token_row.token_key[:KEY_SHOWN]} for {username}, valid until "
            f"{timezone.localtime(token_row.expiry):%Y-%m-%d %H:%M}; product permissions: "
            f"{', '.join(p.split('.')[1] for p in granted) or 'none (reads only)'}.\n"
            "Store it now: it is kept only hashed and cannot be shown again. "
            "Send it as `Authorization: Token <token>`."
        )
        # The token alone on standard output, so a script can capture it.
        self.stdout.write(token)

    def list(self, *, username, **_):
        tokens = AuthToken.objects.select_related("user").order_by("user__username", "created")
        if username:
            tokens = tokens.filter(user=self.user(username))
        now = timezone.now()
        for row in tokens:
            expired = " (expired)" if row.expiry and row.expiry < now else ""
            expiry = f"{timezone.localtime(row.expiry):%Y-%m-%d %H:%M}" if row.expiry else "never"
            self.stdout.write(
                f"{row.token_key[:KEY_SHOWN]}  {row.user.get_username()}  "
                f"created {timezone.localtime(row.created):%Y-%m-%d %H:%M}  "
                f"expires {expiry}{expired}"
            )
        if not tokens:
            self.stdout.write("No tokens.")

    def revoke(self, *, username, key, **_):
        tokens = AuthToken.objects.filter(user=self.user(username))
        if key:
            tokens = tokens.filter(token_key__startswith=key)
        count, _ = tokens.delete()
        if key and not count:
            raise CommandError(f"{username} has no token with key {key!r}.")
        self.stdout.write(f"Revoked {count} token(s) of {username}.")
