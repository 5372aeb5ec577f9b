"""Every kind of email says exactly who it is from and to, whatever names people type.

Property-based: hypothesis makes up names (any Unicode, runs of ``<>,;:"()@\\``, text
that looks like addresses or encoded-words, bidi controls, up to 200 characters) for
every person in every kind of email the product sends, sends each email through the
real SMTP backend to a local aiosmtpd server and through the file backend, and parses
the bytes that left the process back with ``email.policy.default``. Each address
header must hold exactly the addresses meant, with exactly the names meant
(``display_name``: one line, no bidi controls, single spaces, at most 150 characters).

Size: ``EXAMPLES`` (50) examples of six names each (supporter, recipient, organisation,
endorser, commenter, the commenter replied to) plus three explicit ones, 318 names,
over six kinds of email (a letter, a letter with a copy to its supporter, a digest, an
endorsement confirmation, a comment confirmation, a reply notification), each through
both backends: 636 messages. A further 150 examples of one to four names in one header
run without a database or server. Account mail (allauth) carries no person's name; it
is covered in test_dkim.py.
"""

from __future__ import annotations

import email
import email.policy
import re
from datetime import date
from email.header import decode_header, make_header
from email.message import EmailMessage as MimeMessage
from email.utils import getaddresses
from pathlib import Path
from typing import Any

import pytest
from django.core.mail import EmailMessage, mailers
from django.test import Client, override_settings
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.discussion.conftest import post_comment
from tests.factories import LetterFactory
from tests.openletters.conftest import endorse, make_open_letter
from undersigned.campaigns.enums import Channel
from undersigned.core.emails import POLICY, SMTP_POLICY, display_name, named_address, phrase_words
from undersigned.core.sanitising import single_line
from undersigned.delivery import digests
from undersigned.delivery.addresses import reply_address
from undersigned.delivery.models import Delivery, Digest
from undersigned.delivery.sending import _message as letter_message  # the engine's own mapping
from undersigned.delivery.services import record_delivery
from undersigned.discussion import emails as discussion_emails
from undersigned.discussion.models import Comment
from undersigned.discussion.services import discussion_for
from undersigned.openletters import mail as openletter_mail
from undersigned.openletters.models import Endorsement

EXAMPLES = 50
PLATFORM = "letters@undersigned.test"
ADDRESS_HEADERS = ("From", "To", "Cc", "Reply-To")

_SPECIALS = '<>,;:"()@\\[]. =?'
_ascii_specials = st.text(alphabet=st.sampled_from([*_SPECIALS, *"abcXYZ019"]), max_size=200)
_any_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=200)
_word = st.text(alphabet=st.characters(codec="utf-8", categories=("L", "M", "N")), min_size=1, max_size=12)
_tricky = st.sampled_from(
    [
        "\u202e",  # right-to-left override
        "\u2066",  # left-to-right isolate
        "\u200f",  # right-to-left mark
        "\u0085",  # NEL, a line break to Python
        "\r\nBcc: victim@example.org\r\n",
        "=?utf-8?q?mayor=40council=2Eexample?=",
        " <mayor@council.example>",
        '", other@example.org, "',
        "\\",
        ",",
        "  ",
    ]
)
# Names as people write them, with the specials and lookalikes mixed in, long enough to fold.
_composed = st.lists(st.one_of(_word, _tricky, _ascii_specials.map(lambda s: s[:20])), max_size=14).map(" ".join)
NAMES = st.one_of(_composed, _ascii_specials, _any_text)

ISSUE_NAMES = {
    "supporter": 'Ana "the boss" Ruiz <ana@evil.example>, someone@victim.example; and a long tail to fold here',
    "recipient": "Board of Directors, Secretariat of the European Committee on Something and its Head (Chair)",
    "organisation": "Friends of the Wend (Wendmouth, Riverside; est. 1987) <board@council.example>",
    "endorser": "\u202eSiobhán O'Brien, Trustee \\ Friends of the Wend @ Wendmouth: the long version",
    "commenter": "=?utf-8?q?mayor=40council=2Eexample?= " + "x" * 80,
    "parent": "日本語の名前、委員会事務局と局長" * 4,
}


def _python_reads_adjacent_encoded_words_as_rfc_2047_says() -> bool:
    """Python before the gh-128110 fix reads a space between adjacent encoded-words in a name."""
    parsed = email.message_from_bytes(
        b"To: =?utf-8?q?a?= =?utf-8?q?b?= <x@example.org>\r\n\r\n", policy=email.policy.default
    )
    return bool(parsed["To"].addresses[0].display_name == "ab")


