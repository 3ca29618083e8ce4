"""Reads for candidacy: public results by their unguessable id, and enquiries scoped to the user's clinics."""

from uuid import UUID

from django.db.models import QuerySet
from django.http import Http404

from cellclinic.accounts.models import Site, User
from cellclinic.accounts.roles import Permission
from cellclinic.candidacy.models import Assessment, Enquiry


def assessment_get_public(public_id: UUID) -> Assessment:
    """A public self-assessment by its public id; 404 for any other (a practitioner's run is not public)."""
    assessment = Assessment.objects.filter(public_id=public_id, source=Assessment.Source.PUBLIC).first()
    if assessment is None:
        raise Http404("Not found")
    return assessment


def public_clinics() -> QuerySet[Site]:
    """The clinics a member of the public may ask for a consultation at."""
    return Site.objects.filter(kind=Site.Kind.CLINIC).order_by("name")


def enquiry_list(user: User, *, status: str = "") -> QuerySet[Enquiry]:
    """The worklist, newest first, optionally of one status (the assessments' answers stay unread)."""
    enquiries = (
        Enquiry.objects.visible_to(user, Permission.ENQUIRY_HANDLE)
        .select_related("site", "assessment", "patient")
        .defer("assessment__answers", "assessment__result")
    )
    if status in Enquiry.Status.values:
        enquiries = enquiries.filter(status=status)
    return enquiries.order_by("-created_at", "-id")


def enquiry_get_for_user(user: User, enquiry_id: int) -> Enquiry:
    """One enquiry, or 404 whether it is missing or at a clinic the user does not handle."""
    enquiry = (
        Enquiry.objects.visible_to(user, Permission.ENQUIRY_HANDLE)
        .select_related("site", "assessment", "patient", "handled_by")
        .filter(pk=enquiry_id)
        .first()
    )
    if enquiry is None:
        raise Http404("Not found")
    return enquiry
