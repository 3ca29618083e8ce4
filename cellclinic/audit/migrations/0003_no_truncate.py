from django.db import migrations

from cellclinic.audit import triggers

# The tables that existed when this migration was written.
TABLES = ("audit_auditevent", "audit_signature")


def forwards(apps, schema_editor):
    # Re-installing is idempotent; on PostgreSQL it adds the statement-level TRUNCATE trigger.
    triggers.install(schema_editor.connection, TABLES)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only_triggers")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
