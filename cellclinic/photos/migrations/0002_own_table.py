from django.db import migrations


def move_content_type(apps, schema_editor):
    """Permissions and generic relations follow the model to its new app."""
    content_type = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    if not content_type.objects.using(db).filter(app_label="photos", model="photo").exists():
        content_type.objects.using(db).filter(app_label="consultations", model="photo").update(app_label="photos")


def restore_content_type(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    if not content_type.objects.using(db).filter(app_label="consultations", model="photo").exists():
        content_type.objects.using(db).filter(app_label="photos", model="photo").update(app_label="consultations")


class Migration(migrations.Migration):
    """The table takes this app's name; rows, keys and references are kept as they are."""

    dependencies = [
        ('photos', '0001_initial'),
        ('consultations', '0002_consent_and_photo_move_out'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        migrations.AlterModelTable(name='photo', table=None),
        migrations.RunPython(move_content_type, restore_content_type),
    ]
