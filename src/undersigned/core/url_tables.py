"""One set of URL reverse tables for every language (issue 13: a web worker's memory).

Django's ``URLResolver`` builds its reverse tables (every route's name, pattern and
converters, read by ``reverse()`` and ``{% url %}``) once for each active language,
because a project may translate its routes (``gettext_lazy`` in ``path()``,
``i18n_patterns``). None of ours is, so the five sets a worker builds are the same:
about 0.6 MB each after the first (``bench/web_memory.py``, docs/performance.md).

Django looks the language up through the name ``get_language`` in
``django.urls.resolvers``; ``share_across_languages`` rebinds that name, in that
module only, to one that always answers ``settings.LANGUAGE_CODE``. Every other use
of the active language (catalogues, formats, ``LocaleMiddleware``) is untouched.
It is a private internal of Django: ``tests/test_lazy_imports.py`` fails if Django
stops reading the language there, if the tables stop being keyed by it, or if a
route of ours becomes translated (a lazy route or ``i18n_patterns``), which would
need the tables per language again.
"""

from django.conf import settings
from django.urls import resolvers


def _default_language() -> str:
    return str(settings.LANGUAGE_CODE)


def share_across_languages() -> None:
    resolvers.get_language = _default_language  # type: ignore[attr-defined]