PYTHON_FOLLOWS_RFC_2047 = _python_reads_adjacent_encoded_words_as_rfc_2047_says()
_ENCODED_WORD = re.compile(r"=\?utf-8\?[qb]\?[^?\s]*\?=", re.IGNORECASE)


def read_addresses(message: MimeMessage, header: str) -> list[tuple[str, str]]:
    """The (name, address) pairs of ``header`` as ``email.policy.default`` reads them.

    A second reader (``getaddresses``, with ``decode_header`` for encoded-words) must
    agree. Where this Python has gh-128110, a name written as several encoded-words is
    taken from the second reader, which follows RFC 2047 6.2 (and the first must read
    the same apart from the spaces it adds between the words).
    """
    parsed = [(address.display_name, address.addr_spec) for address in message[header].addresses]
    [raw] = [value for name, value in message.raw_items() if name.lower() == header.lower()]
    read = []
    unfolded = re.sub(r"\r?\n", "", raw)
    for (name, spec), (phrase, other_spec) in zip(parsed, getaddresses([unfolded]), strict=True):
        # Encoded-words as written (a quoted "=?" goes out as "=\?", so never matches here).
        words = _ENCODED_WORD.findall(phrase) if phrase in unfolded else []
        other_name = str(make_header(decode_header(phrase))) if words else phrase
        assert other_spec == spec, raw
        if len(words) > 1 and not PYTHON_FOLLOWS_RFC_2047:
            assert name.replace(" ", "") == other_name.replace(" ", ""), raw
        else:
            assert name == other_name, raw
        read.append((other_name, spec))
    return read


class People:
    """One of each kind of email, from real rows, whose people's names each example sets."""

    def __init__(self, campaign: Any, client: Client) -> None:
        organisation = campaign.organisation
        recipient = campaign.recipients.first()
        letter = LetterFactory(campaign=campaign)
        self.delivery = record_delivery(letter=letter, recipient=recipient, channel=Channel.EMAIL)
        self.copied = record_delivery(
            letter=LetterFactory(campaign=campaign), recipient=recipient, channel=Channel.EMAIL, copy_to_sender=True
        )
        self.digest = Digest.objects.create(recipient=recipient, day=date(2026, 3, 2))
        open_letter = make_open_letter(organisation)
        assert endorse(client, open_letter).status_code in (200, 302)
        self.endorsement = Endorsement.objects.select_related("letter__organisation").get()
        discussion = discussion_for(campaign)
        post_comment(client, discussion, body="Who else walks here?", notify_replies="on")
        parent = Comment.objects.get()
        post_comment(client, discussion, reply_to=parent.pk, name="Ben Okoro", email="ben@example.org", body="I do.")
        self.parent = Comment.objects.select_related("discussion__organisation").get(pk=parent.pk)
        self.reply = Comment.objects.select_related("discussion__organisation").exclude(pk=parent.pk).get()
        self.deliveries = [
            Delivery.objects.select_related("letter__campaign__organisation", "letter__supporter", "recipient").get(
                pk=pk
            )
            for pk in (self.delivery.pk, self.copied.pk)
        ]

    def emails(self, names: dict[str, str]) -> list[tuple[str, EmailMessage, dict[str, list[tuple[str, str]]]]]:
        """Each kind of email for these names, with the address headers it must carry."""
        organisation_name = names["organisation"]
        organisations = [
            *(d.sent_letter.campaign.organisation for d in self.deliveries),
            self.endorsement.letter.organisation,
            self.parent.discussion.organisation,
            self.reply.discussion.organisation,
        ]
        for organisation in organisations:
            organisation.name, organisation.short_name = organisation_name, ""
        for delivery in self.deliveries:
            delivery.sent_letter.sender_name = names["supporter"]
            delivery.sent_recipient.name = names["recipient"]
        self.endorsement.name, self.endorsement.signatory = names["endorser"], ""
        self.parent.author_name = names["parent"]
        self.reply.author_name = names["commenter"]

        letter, copied = self.deliveries
        supporter = (display_name(names["supporter"]), letter.sent_letter.supporter.email)
        copied_supporter = (display_name(names["supporter"]), copied.sent_letter.supporter.email)
        recipient = (display_name(names["recipient"]), letter.sent_recipient.email)
        letter_from = [(display_name(f"{names['supporter']} via {organisation_name}"), PLATFORM)]
        discussion_from = [(display_name(f"Discussion at {organisation_name}"), PLATFORM)]
        self.digest.recipient = letter.sent_recipient
        # Reply-To names the supporter, then the delivery's own reply address (the campaign's default placement).
        answers, copied_answers = (("", reply_address(d.pk)) for d in (letter, copied))
        return [
            (
                "letter",
                letter_message(letter),
                {"From": letter_from, "To": [recipient], "Reply-To": [supporter, answers]},
            ),
            (
                "letter with a copy to its supporter",
                letter_message(copied),
                {
                    "From": letter_from,
                    "To": [recipient],
                    "Reply-To": [copied_supporter, copied_answers],
                    "Cc": [copied_supporter],
                },
            ),
            (
                "digest",
                digests.build_message(self.digest, [letter]),
                {"From": [(display_name(f"Letters via {organisation_name}"), PLATFORM)], "To": [recipient]},
            ),
            (
                "endorsement confirmation",
                openletter_mail.build_message(self.endorsement),
                {
                    "From": [(display_name(f"{single_line(organisation_name)[:100]} via Undersigned"), PLATFORM)],
                    "To": [(display_name(names["endorser"]), self.endorsement.email)],
                },
            ),
            (
                "comment confirmation",
                discussion_emails.confirmation_message(self.reply),
                {"From": discussion_from, "To": [(display_name(names["commenter"]), self.reply.email)]},
            ),
            (
                "reply notification",
                discussion_emails.reply_message(self.reply, self.parent),
                {"From": discussion_from, "To": [(display_name(names["parent"]), self.parent.email)]},
            ),
        ]


