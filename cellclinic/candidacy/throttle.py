"""Rate limits for the public forms and endpoint, per client address, counted in the cache."""

from django.conf import settings
from django_ratelimit.core import is_ratelimited
from ninja.throttling import BaseThrottle

from cellclinic.core.client import client_address as address_of

ASSESSMENT_GROUP = "candidacy.assessment"
ENQUIRY_GROUP = "candidacy.enquiry"
TOO_MANY = "Too many requests from your address. Please wait a while and try again."


def client_address(group, request) -> str:
    """django-ratelimit's key: the client's address, read as the sign-in limiter reads it."""
    return address_of(request) or "unknown"


def assessment_limited(request) -> bool:
    """Count one public self-assessment from this address; True once over PUBLIC_ASSESSMENT_RATE."""
    return is_ratelimited(
        request,
        group=ASSESSMENT_GROUP,
        key=client_address,
        rate=settings.PUBLIC_ASSESSMENT_RATE,
        method="POST",
        increment=True,
    )


class AssessmentThrottle(BaseThrottle):
    """The API's form of assessment_limited: it runs before the body is read or checked, so a request
    refused as invalid (400, 422) counts towards the limit like one that is answered."""

    def allow_request(self, request) -> bool:
        return not assessment_limited(request)


def enquiry_limited(request) -> bool:
    """Count one consultation request from this address; True once over PUBLIC_ENQUIRY_RATE."""
    return is_ratelimited(
        request,
        group=ENQUIRY_GROUP,
        key=client_address,
        rate=settings.PUBLIC_ENQUIRY_RATE,
        method="POST",
        increment=True,
    )
