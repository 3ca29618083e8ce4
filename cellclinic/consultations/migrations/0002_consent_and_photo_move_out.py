from django.db import migrations


class Migration(migrations.Migration):
    """Consent and Photo now belong to their own apps; their tables are handed over, not dropped."""

    dependencies = [
        ('consents', '0001_initial'),
        ('consultations', '0001_initial'),
        ('photos', '0001_initial'),
        ('treatment', '0002_consent_from_consents'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name='Consent'),
                migrations.DeleteModel(name='Photo'),
            ],
            database_operations=[],
        ),
    ]