def _file_messages(path: Path) -> list[bytes]:
    data = b"".join(file.read_bytes() for file in sorted(path.iterdir()))
    return [part for part in data.split(b"\n" + b"-" * 79 + b"\n") if part.strip()]


def _check(kind: str, raw: bytes, expected: dict[str, list[tuple[str, str]]], unsubscribe: str | None) -> None:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, MimeMessage)
    for header in ADDRESS_HEADERS:
        if header in expected:
            assert read_addresses(message, header) == expected[header], (kind, header, raw)
        else:
            assert header not in message, (kind, header)
    if unsubscribe is not None:
        # A literal <URL> a mail program can offer as one-click unsubscribe (RFC 8058).
        assert re.search(rb"^List-Unsubscribe: <" + re.escape(unsubscribe.encode()) + rb">\r?$", raw, re.M), kind
        assert message["List-Unsubscribe"] == f"<{unsubscribe}>"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


@pytest.mark.django_db
def test_every_kind_of_email_carries_exactly_the_people_meant(
    campaign: Any, client: Client, smtp_sink: Any, tmp_path: Path
) -> None:
    people = People(campaign, client)
    tried: list[dict[str, str]] = []
    file_mailer: dict[str, Any] = {
        "BACKEND": "undersigned.core.mailers.FileBackend",
        "OPTIONS": {"file_path": str(tmp_path)},
    }

    @settings(
        max_examples=EXAMPLES,
        deadline=None,  # the SMTP round trips' times vary on a shared machine; no timing asserted
        derandomize=True,  # the same corpus on every run, so a failure reproduces
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(st.fixed_dictionaries(dict.fromkeys(ISSUE_NAMES, NAMES)))
    @example(ISSUE_NAMES)
    @example(dict.fromkeys(ISSUE_NAMES, ""))
    @example(dict.fromkeys(ISSUE_NAMES, "Cllr Jane Smith"))
    def check(names: dict[str, str]) -> None:
        tried.append(names)
        emails = people.emails(names)
        unsubscribe = discussion_emails.unsubscribe_url(people.parent)
        smtp_sink.messages.clear()
        assert mailers.default.send_messages([message for _, message, _ in emails]) == len(emails)
        assert len(smtp_sink.messages) == len(emails)
        received = [envelope.original_content for envelope in smtp_sink.messages]  # the bytes as they arrived
        for (kind, _, expected), raw in zip(emails, received, strict=True):
            _check(kind, raw, expected, unsubscribe if kind == "reply notification" else None)
        for file in tmp_path.iterdir():
            file.unlink()
        with override_settings(MAILERS={"default": file_mailer}):
            assert mailers.default.send_messages([message for _, message, _ in emails]) == len(emails)
        written = _file_messages(tmp_path)
        assert len(written) == len(emails)
        for (kind, _, expected), raw in zip(emails, written, strict=True):
            _check(kind, raw, expected, unsubscribe if kind == "reply notification" else None)

    check()
    assert len(tried) >= EXAMPLES
    print(f"names tried: {len(tried) * len(ISSUE_NAMES)} in {len(tried)} examples, six kinds of email, two backends")


def test_display_names_keep_what_people_typed_and_lose_what_could_mislead() -> None:
    assert display_name('Board, Secretariat <b@x.org> "Chair" (Head); \\ @:') == (
        'Board, Secretariat <b@x.org> "Chair" (Head); \\ @:'
    )
    assert display_name("Siobhán  O'Brien\t李小龍 ") == "Siobhán O'Brien 李小龍"
    assert display_name("\u202eevil\u202c \u2066name\u2069\u200f") == "evil name"
    assert display_name("Ana\r\nBcc: victim@example.org\x85x") == "Ana Bcc: victim@example.org x"
    assert display_name("a" * 200) == "a" * 150


@pytest.mark.parametrize(
    ("name", "written"),
    [
        ("Cllr Jane Smith", "Cllr Jane Smith <chair@council.example>"),
        ("Board, Secretariat", '"Board, Secretariat" <chair@council.example>'),
        ("=?utf-8?q?x?=", '"=\\?utf-8?q?x?=" <chair@council.example>'),
        ('Jane "JJ" Smith \\ MP', '"Jane \\"JJ\\" Smith \\\\ MP" <chair@council.example>'),
        ("Siobhán O'Brien", "Siobhán O'Brien <chair@council.example>"),
        ("李小龍, 局長", '"李小龍, 局長" <chair@council.example>'),
        ("", "chair@council.example"),
    ],
)
def test_a_name_is_given_to_django_as_words_or_a_quoted_string(name: str, written: str) -> None:
    assert named_address(name, "chair@council.example") == written


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("Cllr Jane Smith", ["Cllr", "Jane", "Smith"]),
        ("Board, Secretariat", ['"Board, Secretariat"']),
        ("Siobhán", ["=?utf-8?q?Siobh=C3=A1n?="]),
        ("李小龍", ["=?utf-8?b?5p2O5bCP6b6N?="]),
    ],
)
def test_mail_carries_a_name_as_words_a_quoted_string_or_encoded_words(name: str, words: list[str]) -> None:
    assert phrase_words(name) == words


