from django.db import migrations

from cellclinic.audit import triggers

# The tables that existed when this migration was written.
TABLES = ("audit_auditevent", "audit_signature")


def forwards(apps, schema_editor):
    triggers.install(schema_editor.connection, TABLES)


def backwards(apps, schema_editor):
    triggers.uninstall(schema_editor.connection, TABLES)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
