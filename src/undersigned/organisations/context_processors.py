"""What every page's template may know of the visitor's place in the organisations."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from .access import organiser_kind


def organiser(request: HttpRequest) -> dict[str, object]:
    """``organiser_kind``: "operator", "member" or "" (``access.organiser_kind``).

    Lazy, so a page that never shows the header's links asks nothing of the session.
    """
    return {"organiser_kind": SimpleLazyObject(lambda: organiser_kind(getattr(request, "user", None)))}
