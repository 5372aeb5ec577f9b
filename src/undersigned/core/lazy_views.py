"""Views named in a URLconf by their dotted path, imported by the first request that reaches one.

Every web worker loads the whole URLconf on its first request, since Django resolves and
reverses from it, and with it every view module the URLconf imports. A worker that serves
only public pages need not hold the modules behind pages it never serves: allauth's
two-factor views (``account_urls.py``, about 12 MB with fido2) and the organisations'
dashboard (``dashboard/urls.py``, about 2 MB), measured by ``bench/web_memory.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponseBase
from django.utils.module_loading import import_string


def on_first_use(dotted: str, **marks: Any) -> Callable[..., HttpResponseBase]:
    """A view that imports the view at ``dotted`` when it is first called, and calls it.

    ``marks`` are the attributes the real view carries for middleware that reads them
    before calling it (``csrf_exempt``, ``login_required``…) or for tests that find views
    by them (``personal_page``); the fences in ``tests/test_lazy_imports.py`` check they
    match the real view's. The stand-in has the real view's module and name.
    """
    module, _, name = dotted.rpartition(".")
    real: list[Callable[..., HttpResponseBase]] = []

    def view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not real:
            real.append(import_string(dotted))
        return real[0](request, *args, **kwargs)

    view.__name__ = view.__qualname__ = name
    view.__module__ = module
    view.imported_on_first_use = dotted  # type: ignore[attr-defined]  # read by the fences
    for mark, value in marks.items():
        setattr(view, mark, value)
    return view
