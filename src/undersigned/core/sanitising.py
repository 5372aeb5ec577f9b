"""Turning text people typed into HTML that is safe to show.

Markdown is rendered with raw HTML disabled, then cleaned by nh3 with a small
allow-list, so neither a campaign's background nor anything a supporter writes can
inject script, styles or event handlers.
"""

from __future__ import annotations

import re

import nh3
from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_md.enable("table")

_TAGS = {
    "p",
    "br",
    "em",
    "strong",
    "a",
    "ul",
    "ol",
    "li",
    "blockquote",
    "code",
    "pre",
    "h2",
    "h3",
    "h4",
    "hr",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}
_ATTRIBUTES = {"a": {"href", "title"}}

# Unicode bidi controls can reorder what a reader sees (e.g. hide a URL's real host).
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def markdown_to_html(text: str) -> str:
    """Render Markdown to sanitised HTML. Headings are shifted down so h1 stays the page's."""
    html = _md.render(BIDI_CONTROLS.sub("", text))
    html = re.sub(r"<(/?)h1>", r"<\1h2>", html)
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow ugc noopener noreferrer",
    )


def single_line(value: str) -> str:
    """Collapse any line breaks and control characters: for names and subjects that end up in headers.

    C1 controls count too: Python's email package splits a header at NEL (U+0085).
    """
    return re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+", " ", value).strip()


# Comments get "Markdown-lite": paragraphs, line breaks, emphasis and links, nothing else.
_md_lite = MarkdownIt("zero", {"html": False, "linkify": False, "typographer": False, "breaks": True})
_md_lite.enable(["emphasis", "link", "autolink", "newline"])
_LITE_TAGS = {"p", "br", "em", "strong", "a"}


def comment_to_html(text: str) -> str:
    """A comment as sanitised HTML: paragraphs, emphasis and links (rel="nofollow ugc noopener").

    Raw HTML is not parsed (it shows as text) and nh3 removes anything outside the
    allow-list, including javascript: URLs. Bidi overrides are removed before rendering.
    """
    html = _md_lite.render(BIDI_CONTROLS.sub("", text))
    return nh3.clean(
        html,
        tags=_LITE_TAGS,
        attributes={"a": {"href"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow ugc noopener",
    )


def count_links(text: str) -> int:
    """How many links (Markdown or bare URLs) a text holds; ``[x](http://…)`` counts once.

    Counted in the text as typed: a bare URL is a link to a spammer even when it is not
    rendered as one."""
    bare = len(re.findall(r"(?i)\b(?:https?://|www\.)", text))
    markdown = text.count("](")
    inline_urls = len(re.findall(r"(?i)\]\((?:https?://|www\.)", text))
    return bare + markdown - inline_urls
