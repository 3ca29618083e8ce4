"""Request id: one id per request, echoed in a header and written on every audit event; and the error
pages that answer a domain error raised in a page."""

import re
import uuid
from contextvars import ContextVar

from cellclinic.core import views
from cellclinic.core.errors import http_status_of

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
_ACCEPTABLE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def current_request_id() -> str | None:
    return _request_id.get()


class RequestIdMiddleware:
    """Take a well-formed X-Request-ID from the proxy, or make one; expose it to the audit trail."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _ACCEPTABLE.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = _request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response["X-Request-ID"] = request_id
        return response


# The page for each status of core.errors.HTTP_STATUS that a page answers with; any other error goes on.
ERROR_PAGES = {403: views.forbidden, 404: views.not_found}


class DomainErrorMiddleware:
    """A Forbidden raised in a page answers with the 403 page and a NotFound with the 404 page, not a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        page = ERROR_PAGES.get(http_status_of(exception))
        return None if page is None else page(request, exception)
