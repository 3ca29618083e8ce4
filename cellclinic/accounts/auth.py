"""API authentication: bearer tokens for API clients, the session for the browser."""

from ninja.security import HttpBearer, SessionAuth

from cellclinic.accounts.services import api_token_authenticate


class BearerAuth(HttpBearer):
    """`Authorization: Bearer <token>` for API clients."""

    def authenticate(self, request, token):
        user = api_token_authenticate(token)
        if user is not None:
            request.user = user
        return user


__all__ = ["BearerAuth", "SessionAuth"]
