"""Routing a letter to a group's member, and the coverage board's numbers (pure)."""

from __future__ import annotations

import datetime

from undersigned.campaigns.coverage import build_board, clean_sort, countdown, endorsement_counts
from undersigned.campaigns.enums import Routing
from undersigned.campaigns.routing import SUGGESTIONS, Member, Why, route, well_covered_level

FR = Member(1, "Section France", "FR", 2)
DE = Member(2, "Section Germany", "DE", 1)
IT = Member(3, "Section Italy", "IT", 3)
ES = Member(4, "Section Spain", "ES", 1)
GROUP = (FR, DE, IT, ES)


def test_every_member_is_todays_behaviour() -> None:
    found = route(rule=Routing.EVERY, members=GROUP, reached={}, country="FR")
    assert found.every
    assert found.choices == ()


def test_the_own_country_decides_and_no_country_yet_decides_nothing() -> None:
    found = route(rule=Routing.OWN_COUNTRY, members=GROUP, reached={}, country="fr")
    assert (found.why, found.choices, found.needs_choice) == (Why.OWN, (FR,), False)
    assert found.allows(1)
    assert not found.allows(2)
    assert route(rule=Routing.OWN_COUNTRY, members=GROUP, reached={}, country="").why == Why.NO_COUNTRY


def test_a_country_without_member_offers_every_member_under_own_country() -> None:
    found = route(rule=Routing.OWN_COUNTRY, members=GROUP, reached={}, country="PT")
    assert found.why == Why.NO_MEMBER
    assert [m.recipient_id for m in found.choices] == [1, 2, 3, 4]  # by name


def test_two_members_of_one_country_are_a_choice_heaviest_first() -> None:
    second = Member(5, "Another French section", "FR", 5)
    found = route(rule=Routing.OWN_COUNTRY, members=(*GROUP, second), reached={}, country="FR")
    assert found.choices == (second, FR)
    assert found.needs_choice


def test_well_covered_is_the_threshold_or_twice_the_median() -> None:
    assert well_covered_level([0, 0, 0, 9], threshold=3) == 3
    assert well_covered_level([0, 0, 0, 9], threshold=0) == 1  # median 0: any letter covers
    assert well_covered_level([2, 4, 6, 8], threshold=0) == 10  # median 5
    assert well_covered_level([], threshold=0) == 1


def test_own_country_stays_while_it_is_not_well_covered() -> None:
    found = route(rule=Routing.OWN_OR_UNREACHED, members=GROUP, reached={1: 2}, country="FR", well_covered_at=3)
    assert (found.why, found.choices) == (Why.OWN, (FR,))


def test_a_well_covered_country_suggests_the_unreached_heaviest_votes_first_and_keeps_its_own() -> None:
    found = route(rule=Routing.OWN_OR_UNREACHED, members=GROUP, reached={1: 3, 2: 1}, country="FR", well_covered_at=3)
    assert found.why == Why.WELL_COVERED
    assert found.choices == (IT, ES, FR)  # Germany was reached; France, their own, last
    assert found.needs_choice
    assert not found.allows(2)


def test_by_the_median_any_letter_covers_while_most_have_none() -> None:
    found = route(rule=Routing.OWN_OR_UNREACHED, members=GROUP, reached={1: 1}, country="FR")
    assert found.why == Why.WELL_COVERED
    assert found.choices[:3] == (IT, DE, ES)


def test_a_country_without_member_gets_the_unreached_and_at_most_a_few() -> None:
    many = [Member(10 + n, f"Section {n:02}", f"X{n}", 1) for n in range(12)]
    found = route(rule=Routing.OWN_OR_UNREACHED, members=many, reached={10: 4}, country="PT")
    assert found.why == Why.NO_MEMBER
    assert len(found.choices) == SUGGESTIONS
    assert all(m.recipient_id != 10 for m in found.choices)


def test_when_everyone_was_reached_the_least_reached_below_the_level_are_offered() -> None:
    found = route(
        rule=Routing.OWN_OR_UNREACHED, members=GROUP, reached={1: 9, 2: 1, 3: 2, 4: 5}, country="FR", well_covered_at=3
    )
    assert found.choices == (DE, IT, FR)


MEMBERS = [(1, "Section France", "fr", 2), (2, "Section Germany", "DE", 1), (3, "Section Italy", "IT", 3)]


def test_the_board_counts_members_and_votes_reached() -> None:
    board = build_board(members=MEMBERS, counts={1: 4, 3: 0}, decision_date=None)
    assert (board.total, board.reached, board.votes, board.reached_votes) == (3, 1, 6, 2)
    assert board.summary() == "1 of 3 members reached — 2 of 6 votes"
    assert [m.country for m in board.members] == ["FR", "DE", "IT"]


def test_the_board_sorts_by_each_column_and_says_which() -> None:
    counts = {1: 4, 2: 7}
    by = {
        sort: [
            m.recipient_id for m in build_board(members=MEMBERS, counts=counts, decision_date=None, sort=sort).members
        ]
        for sort in ("name", "-name", "country", "count", "-count", "votes", "-votes")
    }
    assert by == {
        "name": [1, 2, 3],
        "-name": [3, 2, 1],
        "country": [1, 2, 3],  # France, Germany, Italy
        "count": [3, 1, 2],
        "-count": [2, 1, 3],
        "votes": [2, 1, 3],
        "-votes": [3, 1, 2],
    }
    board = build_board(members=MEMBERS, counts=counts, decision_date=None, sort="-count")
    assert ("count", "count", "descending") in board.columns()
    assert ("name", "name", "") in board.columns()
    assert ("votes", "-votes", "") in board.columns()
    assert clean_sort("--name") == "name"
    assert clean_sort("evil<script>") == "name"
    assert clean_sort(None) == "name"


def test_an_open_letter_counts_endorsements_from_each_members_country() -> None:
    assert endorsement_counts(MEMBERS, {"FR": 12, "": 3, "PT": 1}) == {1: 12, 2: 0, 3: 0}


def test_the_countdown_to_the_vote() -> None:
    today = datetime.date(2027, 2, 19)
    assert countdown(datetime.date(2027, 3, 3), today) == "12 days to the vote on 3 March"
    assert countdown(datetime.date(2027, 2, 20), today) == "1 day to the vote on 20 February"
    assert countdown(today, today) == "The vote is today, 19 February"
    assert countdown(datetime.date(2026, 12, 1), today) == "The vote was on 1 December 2026"
    assert countdown(None, today) == ""
