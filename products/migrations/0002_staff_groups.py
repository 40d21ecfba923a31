"""The two staff groups and their permissions.

Shop staff curate the catalogue and may look at the knowledge base; pharmacist editors keep the
knowledge base and may look at the catalogue. Permissions are normally created after the last
migration has run, so on a fresh database they are created here first.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ALL = ("add", "change", "delete", "view")
VIEW = ("view",)

COMPOUND_MODELS = (
    "compoundform",
    "carrier",
    "carriereffect",
    "compoundindication",
    "interactionrule",
    "carriereffectcitation",
    "compoundcitation",
    "evidencecitation",
    "interactionrulecitation",
)
VOCABULARY_MODELS = (
    "reference",
    "indication",
    "medication",
    "nutrient",
    "referenceintake",
    "riskgroup",
    "deficiencysign",
    "referenceintakecitation",
    "riskgroupcitation",
    "deficiencysigncitation",
)
PRODUCT_MODELS = ("product", "ingredientline", "nutrientline", "brand")

# group name -> [(app label, model names, actions)]
GROUPS = {
    "Shop staff": [
        ("products", PRODUCT_MODELS, ALL),
        ("compounds", COMPOUND_MODELS, VIEW),
        ("formulary", VOCABULARY_MODELS, VIEW),
    ],
    "Pharmacist editors": [
        ("compounds", COMPOUND_MODELS, ALL),
        ("formulary", VOCABULARY_MODELS, ALL),
        ("products", PRODUCT_MODELS, VIEW),
    ],
}


def create_groups(apps, schema_editor):
    using = schema_editor.connection.alias
    for app_config in apps.get_app_configs():
        # create_permissions skips app configs without a models module; the historical ones
        # have none, so it is set for the call.
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0, using=using)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, grants in GROUPS.items():
        wanted = {
            (app_label, f"{action}_{model}")
            for app_label, models, actions in grants
            for model in models
            for action in actions
        }
        permissions = [
            permission
            for permission in Permission.objects.using(using).select_related("content_type")
            if (permission.content_type.app_label, permission.codename) in wanted
        ]
        found = {(p.content_type.app_label, p.codename) for p in permissions}
        if found != wanted:
            missing = ", ".join(sorted(".".join(pair) for pair in wanted - found))
            raise RuntimeError(f"Permissions missing for the group {name!r}: {missing}")
        group, _ = Group.objects.using(using).get_or_create(name=name)
        group.permissions.set(permissions)


def remove_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.using(schema_editor.connection.alias).filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("formulary", "0001_initial"),
        ("compounds", "0001_initial"),
        ("products", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
