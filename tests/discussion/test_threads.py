"""Laying out threads (pure): indentation up to three levels, then flat with "in reply to"."""

from __future__ import annotations

from dataclasses import dataclass

from undersigned.discussion.threads import MAX_INDENT, layout


@dataclass
class C:
    pk: int
    parent_id: int | None
    author_name: str
    is_visible: bool = True


def test_replies_follow_their_parent_depth_first_oldest_first() -> None:
    roots = [C(10, None, "Newer root"), C(1, None, "Ana")]
    replies = [C(3, 1, "Ben"), C(2, 1, "Chen"), C(4, 2, "Dara"), C(11, 10, "Eli")]
    entries = layout(roots, replies)
    assert [(e.comment.author_name, e.depth) for e in entries] == [
        ("Newer root", 0),
        ("Eli", 1),
        ("Ana", 0),
        ("Chen", 1),
        ("Dara", 2),
        ("Ben", 1),
    ]
    assert [e.parent_name for e in entries] == ["", "Newer root", "", "Ana", "Chen", "Ana"]


def test_deep_replies_stop_indenting_and_say_whom_they_answer() -> None:
    names = ["Ana", "Ben", "Chen", "Dara", "Eli", "Farah"]
    chain = [C(i + 1, i if i else None, name) for i, name in enumerate(names)]
    entries = layout(chain[:1], chain[1:])
    assert [e.indent for e in entries] == [0, 1, 2, 3, 3, 3]
    assert MAX_INDENT == 3
    assert [e.in_reply_to for e in entries] == ["", "", "", "", "Dara", "Eli"]


def test_a_thousand_deep_exchange_does_not_hit_the_recursion_limit() -> None:
    chain = [C(i + 1, i if i else None, f"P{i}") for i in range(3000)]
    entries = layout(chain[:1], chain[1:])
    assert len(entries) == 3000
    assert entries[-1].in_reply_to == "P2998"


def test_hidden_comments_stay_as_placeholders_only_where_visible_replies_hang() -> None:
    roots = [C(1, None, "Spammer", is_visible=False), C(5, None, "Troll", is_visible=False)]
    replies = [C(2, 1, "Ben"), C(3, 2, "Hidden too", is_visible=False), C(6, 5, "Hidden reply", is_visible=False)]
    entries = layout(roots, replies)
    assert [(e.comment.pk, e.comment.is_visible) for e in entries] == [(1, False), (2, True)]
    # A reply to a hidden comment does not name its author.
    assert entries[1].parent_name == ""
