"""Discussions in a real browser: post, reply and read a thread with the mouse, by keyboard
only and without JavaScript; an attack corpus that must not run; axe on a deep thread."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from django.http import HttpResponse
from playwright.sync_api import Dialog, Page, expect

from tests.e2e.conftest import ContextFactory, assert_no_serious_violations
from tests.e2e.test_supporter_journey import PHONE, _assert_no_horizontal_scroll, _tab_to
from undersigned.core.emails import mailbox_identity
from undersigned.discussion import services
from undersigned.discussion.links import BROWSER_COOKIE, BROWSER_COOKIE_SALT, browser_remember
from undersigned.discussion.models import Comment, CommentStatus, Discussion, KnownEmail

pytestmark = pytest.mark.browser


@pytest.fixture
def discussion(live_campaign: Any) -> Discussion:
    for email in ("ana.ruiz@example.net", "ben.okoro@example.org"):
        KnownEmail.objects.create(email=email, via=KnownEmail.Via.LINK)
    return services.discussion_for(live_campaign)


def _known_here(context: Any, base_url: str, *emails: str) -> None:
    """These addresses confirmed a comment before in this browser: it has the signed cookie
    (made by the application's own code, as the confirmation page makes it)."""
    value = ""
    for email in emails:
        value = browser_remember(value, mailbox_identity(email))
    response = HttpResponse()
    response.set_signed_cookie(BROWSER_COOKIE, value, salt=BROWSER_COOKIE_SALT)
    signed = response.cookies[BROWSER_COOKIE].value
    context.add_cookies([{"name": BROWSER_COOKIE, "value": signed, "url": f"{base_url}/d/"}])


def _say(discussion: Discussion, body: str, *, name: str = "Ana Ruiz", parent: Comment | None = None) -> Comment:
    return services.post_comment(
        discussion=discussion,
        parent=parent,
        data=services.CommentInput(name=name, email="ana.ruiz@example.net", body=body),
        submission_key=uuid.uuid4(),
        ip_hash="",
        same_browser=True,  # Ana's earlier comments, from the browser she confirmed in
    )


def test_post_a_comment_reply_to_it_and_see_the_thread(
    page: Page, discussion: Discussion, live_campaign: Any, tmp_path: Path, live_server: Any
) -> None:
    _known_here(page.context, live_server.url, "ana.ruiz@example.net", "ben.okoro@example.org")
    page.goto(f"/c/{live_campaign.slug}/")
    teaser = page.locator("#discussion-comments")
    teaser.scroll_into_view_if_needed()
    expect(teaser).to_contain_text("No comments yet.")  # loaded by htmx when it came into view
    teaser.get_by_role("link", name="Write a comment").click()

    page.get_by_label("Your name").fill("Ana Ruiz")
    page.get_by_label("Your email address").fill("ana.ruiz@example.net")
    page.get_by_label("Your comment").fill("The path is the *only* safe way to school.")
    page.get_by_role("button", name="Post comment").click()

    first = page.locator(".comment").first
    expect(first).to_contain_text("Ana Ruiz")
    expect(first.locator("em")).to_have_text("only")
    time = first.locator("time")
    expect(time).to_have_attribute("datetime", Comment.objects.get().created_at.replace(microsecond=0).isoformat())
    exact = time.get_attribute("title")
    assert exact
    assert exact.endswith(" UTC")
    expect(time).to_have_text(f"now, on {exact}")  # "now" on screen; the exact date for screen readers
    expect(time.locator(".visually-hidden")).to_have_text(f", on {exact}")
    first.get_by_role("link", name="Reply to Ana Ruiz").click()

    expect(page.get_by_role("heading", name="Reply to Ana Ruiz")).to_be_visible()
    page.get_by_label("Your name").fill("Ben Okoro")
    page.get_by_label("Your email address").fill("ben.okoro@example.org")
    page.get_by_label("Your comment").fill("Agreed, and the bus does not stop there.")
    page.get_by_role("button", name="Post reply").click()

    comments = page.locator("ol.comments > li")
    expect(comments).to_have_count(2)
    expect(comments.nth(0)).to_have_class("comment indent-0")
    expect(comments.nth(1)).to_have_class("comment indent-1")
    expect(comments.nth(1)).to_contain_text("Ben Okoro")
    expect(comments.nth(1)).to_contain_text("in reply to Ana Ruiz")  # for screen readers
    page.screenshot(path=str(tmp_path / "discussion-desktop.png"), full_page=True)

    page.goto(f"/c/{live_campaign.slug}/")
    page.locator("#discussion-comments").scroll_into_view_if_needed()
    expect(page.locator("#discussion-comments ol.comments > li")).to_have_count(2)
    assert Comment.objects.filter(status=CommentStatus.PUBLISHED).count() == 2


def test_the_same_by_keyboard_only(page: Page, discussion: Discussion, live_server: Any) -> None:
    _known_here(page.context, live_server.url, "ana.ruiz@example.net", "ben.okoro@example.org")
    page.goto(f"/d/{discussion.pk}/")
    _tab_to(page, page.get_by_label("Your name"))
    page.keyboard.type("Ana Ruiz")
    page.keyboard.press("Tab")
    page.keyboard.type("ana.ruiz@example.net")
    page.keyboard.press("Tab")
    page.keyboard.type("Typed without a mouse.")
    _tab_to(page, page.get_by_role("button", name="Post comment"))
    page.keyboard.press("Enter")
    expect(page.locator(".comment")).to_contain_text("Typed without a mouse.")

    _tab_to(page, page.get_by_role("link", name="Reply to Ana Ruiz"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Reply to Ana Ruiz")).to_be_visible()
    _tab_to(page, page.get_by_label("Your name"))
    page.keyboard.type("Ben Okoro")
    page.keyboard.press("Tab")
    page.keyboard.type("ben.okoro@example.org")
    page.keyboard.press("Tab")
    page.keyboard.type("A keyboard reply.")
    _tab_to(page, page.get_by_role("button", name="Post reply"))
    page.keyboard.press("Enter")
    expect(page.locator("ol.comments > li")).to_have_count(2)
    expect(page.locator("ol.comments > li").nth(1)).to_contain_text("A keyboard reply.")


def test_without_javascript_on_a_phone(
    new_context: ContextFactory, discussion: Discussion, tmp_path: Path, live_server: Any
) -> None:
    page = new_context(java_script_enabled=False, viewport=PHONE).new_page()
    _known_here(page.context, live_server.url, "ana.ruiz@example.net", "ben.okoro@example.org")
    page.goto(f"/c/{discussion.campaign.slug}/")  # type: ignore[union-attr]
    page.get_by_role("link", name="Read the discussion and join in").click()
    page.get_by_label("Your name").fill("Ana Ruiz")
    page.get_by_label("Your email address").fill("ana.ruiz@example.net")
    page.get_by_label("Your comment").fill("No scripts needed.")
    page.get_by_role("button", name="Post comment").click()
    expect(page.locator(".comment")).to_contain_text("No scripts needed.")
    _assert_no_horizontal_scroll(page)
    page.screenshot(path=str(tmp_path / "discussion-phone.png"), full_page=True)


ATTACKS = [
    "<script>window.pwned = 'script'</script>",
    "<img src=x onerror=\"window.pwned='img'\">",
    "<svg onload=\"window.pwned='svg'\"></svg>",
    "[click me](javascript:window.pwned='link')",
    "<a href=\"javascript:window.pwned='a'\">me too</a>",
    "<b onmouseover=\"window.pwned='hover'\">hover me",
    "<<script>script>window.pwned='broken'<</script>/script>",
    '"><iframe src="javascript:parent.pwned=\'iframe\'"></iframe>',
    "Pay here: https://bank.example/\u202egpj.exe",
]


@pytest.mark.parametrize("bypass_csp", [False, True], ids=["under-our-csp", "without-any-csp"])
def test_an_attack_corpus_is_shown_as_text_and_nothing_runs(
    new_context: ContextFactory, discussion: Discussion, bypass_csp: bool
) -> None:
    """Without our CSP too: the sanitiser alone must stop everything."""
    for attack in ATTACKS:
        _say(discussion, attack)
    page = new_context(bypass_csp=bypass_csp).new_page()
    dialogs: list[str] = []

    def record(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", record)
    page.goto(f"/d/{discussion.pk}/")
    bodies = page.locator(".comment-body")
    expect(bodies).to_have_count(len(ATTACKS))
    for link in page.locator(".comment-body a").all():
        link.hover()
        link.click(modifiers=["Control"])  # a click that would run a javascript: URL
    for bold in page.locator(".comment-body").all():
        bold.hover()
    assert page.evaluate("() => window.pwned") is None
    assert page.evaluate("() => parent.pwned") is None
    assert dialogs == []
    assert page.locator(".comment-body script, .comment-body img, .comment-body svg, .comment-body iframe").count() == 0
    handlers = page.evaluate(
        """() => [...document.querySelectorAll('.comment-body *')]
            .flatMap(el => [...el.attributes].map(a => a.name))
            .filter(name => name.startsWith('on') || name === 'style' || name === 'src')"""
    )
    assert handlers == []
    hrefs = page.evaluate("() => [...document.querySelectorAll('.comment-body a')].map(a => a.href)")
    assert all(href.startswith(("http://", "https://")) for href in hrefs), hrefs
    text = page.locator("ol.comments").inner_text()
    assert "<script>window.pwned = 'script'</script>" in text  # shown as text, not run
    assert "\u202e" not in text
    assert "gpj.exe" in text


def test_a_deep_thread_is_accessible_and_readable_on_a_phone(
    new_context: ContextFactory, discussion: Discussion, tmp_path: Path
) -> None:
    names = ["Ana Ruiz", "Ben Okoro", "Chen Wei", "Dara Nic Aodha", "Eli Cohen", "Farah Haddad", "王秀英", "Šimůnková"]
    parent = None
    for depth, name in enumerate(names):
        body = f"Level {depth}: a thought about the path, with [a map](https://maps.example/{depth})."
        parent = _say(discussion, body, name=name, parent=parent)
    hidden = _say(discussion, "A comment the moderators hid.", name="Troll")
    _say(discussion, "A reply to a hidden comment.", name="Ben Okoro", parent=hidden)
    services.hide_comment(comment=hidden, actor=None, reason="Off topic")
    _say(discussion, "مرحبا، أنا أمشي هنا كل يوم.", name="ليلى")
    for viewport in ({"width": 1280, "height": 900}, PHONE):
        page = new_context(bypass_csp=True, viewport=viewport).new_page()
        page.goto(f"/d/{discussion.pk}/")
        expect(page.locator(".in-reply-to").first).to_have_text("in reply to Dara Nic Aodha")
        expect(page.locator(".comment-hidden")).to_have_text("This comment was hidden by the moderators.")
        assert_no_serious_violations(page)
        if viewport is PHONE:
            _assert_no_horizontal_scroll(page)
        page.screenshot(path=str(tmp_path / f"deep-thread-{viewport['width']}.png"), full_page=True)


def test_a_report_reaches_the_queue_and_the_moderator_hides_the_comment(
    page: Page, discussion: Discussion, organiser_page: Any, tmp_path: Path
) -> None:
    nasty = _say(discussion, "Everyone on Mill Lane is a liar.", name="Angry Neighbour")
    page.goto(f"/d/{discussion.pk}/")
    page.get_by_role("link", name="Report the comment by Angry Neighbour").click()
    page.get_by_label("What is wrong with this comment?").fill("It insults the people of Mill Lane.")
    page.get_by_role("button", name="Report this comment").click()
    expect(page.get_by_role("status")).to_have_text("The moderators will look at this comment.")

    for viewport in ({"width": 1280, "height": 900}, PHONE):
        moderator = organiser_page(bypass_csp=True, viewport=viewport)
        moderator.goto("/dashboard/")
        moderator.get_by_role("link", name="Moderate comments").click()
        item = moderator.locator(f"#queue-{nasty.pk}")
        expect(item).to_contain_text("reported 1 time")
        expect(item.locator(".report-reasons")).to_have_text("It insults the people of Mill Lane.")
        assert_no_serious_violations(moderator)
        moderator.screenshot(path=str(tmp_path / f"moderation-{viewport['width']}.png"), full_page=True)
    item.get_by_role("button", name="Hide the comment by Angry Neighbour").click()
    expect(item.locator(".field-error")).to_have_text(
        "Error: Say why you hide it: the audit log keeps it for the other moderators."
    )
    assert_no_serious_violations(moderator)
    item.get_by_label("Reason for hiding").fill("Insults neighbours")
    item.get_by_role("button", name="Hide the comment by Angry Neighbour").click()
    expect(moderator.get_by_role("status")).to_have_text("Comment hidden.")

    page.goto(f"/d/{discussion.pk}/")
    expect(page.locator("ol.comments")).to_have_count(0)  # a hidden comment without replies leaves no trace
    expect(page.get_by_text("Everyone on Mill Lane is a liar.")).to_have_count(0)


def test_the_sign_in_page_for_commenters(axe_page: Page, discussion: Discussion) -> None:
    axe_page.goto(f"/d/{discussion.pk}/")
    axe_page.get_by_role("link", name="sign in").click()
    expect(axe_page.get_by_role("heading", level=1)).to_have_text("Sign In")
    expect(axe_page).to_have_title("Sign In — Undersigned")
    assert_no_serious_violations(axe_page)
