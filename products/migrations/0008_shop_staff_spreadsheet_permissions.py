"""Shop staff may import and export the catalogue as a spreadsheet."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CODENAMES = ("import_products", "export_products")


def grant(apps, schema_editor):
    using = schema_editor.connection.alias
    app_config = apps.get_app_config("products")
    # As in 0002: permissions are created after the last migration, so the new ones are made here.
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0, using=using)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = Permission.objects.using(using).filter(
        content_type__app_label="products", codename__in=CODENAMES
    )
    group, _ = Group.objects.using(using).get_or_create(name="Shop staff")
    group.permissions.add(*permissions)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    using = schema_editor.connection.alias
    permissions = Permission.objects.using(using).filter(
        content_type__app_label="products", codename__in=CODENAMES
    )
    for group in Group.objects.using(using).filter(name="Shop staff"):
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("products", "0007_audit_history_and_spreadsheet_permissions"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
