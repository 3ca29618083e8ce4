"""A clinic's email and phone, named in the emails it sends, are set when the site is created."""

import pytest
from django.core.management import CommandError, call_command

from cellclinic.accounts.models import Site

pytestmark = pytest.mark.django_db


def test_createsite_keeps_the_clinics_email_and_phone(lab):
    call_command(
        "createsite",
        "HSC",
        name="Harbour Skin Clinic",
        kind="clinic",
        lab="LAB",
        phone="0113 555 0199",
        email="front.desk@example.org",
    )
    site = Site.objects.get(code="HSC")
    assert (site.phone, site.email) == ("0113 555 0199", "front.desk@example.org")


def test_createsite_refuses_an_email_that_is_not_one_and_creates_nothing(lab):
    with pytest.raises(CommandError, match="email: Enter a valid email address"):
        call_command("createsite", "HSC", name="Harbour Skin Clinic", kind="clinic", email="front desk")
    assert not Site.objects.filter(code="HSC").exists()
