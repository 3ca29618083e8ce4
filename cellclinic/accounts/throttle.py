"""Wrong passwords typed after sign-in (signatures, password change) count towards the sign-in pause.

Otherwise a signed-in session, left open, would allow unlimited guesses at its owner's password.
"""

from collections.abc import Callable

from axes.handlers.proxy import AxesProxyHandler
from django.contrib.auth.signals import user_login_failed

from cellclinic.core.errors import InvalidInput
from cellclinic.core.forms import add_service_errors

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


def with_password_entry(request, form, action: Callable[[], object], *, field: str = "password"):
    """Run ACTION, a service call that checks a password typed into FORM, unless entry is paused.

    A wrong password (an error on FIELD) counts towards the pause; every service error lands on the
    form. Returns (done, status): the HTTP status to answer with when not done (429 paused, 422 invalid).
    """
    if password_entry_paused(request):
        form.is_valid()
        form.add_error(None, PAUSED)
        return False, 429
    if not form.is_valid():
        return False, 422
    try:
        action()
    except InvalidInput as error:
        if any(item.field == field for item in error.errors):
            password_entry_failed(request)
        add_service_errors(form, error)
        return False, 422
    return True, 200
