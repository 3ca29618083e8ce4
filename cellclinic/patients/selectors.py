"""Reads from the registry, always scoped to what the user may see."""

import re
from datetime import date

from django.db.models import Q, QuerySet
from django.http import Http404

from cellclinic.accounts.models import User
from cellclinic.accounts.roles import Permission
from cellclinic.core.search import words_match
from cellclinic.patients.identifiers import MRN_PATTERN
from cellclinic.patients.models import Patient

_DATE_FORMATS = (
    re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})$"),
    re.compile(r"^(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>\d{4})$"),
)


def parse_search_date(text: str) -> date | None:
    """A date of birth typed as 1984-03-07 or 07/03/1984 (day first), else None."""
    for pattern in _DATE_FORMATS:
        match = pattern.match(text.strip())
        if match:
            try:
                return date(int(match["y"]), int(match["m"]), int(match["d"]))
            except ValueError:
                return None
    return None


def patient_search(user: User, query: str = "") -> QuerySet[Patient]:
    """By name (any part), medical record number, or date of birth."""
    patients = Patient.objects.visible_to(user).select_related("site")
    query = " ".join(query.split())
    if not query:
        return patients
    dob = parse_search_date(query)
    if dob is not None:
        return patients.filter(date_of_birth=dob)
    if MRN_PATTERN.match(query.upper()):
        # A whole MRN (typed or scanned) is one indexed lookup, not a scan of every name.
        return patients.filter(mrn=query.upper())
    by_mrn = Q(mrn__istartswith=query)
    return patients.filter(by_mrn | words_match(query, "given_name", "family_name"))


def patient_get_for_user(user: User, patient_id: int, *, write: bool = False) -> Patient:
    """The patient, or 404 whether it is missing or belongs to a site the user cannot see."""
    patient = (
        Patient.objects.visible_to(user, Permission.PATIENT_EDIT if write else Permission.PATIENT_VIEW)
        .select_related("site", "portal_user")
        .filter(pk=patient_id)
        .first()
    )
    if patient is None:
        raise Http404("Not found")
    return patient
