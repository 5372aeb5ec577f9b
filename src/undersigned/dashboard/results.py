"""Results pages: what a campaign or an open letter achieved, for every member of its
organisation (``Action.VIEW``). Each chart is drawn on the server (``charts``) beside the
table that holds its numbers; the page reads the same without JavaScript.

The counts come from ``delivery.queries.campaign_results`` and
``openletters.queries.letter_results``: grouped counts and kept counters, never a row
per letter in Python.
"""

from __future__ import annotations

import datetime

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.formats import date_format
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_GET

from undersigned.core import countries
from undersigned.delivery import queries as delivery_queries
from undersigned.delivery import replies
from undersigned.delivery.models import Evidence
from undersigned.openletters import queries as letter_queries
from undersigned.organisations import access
from undersigned.organisations.access import Action

from . import charts
from .permissions import dashboard_user_required, viewable_campaign_or_404, viewable_open_letter_or_404

# The evidence ladder as organisers read it (delivery/models.py: Evidence).
EVIDENCE_NAMES = {
    Evidence.SELF_REPORTED: gettext_lazy("Self-reported"),
    Evidence.VERIFIED_COPY: gettext_lazy("Verified copy"),
    Evidence.PLATFORM_DELIVERED: gettext_lazy("Platform delivered"),
    Evidence.REPLY_RECEIVED: gettext_lazy("Reply received"),
}
MAX_COUNTRIES_CHARTED = 15  # the table lists every country; the chart the first this many


def _country(code: str) -> str:
    return countries.name(code) if code else gettext("Not given")


def _day(day: datetime.date) -> str:
    return date_format(day, "SHORT_DATE_FORMAT")


def _percent_range(low: int, high: int) -> str:
    if high >= 100:
        return gettext("%(low)s–100 %%") % {"low": low}
    return gettext("%(low)s–%(high)s %%") % {"low": low, "high": high}


@require_GET
@dashboard_user_required
def campaign_results(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = viewable_campaign_or_404(request.user, slug)
    results = delivery_queries.campaign_results(campaign)
    funnel = [(gettext("Composer opened"), results.opened), (gettext("Letter saved"), results.saved)]
    funnel += [(str(EVIDENCE_NAMES[level]), n) for level, n in results.reached]
    ladder = [str(EVIDENCE_NAMES[level]) for level in delivery_queries.LADDER]
    own_words = [(_percent_range(low, high), n) for low, high, n in results.own_words]
    country_rows = [(_country(code), n) for code, n in results.countries]
    day_labels = [_day(day.day) for day in results.days]
    context = {
        "campaign": campaign,
        "may_run": access.can(request.user, Action.RUN_CAMPAIGNS, campaign.organisation_id),
        "results": results,
        "funnel": funnel,
        "ladder": ladder,
        "own_words": own_words,
        "country_rows": country_rows,
        "charts": {
            "funnel": charts.horizontal_bars(
                [label for label, _ in funnel], [n for _, n in funnel], series=gettext("Letters")
            ),
            "channels": charts.grouped_horizontal_bars(
                [c.name for c in results.channels],
                [(name, [c.cells()[index] for c in results.channels]) for index, name in enumerate(ladder)],
            ),
            "days": charts.columns_by_day(
                day_labels,
                [
                    (gettext("Composer opened"), [day.opened for day in results.days]),
                    (gettext("Letter saved"), [day.saved for day in results.days]),
                ],
            )
            if results.days
            else "",
            "countries": charts.horizontal_bars(
                [name for name, _ in country_rows[:MAX_COUNTRIES_CHARTED]],
                [n for _, n in country_rows[:MAX_COUNTRIES_CHARTED]],
                series=gettext("Letters"),
            )
            if country_rows
            else "",
            "own_words": charts.horizontal_bars(
                [label for label, _ in own_words], [n for _, n in own_words], series=gettext("Letters")
            ),
        },
        "max_countries_charted": MAX_COUNTRIES_CHARTED,
        "responsiveness": replies.responsiveness(campaign.pk),
    }
    return render(request, "dashboard/results.html", context)


@require_GET
@dashboard_user_required
def open_letter_results(request: HttpRequest, slug: str) -> HttpResponse:
    letter = viewable_open_letter_or_404(request.user, slug)
    results = letter_queries.letter_results(letter)
    states = [
        (gettext("Confirmed"), results.confirmed),
        (gettext("Withdrawn"), results.withdrawn),
        (gettext("Hidden"), results.hidden),
        (gettext("Waiting for confirmation"), results.pending),
    ]
    country_rows = [(_country(code), n) for code, n in results.countries]
    context = {
        "letter": letter,
        "may_run": access.can(request.user, Action.RUN_CAMPAIGNS, letter.organisation_id),
        "results": results,
        "states": states,
        "country_rows": country_rows,
        "days": [(day, n) for day, n in results.days],
        "charts": {
            "states": charts.horizontal_bars(
                [label for label, _ in states], [n for _, n in states], series=gettext("Endorsements")
            ),
            "countries": charts.horizontal_bars(
                [name for name, _ in country_rows[:MAX_COUNTRIES_CHARTED]],
                [n for _, n in country_rows[:MAX_COUNTRIES_CHARTED]],
                series=gettext("Endorsements"),
            )
            if country_rows
            else "",
            "days": charts.columns_by_day(
                [_day(day) for day, _ in results.days], [(gettext("Confirmed"), [n for _, n in results.days])]
            )
            if results.days
            else "",
        },
        "max_countries_charted": MAX_COUNTRIES_CHARTED,
    }
    return render(request, "dashboard/open_letter_results.html", context)
