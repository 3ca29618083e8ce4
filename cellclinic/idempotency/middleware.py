"""`Idempotency-Key` on the API's POSTs: a retry gets the first answer instead of making a second record.

For a POST under /api/ that carries the header, per caller (the user, or the client address when
anonymous) and key:

- the first request runs in one transaction with the storing of its answer, so a crash loses both or
  neither; a successful answer (2xx) is kept for a day, and anything else is rolled back and not kept
  (nothing was changed, so the retry simply runs again);
- the same key with the same request answers the kept answer again (status and body), with
  `Idempotent-Replayed: true`;
- the same key with another request (method, path, query or body) answers 422;
- the same key while its first request is still running answers 409, with `Retry-After`.
"""

import hashlib
import re
from datetime import timedelta

from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, connection, transaction
from django.http import HttpResponse, JsonResponse
from django.utils import timezone

from cellclinic.accounts.services import api_token_authenticate
from cellclinic.core.client import client_address
from cellclinic.idempotency.locks import guarded_transaction
from cellclinic.idempotency.models import IdempotentAnswer

HEADER = "Idempotency-Key"
KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"
_KEY = re.compile(KEY_PATTERN)
LIFETIME = timedelta(days=1)
KEY_INVALID = "must be 1 to 255 visible ASCII characters (a UUID is a good choice)"
KEY_REUSED = "was already used with a different request; use a new key for a new request"
IN_FLIGHT = "A request with this Idempotency-Key is still being answered; retry in a moment."


def _error(status: int, detail: str, field: str | None = None, message: str = "") -> JsonResponse:
    errors = [{"field": field, "message": message}] if field else []
    return JsonResponse({"detail": detail, "errors": errors}, status=status)


def caller_scope(request) -> str:
    """`user:<id>` for a bearer token or a signed-in session, `address:<ip>` otherwise."""
    authorization = request.headers.get("Authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        user = api_token_authenticate(token.strip())
        if user is not None:
            return f"user:{user.pk}"
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"address:{client_address(request) or 'unknown'}"


def request_hash(request) -> str:
    digest = hashlib.sha256()
    for part in (request.method, request.path, request.META.get("QUERY_STRING", "")):
        digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
    digest.update(request.body)
    return digest.hexdigest()


def replay(answer: IdempotentAnswer) -> HttpResponse:
    response = HttpResponse(bytes(answer.body), status=answer.status, content_type=answer.content_type)
    response["Idempotent-Replayed"] = "true"
    return response


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = request.headers.get(HEADER)
        if key is None or request.method != "POST" or not request.path.startswith("/api/"):
            return self.get_response(request)
        if not _KEY.match(key):
            message = KEY_INVALID
            return _error(422, f"Invalid input. {HEADER}: {message}", HEADER, message)
        try:
            fingerprint = request_hash(request)
        except RequestDataTooBig:  # refused further on, in the API's own words; nothing to keep
            return self.get_response(request)
        scope = caller_scope(request)
        with guarded_transaction(connection, scope, key) as held:
            if not held:
                response = _error(409, IN_FLIGHT)
                response["Retry-After"] = "1"
                return response
            now = timezone.now()
            kept = IdempotentAnswer.objects.filter(scope=scope, key=key, expires_at__gt=now).first()
            if kept is not None:
                if kept.request_hash != fingerprint:
                    return _error(422, f"Invalid input. {HEADER}: {KEY_REUSED}", HEADER, KEY_REUSED)
                return replay(kept)
            response = self.get_response(request)
            if not 200 <= response.status_code < 300 or response.streaming:
                transaction.set_rollback(True)
                return response
            IdempotentAnswer.objects.filter(expires_at__lte=now).delete()
            try:
                with transaction.atomic():
                    IdempotentAnswer.objects.create(
                        scope=scope,
                        key=key,
                        request_hash=fingerprint,
                        status=response.status_code,
                        content_type=response.get("Content-Type", "application/json"),
                        body=response.content,
                        created_at=now,
                        expires_at=now + LIFETIME,
                    )
            except IntegrityError:  # the guard makes this unreachable; refuse rather than keep two records
                transaction.set_rollback(True)
                response = _error(409, IN_FLIGHT)
                response["Retry-After"] = "1"
            return response
