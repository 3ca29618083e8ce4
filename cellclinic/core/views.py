"""Error pages in the application's own layout."""

from django.shortcuts import render


def not_found(request, exception=None):
    return render(request, "errors/404.html", status=404)


def forbidden(request, exception=None):
    return render(request, "errors/403.html", status=403)


def server_error(request):
    return render(request, "errors/500.html", status=500)


def rate_limited(request, exception=None):
    """Too many requests from one address (settings.RATELIMIT_VIEW)."""
    return render(request, "errors/429.html", status=429)
