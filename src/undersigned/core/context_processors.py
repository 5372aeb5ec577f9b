from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, object]:
    return {
        "BASE_URL": settings.BASE_URL,
        "DEMO_MODE": settings.DEMO_MODE,
        # The switcher's languages, each named in its own language (not translated).
        "interface_languages": settings.LANGUAGES,
    }
