"""Response headers every endpoint needs unless it says otherwise."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


def private_by_default(get_response: Callable[[HttpRequest], HttpResponse]):
    """Mark responses ``private, no-store`` unless the view chose caching (the catalog does).

    Carts, checkouts, orders, tokens and errors must never land in a shared cache.
    """

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        if not response.has_header("Cache-Control"):
            response["Cache-Control"] = "private, no-store"
        return response

    return middleware
