"""The text rules on the pages' forms: every app's form checks what a person types as the API does."""

import pytest
from django import forms

from cellclinic.core.forms import TextForm

pytestmark = pytest.mark.django_db


class Sample(TextForm):
    name = forms.CharField(required=False)
    notes = forms.CharField(required=False, widget=forms.Textarea)
    username = forms.CharField(required=False)
    password = forms.CharField(required=False, strip=False, widget=forms.PasswordInput)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "Ada\u202eecalevol"}, "name"),
        ({"name": "Ada\x07"}, "name"),
        ({"name": "Ada\nLovelace"}, "name"),
        ({"notes": "two\u2066 lines"}, "notes"),
        ({"notes": "bell\x07"}, "notes"),
        ({"username": "p\u0430ypal"}, "username"),
    ],
)
def test_bad_text_is_refused_on_its_field(data, field):
    form = Sample(data)

    assert not form.is_valid()
    assert list(form.errors) == [field]


def test_good_text_is_normalised_and_passwords_are_kept_as_typed():
    form = Sample(
        {
            "name": "Zoe\u0308",
            "notes": "line one\r\n\tline two",
            "username": "zoë",
            "password": "e\u0308 \x7f",
        }
    )

    assert form.is_valid(), form.errors
    assert form.cleaned_data["name"] == "Zo\u00eb"
    assert form.cleaned_data["notes"] == "line one\r\n\tline two"
    assert form.cleaned_data["password"] == "e\u0308 \x7f"


def test_every_apps_form_checks_text():
    """Each form a person fills in is a TextForm (the sign-in form, Django's own, only reads)."""
    import inspect

    from cellclinic.accounts import forms as accounts
    from cellclinic.audit import forms as audit
    from cellclinic.candidacy import forms as candidacy
    from cellclinic.consents import forms as consents
    from cellclinic.consultations import forms as consultations
    from cellclinic.core.forms import CleanTextMixin
    from cellclinic.patients import forms as patients
    from cellclinic.photos import forms as photos
    from cellclinic.treatment import forms as treatment

    unchecked = [
        f"{module.__name__}.{name}"
        for module in (accounts, audit, candidacy, consents, consultations, patients, photos, treatment)
        for name, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, forms.BaseForm)
        and cls.__module__ == module.__name__
        and not issubclass(cls, CleanTextMixin)
        and name != "SignInForm"
    ]
    assert unchecked == []


def test_the_staff_form_refuses_a_look_alike_username(clinic_a):
    from cellclinic.accounts.forms import StaffCreateForm
    from cellclinic.accounts.models import Site

    data = {
        "username": "\u0430dmin",
        "first_name": "Eve",
        "last_name": "Spoof",
        "role": "nurse",
        "site": clinic_a.pk,
        "password": "a long enough password 2026",
        "password_again": "a long enough password 2026",
    }

    form = StaffCreateForm(data, sites=Site.objects.all())

    assert not form.is_valid()
    assert "mixes letters of different scripts" in form.errors["username"][0]


def test_the_public_request_page_refuses_a_bidi_override_and_stores_nothing(client, clinic_a):
    from cellclinic.candidacy.models import Enquiry
    from cellclinic.candidacy.tests.helpers import EXAMPLE

    assessment_id = client.post("/api/v1/assessments", EXAMPLE, content_type="application/json").json()["id"]

    response = client.post(
        f"/assess/result/{assessment_id}/request/",
        {
            "name": "Ada\u202eecalevol",
            "email": "ada@example.org",
            "site": clinic_a.pk,
            "consent_to_contact": "on",
        },
    )

    assert response.status_code == 422
    assert "hidden text-direction character" in response.content.decode()
    assert not Enquiry.objects.exists()
