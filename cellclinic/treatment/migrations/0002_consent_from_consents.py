import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """The plan's consent is now the consents app's model; the column and its key are unchanged."""

    dependencies = [
        ('consents', '0001_initial'),
        ('treatment', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='treatmentplan',
                    name='consent',
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name='treatment_plans',
                        to='consents.consent',
                    ),
                ),
            ],
            database_operations=[],
        ),
    ]
