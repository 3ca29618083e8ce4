"""The client's network address, the same for sign-in lockouts and public rate limits."""

from django.conf import settings


def client_address(request) -> str | None:
    """REMOTE_ADDR, or the client's entry in X-Forwarded-For behind settings.TRUSTED_PROXY_COUNT proxies.

    With N trusted proxies the nearest one connects to us (REMOTE_ADDR) and the header holds the client
    followed by the other N - 1 proxies, so the client is the N-th entry from the right. Entries further
    left were written by the client itself and are not trusted. None when there is no address at all
    (a request made inside the process, such as a test client's sign-in).
    """
    count = getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0
    remote = request.META.get("REMOTE_ADDR") or None
    if count <= 0:
        return remote
    forwarded = [
        part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()
    ]
    return forwarded[-count] if len(forwarded) >= count else remote
