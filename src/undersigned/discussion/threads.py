"""Laying out a page of threads for reading: pure, no database.

Replies are indented up to ``MAX_INDENT`` levels; deeper replies continue at that
level, flat, and say whom they answer ("in reply to NAME"), so a long exchange stays
readable on a 375 px phone. Hidden comments stay as a placeholder only where visible
replies hang from them, so a thread never loses its shape and spam leaves no trace.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

MAX_INDENT = 3


class ThreadComment(Protocol):
    @property
    def pk(self) -> int: ...
    @property
    def parent_id(self) -> int | None: ...
    @property
    def author_name(self) -> str: ...
    @property
    def is_visible(self) -> bool: ...


@dataclass(frozen=True)
class Entry:
    comment: ThreadComment
    depth: int
    indent: int
    # The name of the comment it answers, when the indent alone no longer shows it.
    in_reply_to: str
    # Any reply's parent, for screen readers (the indent is only visual).
    parent_name: str


def layout(roots: Sequence[ThreadComment], replies: Iterable[ThreadComment]) -> list[Entry]:
    """Roots in the order given, each followed by its replies depth-first, oldest first.

    ``replies`` are the replies of these roots' threads, in any order.
    """
    ordered = sorted(replies, key=lambda c: c.pk)
    children: dict[int, list[ThreadComment]] = defaultdict(list)
    for reply in ordered:
        if reply.parent_id is not None:
            children[reply.parent_id].append(reply)
    # A reply is always newer than what it answers, so walking from the newest comment
    # back decides each comment after all of its replies (no recursion, any depth).
    shown: dict[int, bool] = {}
    for comment in sorted([*roots, *ordered], key=lambda c: c.pk, reverse=True):
        key = comment.pk
        shown[key] = comment.is_visible or any(shown.get(c.pk, False) for c in children.get(key, []))

    entries: list[Entry] = []
    for root in roots:
        # Iterative depth-first walk: a thousand-deep exchange must not hit the recursion limit.
        stack: list[tuple[ThreadComment, int, ThreadComment | None]] = [(root, 0, None)]
        while stack:
            comment, depth, parent = stack.pop()
            if not shown.get(comment.pk, False):
                continue
            parent_name = parent.author_name if parent is not None and parent.is_visible else ""
            flat = depth > MAX_INDENT
            entries.append(
                Entry(
                    comment=comment,
                    depth=depth,
                    indent=min(depth, MAX_INDENT),
                    in_reply_to=parent_name if flat else "",
                    parent_name=parent_name,
                )
            )
            for child in reversed(children.get(comment.pk, [])):
                stack.append((child, depth + 1, comment))
    return entries
