import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    """Consent moves here from consultations: the model takes over the existing table as it is."""

    initial = True

    dependencies = [
        ('accounts', '0001_initial'),
        ('consultations', '0001_initial'),
        ('patients', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Consent',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('therapy_code', models.CharField(max_length=64)),
                        ('therapy_version', models.CharField(max_length=20)),
                        ('template_version', models.CharField(max_length=20)),
                        ('document', models.JSONField(help_text='Title and sections, exactly as shown for signing.')),
                        ('document_hash', models.CharField(max_length=64)),
                        ('status', models.CharField(choices=[('awaiting_patient', "Waiting for the patient's signature"), ('awaiting_practitioner', "Waiting for the practitioner's signature"), ('signed', 'Signed'), ('withdrawn', 'Withdrawn')], db_index=True, default='awaiting_patient', max_length=24)),
                        ('photographs', models.BooleanField(blank=True, null=True)),
                        ('outcome_reports', models.BooleanField(blank=True, null=True)),
                        ('patient_signed_at', models.DateTimeField(blank=True, null=True)),
                        ('patient_signed_in_clinic', models.BooleanField(default=False)),
                        ('practitioner_signed_at', models.DateTimeField(blank=True, null=True)),
                        ('pdf', models.FileField(blank=True, max_length=200, upload_to='consents/%Y/')),
                        ('pdf_sha256', models.CharField(blank=True, max_length=64)),
                        ('withdrawn_at', models.DateTimeField(blank=True, null=True)),
                        ('withdrawn_reason', models.TextField(blank=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('patient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='consents', to='patients.patient')),
                        ('site', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.site')),
                        ('withdrawn_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('consultation', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='consents', to='consultations.consultation')),
                    ],
                    options={
                        'ordering': ['-created_at', '-id'],
                        'db_table': 'consultations_consent',
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
