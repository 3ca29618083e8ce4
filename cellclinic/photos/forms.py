"""The photograph upload form; the service checks and re-encodes the file."""

from django import forms
from django.utils import timezone

from cellclinic.core.forms import TextForm
from cellclinic.photos.models import Photo


class PhotoForm(TextForm):
    view = forms.ChoiceField(label="View", choices=Photo.View.choices)
    area = forms.CharField(label="Area shown", required=False, max_length=60)
    taken_on = forms.DateField(
        label="Taken on", required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    image = forms.FileField(
        label="Photograph",
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
        help_text="JPEG, PNG or WebP. Location and camera details are removed before the picture is kept.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["taken_on"].widget.attrs["max"] = timezone.localdate().isoformat()
