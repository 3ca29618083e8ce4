"""API authentication: bearer tokens for API clients, the session for the browser.

A session counts only once it has passed the second factor (when it owes one): a password-only session
gets the answer no credentials get. A bearer token is a credential of its own, created from a verified
session and revoked by a password change or reset.

A router whose whole surface belongs to some roles passes a GATE: a function that takes the
authenticated user and raises Http404 for anyone else, before the request body is even parsed, so
a refused caller learns nothing about what the endpoint would have accepted.
"""

from collections.abc import Callable

from ninja.security import HttpBearer
from ninja.security import SessionAuth as NinjaSessionAuth

from cellclinic.accounts.second_factor import session_needs_second_factor
from cellclinic.accounts.services import api_token_authenticate

Gate = Callable[[object], None]


class _Gated:
    gate: Gate | None = None

    def _through_gate(self, user):
        if user is not None and self.gate is not None:
            self.gate(user)
        return user


class BearerAuth(_Gated, HttpBearer):
    """`Authorization: Bearer <token>` for API clients."""

    def __init__(self, gate: Gate | None = None) -> None:
        super().__init__()
        self.gate = gate

    def authenticate(self, request, token):
        user = api_token_authenticate(token)
        if user is not None:
            request.user = user
        return self._through_gate(user)


class SessionAuth(_Gated, NinjaSessionAuth):
    """The browser's signed-in session; unsafe methods need the CSRF token."""

    def __init__(self, gate: Gate | None = None) -> None:
        super().__init__()
        self.gate = gate

    def _get_key(self, request):
        # Without a signed-in session there is nothing to authenticate and nothing for CSRF to protect:
        # the answer is 401, as for any request without credentials. A session is CSRF-checked as ever.
        if not request.user.is_authenticated:
            return None
        return super()._get_key(request)

    def authenticate(self, request, key):
        user = super().authenticate(request, key)
        if user is not None and session_needs_second_factor(request):
            return None
        return self._through_gate(user)


def api_auth(gate: Gate | None = None) -> list:
    """Both ways in, each followed by GATE. The OpenAPI document shows the same two schemes."""
    return [BearerAuth(gate), SessionAuth(gate)]
