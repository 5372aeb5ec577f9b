"""Comments as HTML: Markdown-lite, and an attack corpus that must come out harmless."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from undersigned.core.sanitising import comment_to_html, count_links

ATTACKS = [
    "<script>alert('x')</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">click</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "<svg onload=alert(1)>",
    "<iframe src='https://evil.example'></iframe>",
    "<b onmouseover=alert(1)>bold",
    "<<script>script>alert(1)<</script>/script>",
    '"><script>alert(1)</script>',
    "<style>body{display:none}</style>",
    "<a href='https://ok.example' onclick='alert(1)'>x</a>",
]


class Elements(HTMLParser):
    """Every element and attribute a browser would build from the HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))


@pytest.mark.parametrize("attack", ATTACKS)
def test_attacks_come_out_as_text_or_not_at_all(attack: str) -> None:
    parser = Elements()
    parser.feed(comment_to_html(attack))
    for tag, attrs in parser.found:
        assert tag in {"p", "br", "em", "strong", "a"}, tag
        assert not [name for name in attrs if name.startswith("on") or name in {"style", "src"}]
        if tag == "a":
            assert str(attrs["href"]).startswith(("https://", "http://", "mailto:"))
            assert attrs["rel"] == "nofollow ugc noopener"


def test_markdown_lite_keeps_paragraphs_emphasis_and_safe_links() -> None:
    html = comment_to_html("I *walk* there **daily**.\nSecond line\n\nSee [the map](https://wendmouth.example/map).")
    assert html == (
        "<p>I <em>walk</em> there <strong>daily</strong>.<br>\nSecond line</p>\n"
        '<p>See <a href="https://wendmouth.example/map" rel="nofollow ugc noopener">the map</a>.</p>\n'
    )


def test_headings_lists_images_and_raw_html_are_not_rendered() -> None:
    html = comment_to_html("# Big\n\n- item\n\n![img](https://x.example/a.png)\n\n<b>raw</b>")
    assert "<h" not in html
    assert "<li>" not in html
    assert "<img" not in html
    assert "&lt;b&gt;raw&lt;/b&gt;" in html


def test_unicode_direction_overrides_are_removed() -> None:
    assert comment_to_html("invoice\u202egnp.exe \u2066x\u2069") == "<p>invoicegnp.exe x</p>\n"


def test_links_are_counted_whether_markdown_or_bare() -> None:
    assert count_links("no links") == 0
    assert count_links("[a](https://a.example) https://b.example www.c.example [d](mailto:x@y.example)") == 4
