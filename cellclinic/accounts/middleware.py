"""Session policy, on every request after authentication.

- A session lasts at most settings.SESSION_MAX_HOURS from signing in; a staff session also ends after
  settings.STAFF_IDLE_TIMEOUT_MINUTES without a request. Either way the person signs in again.
- A session that still owes its second factor reaches only the second-factor pages and signing out;
  the API refuses it in its session authentication (accounts/auth.py).
- Every answer to a signed-in user, and every API answer, is marked `Cache-Control: no-store`, so no
  browser or proxy keeps a copy of patient data.
"""

import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers, patch_cache_control

from cellclinic.accounts import second_factor

SIGNED_IN_AT = "cellclinic_signed_in_at"
LAST_SEEN = "cellclinic_last_seen"
# The last-seen time is written at most this often, so a busy session is not saved on every request.
LAST_SEEN_RESOLUTION = 60
API_PREFIX = "/api/"
# Where a session that owes its second factor may go.
SECOND_FACTOR_OPEN = {"accounts:two_factor", "accounts:two_factor_enrol", "accounts:logout", "accounts:login"}
SIGNED_OUT_IDLE = "You were signed out after a period without activity. Please sign in again."
SIGNED_OUT_MAX = "Your session has reached its maximum length. Please sign in again."


@receiver(user_logged_in, dispatch_uid="cellclinic.accounts.session_started")
def session_started(sender, request, user, **kwargs):
    """At every sign-in: the session's clocks start, and it owes a second factor when the person has one."""
    if request is None or not hasattr(request, "session"):
        return
    now = time.time()
    request.session[SIGNED_IN_AT] = now
    request.session[LAST_SEEN] = now
    second_factor.mark_pending_at_sign_in(request, user)


def _expired(request, now: float) -> str | None:
    """Why the session must end now, or None."""
    session = request.session
    started = session.get(SIGNED_IN_AT)
    seen = session.get(LAST_SEEN)
    if started is None or seen is None:
        # A session from before these clocks: it starts them now.
        session[SIGNED_IN_AT] = started or now
        session[LAST_SEEN] = now
        return None
    if now - started > settings.SESSION_MAX_HOURS * 3600:
        return SIGNED_OUT_MAX
    if second_factor.required_for(request.user) and now - seen > settings.STAFF_IDLE_TIMEOUT_MINUTES * 60:
        return SIGNED_OUT_IDLE
    if now - seen >= LAST_SEEN_RESOLUTION:
        session[LAST_SEEN] = now
    return None


def _no_store(response) -> None:
    add_never_cache_headers(response)
    patch_cache_control(response, no_store=True, private=True)
    response["Pragma"] = "no-cache"


class SessionPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        is_api = request.path_info.startswith(API_PREFIX)
        response = self._before(request, is_api) or self.get_response(request)
        if is_api or request.user.is_authenticated:
            _no_store(response)
        return response

    def _before(self, request, is_api: bool):
        if not request.user.is_authenticated:
            return None
        why = _expired(request, time.time())
        if why is not None:
            logout(request)
            if is_api:
                return None
            messages.info(request, why)
            return redirect(f"{reverse(settings.LOGIN_URL)}?{urlencode({'next': request.get_full_path()})}")
        return None

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith(API_PREFIX) or not second_factor.session_needs_second_factor(request):
            return None
        match = request.resolver_match
        if match is not None and match.view_name in SECOND_FACTOR_OPEN:
            return None
        target = reverse("accounts:two_factor")
        if request.method == "GET":
            target += "?" + urlencode({"next": request.get_full_path()})
        return redirect(target)
