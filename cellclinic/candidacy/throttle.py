"""Rate limits for the public forms and endpoint, per client address, counted in the cache."""

from django.conf import settings
from django_ratelimit.core import is_ratelimited

ASSESSMENT_GROUP = "candidacy.assessment"
ENQUIRY_GROUP = "candidacy.enquiry"
TOO_MANY = "Too many requests from your address. Please wait a while and try again."


def client_address(group, request) -> str:
    """The client's address: REMOTE_ADDR, or from X-Forwarded-For behind settings.TRUSTED_PROXY_COUNT proxies

    With N trusted proxies the nearest one connects to us (REMOTE_ADDR) and the header holds the client
    followed by the other N - 1 proxies, so the client is the N-th entry from the right. Entries further
    left were written by the client itself and are not trusted.
    """
    count = getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0
    remote = request.META.get("REMOTE_ADDR") or "unknown"
    if count <= 0:
        return remote
    forwarded = [
        part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()
    ]
    return forwarded[-count] if len(forwarded) >= count else remote


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
