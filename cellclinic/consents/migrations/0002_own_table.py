from django.db import migrations


def move_content_type(apps, schema_editor):
    """Permissions and generic relations follow the model to its new app."""
    content_type = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    if not content_type.objects.using(db).filter(app_label="consents", model="consent").exists():
        content_type.objects.using(db).filter(app_label="consultations", model="consent").update(app_label="consents")


def restore_content_type(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    if not content_type.objects.using(db).filter(app_label="consultations", model="consent").exists():
        content_type.objects.using(db).filter(app_label="consents", model="consent").update(app_label="consultations")


class Migration(migrations.Migration):
    """The table takes this app's name; rows, keys and references are kept as they are."""

    dependencies = [
        ('consents', '0001_initial'),
        ('consultations', '0002_consent_and_photo_move_out'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        migrations.AlterModelTable(name='consent', table=None),
        migrations.RunPython(move_content_type, restore_content_type),
    ]
