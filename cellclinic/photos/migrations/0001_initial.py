import django.db.models.deletion
import uuid
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    """Photo moves here from consultations: the model takes over the existing table as it is."""

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
                    name='Photo',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('uid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                        ('purpose', models.CharField(choices=[('baseline', 'Baseline'), ('follow_up', 'Follow-up')], default='baseline', max_length=12)),
                        ('view', models.CharField(choices=[('front', 'Front'), ('left_oblique', 'Left oblique (45°)'), ('right_oblique', 'Right oblique (45°)'), ('left_profile', 'Left profile (90°)'), ('right_profile', 'Right profile (90°)'), ('close_up', 'Close-up of the area')], max_length=16)),
                        ('area', models.CharField(blank=True, max_length=60)),
                        ('image', models.FileField(max_length=200, upload_to='photos/%Y/%m/')),
                        ('content_type', models.CharField(max_length=40)),
                        ('width', models.PositiveIntegerField()),
                        ('height', models.PositiveIntegerField()),
                        ('sha256', models.CharField(help_text='Of the stored (metadata-free) file.', max_length=64)),
                        ('taken_on', models.DateField(blank=True, null=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('consultation', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='photos', to='consultations.consultation')),
                        ('patient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='photos', to='patients.patient')),
                        ('site', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.site')),
                        ('uploaded_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'ordering': ['created_at', 'id'],
                        'db_table': 'consultations_photo',
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
