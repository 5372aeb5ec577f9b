"""The unsubscribe link in every update (RFC 8058 one-click): ``u/<token>/``.

GET shows the wording and a button; POST (the button, or a mail program's one-click
``List-Unsubscribe=One-Click``, sent without cookies) records the withdrawal. CSRF
protection is off on purpose: the signed token is the proof, and the worst a forged
request can do is stop updates its owner could stop anyway. Pressing twice records once.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from undersigned.core.http import personal_page
from undersigned.core.security import client_ip, hash_ip
from undersigned.organisations.models import Organisation
from undersigned.supporters import updates
from undersigned.supporters.models import Supporter


@personal_page
@csrf_exempt  # One-click unsubscribe (RFC 8058) is a POST from a mail program, without our cookie.
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    try:
        supporter_id, organisation_id = updates.read_unsubscribe_token(token)
    except updates.UnsubscribeLinkInvalid:
        return render(request, "public/update_unsubscribe_problem.html", {}, status=404)
    supporter = Supporter.objects.filter(pk=supporter_id).first()
    organisation = Organisation.objects.filter(pk=organisation_id).first()
    if supporter is None or organisation is None:
        return render(request, "public/update_unsubscribe_problem.html", {}, status=404)
    wording = updates.unsubscribe_wording(organisation)
    if request.method == "POST":
        updates.unsubscribe(
            supporter=supporter, organisation=organisation, wording=wording, ip_hash=hash_ip(client_ip(request))
        )
        done = True
    else:
        done = updates.is_unsubscribed(supporter_id=supporter.pk, organisation_id=organisation.pk)
    context = {"organisation": organisation, "wording": wording, "done": done}
    return render(request, "public/update_unsubscribe.html", context)
