"""The staff groups' permissions on the knowledge that 0002 and 0015 left out: the medications'
cited references (formulary 0003_medications_substances) and the "source of" rules and EU
health claims with their citations (formulary 0003_health_claims) came after 0002 and were
granted to nobody, so pharmacist editors could neither open them nor edit a medication's sources.

As in 0002 and 0015: pharmacist editors keep the knowledge base (every action), shop staff may
look at it. The code is 0015's, with its own list of models: a migration stays as it ran.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ALL = ("add", "change", "delete", "view")
VIEW = ("view",)

MODELS = {
    "formulary": (
        "medicationcitation",
        "sourceofrule",
        "sourceofrulecitation",
        "healthclaim",
        "healthclaimcitation",
    ),
}
ACTIONS = {"Pharmacist editors": ALL, "Shop staff": VIEW}


def permissions_of(apps, using, actions):
    Permission = apps.get_model("auth", "Permission")
    wanted = {
        (app_label, f"{action}_{model}")
        for app_label, models in MODELS.items()
        for model in models
        for action in actions
    }
    permissions = [
        permission
        for permission in Permission.objects.using(using)
        .filter(content_type__app_label__in=MODELS)
        .select_related("content_type")
        if (permission.content_type.app_label, permission.codename) in wanted
    ]
    found = {(p.content_type.app_label, p.codename) for p in permissions}
    if found != wanted:
        missing = ", ".join(sorted(".".join(pair) for pair in wanted - found))
        raise RuntimeError(f"Permissions missing: {missing}")
    return permissions


def grant(apps, schema_editor):
    using = schema_editor.connection.alias
    for label in MODELS:
        app_config = apps.get_app_config(label)
        # create_permissions skips app configs without a models module (see 0002).
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0, using=using)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    for name, actions in ACTIONS.items():
        group, _ = Group.objects.using(using).get_or_create(name=name)
        group.permissions.add(*permissions_of(apps, using, actions))


def revoke(apps, schema_editor):
    using = schema_editor.connection.alias
    Group = apps.get_model("auth", "Group")
    everything = permissions_of(apps, using, ALL)
    for group in Group.objects.using(using).filter(name__in=ACTIONS):
        group.permissions.remove(*everything)


class Migration(migrations.Migration):
    dependencies = [
        ("formulary", "0007_populations_nutrient_limits_cautions"),
        ("products", "0015_knowledge_population_permissions"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
