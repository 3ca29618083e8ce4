"""Password spraying: many usernames tried from one address pause signing in from that address.

django-axes pauses one username at one address after a few failures. An attacker trying one common
password against many usernames never reaches that limit, so this backend, first in
AUTHENTICATION_BACKENDS, also counts the failures recorded from the address across every username in
the same cool-off window, and refuses (with the same "signing in is paused" page) once there are
settings.SIGN_IN_ADDRESS_FAILURE_LIMIT of them.
"""

from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Sum
from django.utils import timezone

from cellclinic.core.client import client_address


def address_failures(address: str | None) -> int:
    """Failed sign-ins from ADDRESS, over every username, within the cool-off window."""
    if not address:
        return 0
    attempts = AccessAttempt.objects.filter(ip_address=address)
    cool_off = get_cool_off()
    if cool_off is not None:
        attempts = attempts.filter(attempt_time__gte=timezone.now() - cool_off)
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


def address_paused(request) -> bool:
    return address_failures(client_address(request)) >= settings.SIGN_IN_ADDRESS_FAILURE_LIMIT


class AddressPauseBackend:
    """Signs nobody in (and, like axes' backend, has no get_user); refuses every sign-in from an address
    that has failed too often."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None or not address_paused(request):
            return None
        # The axes middleware answers a request flagged like this with the lockout page, and its
        # signal handler does not count the refused attempt (so the pause is not extended by it).
        request.axes_locked_out = True
        raise PermissionDenied("signing in from this address is paused")