def test_a_long_name_is_cut_into_encoded_words_of_whole_characters() -> None:
    words = phrase_words("Ünïcödé " * 17 + "Ünïcödé")
    assert len(words) > 1
    assert all(len(word) <= 75 for word in words)
    assert str(make_header(decode_header(" ".join(words)))) == "Ünïcödé " * 17 + "Ünïcödé"


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(st.lists(NAMES, min_size=1, max_size=4), NAMES)
def test_any_names_in_one_header_come_back_exactly(names: list[str], sender: str) -> None:
    """Without a database or a server, more names: several in one To, folded together."""
    to = [named_address(name, f"person{index}@council.example") for index, name in enumerate(names)]
    message = EmailMessage("Subject", "Body", named_address(sender, PLATFORM), to, cc=to[:1], reply_to=to[-1:])
    for policy in (SMTP_POLICY, POLICY):
        raw = message.message(policy=policy).as_bytes()
        assert all(len(line) <= 998 for line in raw.splitlines())
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, MimeMessage)
        expected = [(display_name(name), f"person{index}@council.example") for index, name in enumerate(names)]
        assert read_addresses(parsed, "To") == expected
        assert read_addresses(parsed, "Cc") == expected[:1]
        assert read_addresses(parsed, "Reply-To") == expected[-1:]
        assert read_addresses(parsed, "From") == [(display_name(sender), PLATFORM)]


def test_list_headers_go_out_as_written_however_long() -> None:
    url = "https://letters.example.org/d/unsubscribe/" + "Ab1-_" * 40 + "/"
    message = EmailMessage(
        "Subject", "Body", PLATFORM, ["ana@example.org"],
        headers={"List-Unsubscribe": f"<{url}>, <mailto:unsubscribe@example.org>",
                 "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
    )  # fmt: skip
    raw = message.message(policy=SMTP_POLICY).as_bytes()
    assert f"\r\nList-Unsubscribe: <{url}>,\r\n <mailto:unsubscribe@example.org>\r\n".encode() in raw
    assert b"\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in raw
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["List-Unsubscribe"] == f"<{url}>, <mailto:unsubscribe@example.org>"
