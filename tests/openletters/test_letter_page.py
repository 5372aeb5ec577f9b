"""The open letter's public page: versions, addressees, endorsers (search, country, pages),
featured endorsers, "write your own", and a query count that does not grow."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import CampaignFactory
from undersigned.campaigns.enums import CampaignStatus
from undersigned.openletters import queries
from undersigned.openletters.models import OpenLetter, OpenLetterStatus
from undersigned.openletters.services import endorsing, moderation, versions


def _add(letter: OpenLetter, name: str, *, country: str = "IE", organisation: str = "", public: bool = True) -> Any:
    return endorsing.record_confirmed(
        letter=letter,
        data=endorsing.EndorsementInput(
            name=name,
            role="Member",
            organisation=organisation,
            country=country,
            email=f"{name.replace(' ', '.').lower()}@example.org",
            show_publicly=public,
        ),
    )


def _page(client: Client, letter: OpenLetter, **params: str) -> str:
    response = client.get(reverse("openletters:letter", args=[letter.slug]), params)
    assert response.status_code == 200
    return response.content.decode()


def test_page_shows_letter_addressees_and_version(client: Client, open_letter: OpenLetter) -> None:
    html = _page(client, open_letter)
    assert '<h1 lang="en" dir="ltr">Walkers for Resolution 7</h1>' in html  # the letter in its own language
    assert "<strong>vote for Resolution 7</strong>" in html  # Markdown rendered
    assert "National sections" in html
    for name in ("Jana Šimůnková", "Máire O&#x27;Dwyer", "Chihiro Nakamura"):
        assert name in html
    assert "version 1" in html
    assert 'data-testid="verified-count">0<' in html


def test_an_edit_after_publication_makes_a_new_version_with_its_changes(
    client: Client, open_letter: OpenLetter
) -> None:
    old_hash = open_letter.current_version.text_hash  # type: ignore[union-attr]
    _add(open_letter, "Early Endorser")
    open_letter.text = open_letter.text.replace("one by one.", "one by one, in every country.")
    open_letter.save()
    version = versions.record_version(letter=open_letter)
    assert version is not None
    assert version.number == 2
    assert version.text_hash != old_hash
    assert versions.record_version(letter=open_letter) is None  # no change, no version
    early = open_letter.endorsements.get()
    assert (early.version.number, early.text_hash) == (1, old_hash)  # still says what it endorsed

    html = _page(client, open_letter)
    assert "version 2" in html
    page = client.get(reverse("openletters:versions", args=[open_letter.slug])).content.decode()
    assert '<del><span class="visually-hidden">Removed: </span>Rural buses are being cut one by one.</del>' in page
    assert '<ins><span class="visually-hidden">Added: </span>Rural buses are being cut one by one, in every' in page
    assert old_hash in page


def test_endorsers_search_filter_and_pages(client: Client, open_letter: OpenLetter) -> None:
    _add(open_letter, "Aoife Byrne", country="IE", organisation="Galway Walkers")
    _add(open_letter, "Jan Novák", country="CZ", organisation="Klub českých turistů")
    _add(open_letter, "Hidden Name", country="JP", public=False)
    html = _page(client, open_letter)
    assert "Aoife Byrne" in html
    assert "Jan Novák" in html
    assert "Hidden Name" not in html
    # Only countries with a named endorser are offered.
    assert '<option value="CZ">Czechia</option>' in html
    assert '<option value="JP"' not in html

    by_org = _page(client, open_letter, q="galway")
    assert "Aoife Byrne" in by_org
    assert "Jan Novák" not in by_org
    by_country = _page(client, open_letter, country="CZ")
    assert "Jan Novák" in by_country
    assert "Aoife Byrne" not in by_country
    assert "No named endorser matches" in _page(client, open_letter, q="nobody")


def test_pages_of_endorsers_follow_each_other(client: Client, open_letter: OpenLetter) -> None:
    for number in range(queries.PAGE_SIZE + 3):
        _add(open_letter, f"Walker {number:03d}")
    first = _page(client, open_letter)
    assert "Walker 052" in first
    assert "Walker 002" not in first
    assert ">More endorsers</a>" in first
    page = queries.public_endorsers(open_letter)
    assert page.next_before is not None
    second = _page(client, open_letter, before=str(page.next_before))
    assert "Walker 002" in second
    assert "Walker 000" in second
    assert "Walker 052" not in second
    assert ">More endorsers</a>" not in second


def test_query_count_does_not_grow_with_endorsements(client: Client, open_letter: OpenLetter) -> None:
    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            _page(client, open_letter)
        return len(captured)

    _page(client, open_letter)  # the letter's first view opens its discussion (a one-off write)
    _add(open_letter, "One Walker")  # and each endorsement refreshes the kept page body
    few = count()
    for number in range(60):
        _add(open_letter, f"Another Walker {number}", country=["IE", "CZ", "JP", "GB"][number % 4])
    assert count() == few


def test_featured_endorsers_are_shown_apart(client: Client, open_letter: OpenLetter, organiser: Any) -> None:
    star = _add(open_letter, "Famous Walker")
    _add(open_letter, "Other Walker")
    assert moderation.set_featured(endorsement=star, featured=True, actor=organiser)
    html = _page(client, open_letter)
    featured = html[html.index("Among those who endorse it") : html.index('id="endorsers"')]
    assert "Famous Walker" in featured
    assert "Other Walker" not in featured


def test_write_your_own_letter_starts_the_composer_with_the_letter(client: Client, open_letter: OpenLetter) -> None:
    campaign = CampaignFactory(organisation=open_letter.organisation, slug="a-bus-to-every-trailhead")
    OpenLetter.objects.filter(pk=open_letter.pk).update(letter_campaign=campaign)
    html = _page(client, open_letter)
    link = f"/c/{campaign.slug}/write/?from={open_letter.slug}"
    assert f'<a href="{link}">Write your own letter in similar terms</a>' in html
    composer = client.get(link).content.decode()
    assert "We, the undersigned, ask you to **vote for Resolution 7** on 24 April." in composer
    # Another campaign's composer does not take this letter's text.
    other = CampaignFactory(organisation=open_letter.organisation, slug="other")
    assert "We, the undersigned" not in client.get(f"/c/{other.slug}/write/?from={open_letter.slug}").content.decode()


def test_home_page_lists_published_open_letters(client: Client, open_letter: OpenLetter) -> None:
    _add(open_letter, "Home Walker")
    html = client.get("/").content.decode()
    assert f'<a href="/open-letters/{open_letter.slug}/">Walkers for Resolution 7</a>' in html
    assert "1 verified endorsement" in html
    assert "1 verified endorsements" not in html
    assert '<a href="/open-letters/">All open letters</a></p>' in html


def _published(organisation: Any, count: int) -> list[OpenLetter]:
    start = timezone.now() - timedelta(days=count)
    letters = []
    for n in range(count):
        letter = OpenLetter.objects.create(organisation=organisation, slug=f"letter-{n}", title=f"Letter number {n}",
                                           text="We agree.", status=OpenLetterStatus.PUBLISHED,
                                           published_at=start + timedelta(days=n))  # fmt: skip
        versions.record_version(letter=letter)
        letters.append(letter)
    return letters


def test_the_open_letters_page_lists_them_all_newest_first_a_page_at_a_time(client: Client, organisation: Any) -> None:
    _published(organisation, 23)
    OpenLetter.objects.create(organisation=organisation, slug="a-draft", title="A draft", text="Not yet.")
    first = client.get("/open-letters/")
    assert first.status_code == 200
    html = first.content.decode()
    titles = [f"Letter number {n}" for n in range(22, 2, -1)]  # 20 a page, newest first
    assert [t for t in titles if f">{t}</a>" in html] == titles
    assert ">Letter number 2</a>" not in html
    assert "A draft" not in html
    assert "Page 1 of 2" in html
    assert '<a href="?page=2" rel="next">Older letters</a>' in html

    second = client.get("/open-letters/?page=2").content.decode()
    assert [n for n in range(23) if f">Letter number {n}</a>" in second] == [0, 1, 2]
    assert '<a href="?page=1" rel="prev">Newer letters</a>' in second
    assert "<title>Open letters, page 2 — Undersigned</title>" in second

    # A page past the end, or not a number, shows the nearest page instead of an error.
    assert ">Letter number 0</a>" in client.get("/open-letters/?page=99").content.decode()
    assert ">Letter number 22</a>" in client.get("/open-letters/?page=%3Cscript%3E").content.decode()


def test_the_home_page_shows_the_newest_open_letters_and_links_to_the_rest(client: Client, organisation: Any) -> None:
    _published(organisation, 8)
    html = client.get("/").content.decode()
    assert [n for n in range(8) if f">Letter number {n}</a>" in html] == [2, 3, 4, 5, 6, 7]
    assert '<a href="/open-letters/">All open letters</a> (6 newest shown here)' in html


def test_the_home_page_pages_through_campaigns(client: Client, organisation: Any) -> None:
    for n in range(21):
        CampaignFactory(organisation=organisation, slug=f"campaign-{n}", title=f"Campaign number {n}",
                        status=CampaignStatus.LIVE)  # fmt: skip
    first = client.get("/").content.decode()
    second = client.get("/?page=2").content.decode()
    shown = [n for n in range(21) if f">Campaign number {n}</a>" in first]
    rest = [n for n in range(21) if f">Campaign number {n}</a>" in second]
    assert len(shown) == 20
    assert sorted(shown + rest) == list(range(21))
    assert '<a href="?page=2" rel="next">More campaigns</a>' in first
    assert "Page 2 of 2" in second


def test_an_endorser_line_keeps_each_name_in_its_own_direction_on_an_arabic_page(
    client: Client, open_letter: OpenLetter
) -> None:
    # A Latin name with a comma on a right-to-left page, and an Arabic name on a
    # left-to-right one: each value is isolated (<bdi>), so the line's separators and
    # country follow the page's language and direction instead of the first name's.
    _add(open_letter, "Ada Pennick, Jr", organisation="Wendmouth Ramblers")
    _add(open_letter, "ليلى حداد", country="LB")
    arabic = client.get(reverse("openletters:letter", args=[open_letter.slug]), HTTP_ACCEPT_LANGUAGE="ar")
    html = arabic.content.decode()
    assert '<html lang="ar" dir="rtl">' in html
    assert (
        '<li class="endorser"><strong><bdi>Ada Pennick, Jr</bdi></strong>، <bdi>Member</bdi>، '
        "<bdi>Wendmouth Ramblers</bdi>"
    ) in html  # the parts separated by the Arabic comma
    english = _page(client, open_letter)
    assert '<li class="endorser"><strong><bdi>ليلى حداد</bdi></strong>, <bdi>Member</bdi>' in english
    assert 'class="endorser" dir=' not in english + html
