"""Wrong passwords typed after sign-in (signatures, password change) count towards the sign-in pause.

Otherwise a signed-in session, left open, would allow unlimited guesses at its owner's password.
"""

from axes.handlers.proxy import AxesProxyHandler
from django.contrib.auth.signals import user_login_failed

PAUSED = (
    "Too many wrong passwords: password entry is paused for a while. "
    "Try again later, or ask your clinic admin to set a new password."
)


def _credentials(request) -> dict:
    return {"username": request.user.get_username()}


def password_entry_paused(request) -> bool:
    """True while the signed-in user's username is paused after repeated wrong passwords."""
    return AxesProxyHandler.is_locked(request, credentials=_credentials(request))


def password_entry_failed(request) -> None:
    """Count one wrong password for the signed-in user, as a failed sign-in would be counted."""
    user_login_failed.send(sender=__name__, credentials=_credentials(request), request=request)
