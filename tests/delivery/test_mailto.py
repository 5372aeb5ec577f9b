from urllib.parse import parse_qs, unquote, urlsplit

from undersigned.delivery.channels.mailto import MAILTO_MAX_LENGTH, compose_links, mailto_uri

SUBJECT = "Keep the path open & safe — 100% please? #now"
BODY = "Dear Ms Šimůnková,\n\nLine two with = and & and + and %20.\n\n王秀英\nفاطمة"


def _parse(uri: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(uri)
    assert parts.scheme == "mailto"
    fields = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    return unquote(parts.path), fields


def test_parsing_the_uri_gives_back_exactly_the_subject_and_body() -> None:
    uri = mailto_uri(to=["chair@council.example"], subject=SUBJECT, body=BODY)
    to, fields = _parse(uri)
    assert to == "chair@council.example"
    assert fields["subject"] == SUBJECT
    assert fields["body"] == BODY.replace("\n", "\r\n")


def test_line_breaks_are_crlf_percent_encoded_and_nothing_is_left_raw() -> None:
    uri = mailto_uri(to=["a@b.example"], subject="Hi", body="one\ntwo\r\nthree")
    assert uri == "mailto:a@b.example?subject=Hi&body=one%0D%0Atwo%0D%0Athree"
    query = uri.split("?", 1)[1]
    assert " " not in query
    assert "\n" not in query
    assert "+" not in query


def test_utf8_is_percent_encoded() -> None:
    assert mailto_uri(to=["a@b.example"], subject="Š", body="") == "mailto:a@b.example?subject=%C5%A0&body="


def test_an_address_cannot_smuggle_extra_fields() -> None:
    uri = mailto_uri(to=["a@b.example?bcc=spy@evil.example"], subject="x", body="y")
    to, fields = _parse(uri)
    assert to == "a@b.example?bcc=spy@evil.example"
    assert "bcc" not in fields


def test_webmail_links_carry_the_same_text() -> None:
    links = compose_links(to="chair@council.example", subject=SUBJECT, body=BODY)
    gmail = parse_qs(urlsplit(links.gmail).query)
    assert gmail["su"] == [SUBJECT]
    assert gmail["body"] == [BODY]
    assert gmail["to"] == ["chair@council.example"]
    outlook = parse_qs(urlsplit(links.outlook).query)
    assert outlook["subject"] == [SUBJECT]
    assert outlook["body"] == [BODY]
    assert links.too_long is False


def test_a_long_letter_gets_links_with_a_note_in_place_of_the_text() -> None:
    copy = "letters+7-0123456789ab@undersigned.test"
    long_body = "word " * 500
    assert len(mailto_uri(to=["chair@council.example"], subject="s", body=long_body)) > MAILTO_MAX_LENGTH
    links = compose_links(to="chair@council.example", subject="s", body=long_body, bcc=copy, paste_note="Paste it.")
    assert links.too_long is True
    assert len(links.mailto) < MAILTO_MAX_LENGTH
    to, fields = _parse(links.mailto)
    assert (to, fields) == ("chair@council.example", {"bcc": copy, "subject": "s", "body": "Paste it."})
    assert parse_qs(urlsplit(links.gmail).query)["body"] == ["Paste it."]
    assert parse_qs(urlsplit(links.outlook).query)["bcc"] == [copy]
    assert links.bcc == copy


def test_the_copy_address_goes_in_bcc_of_every_link() -> None:
    copy = "letters+7-0123456789ab@undersigned.test"
    links = compose_links(to="chair@council.example", subject="s", body="b", bcc=copy)
    _, fields = _parse(links.mailto)
    assert fields["bcc"] == copy
    assert parse_qs(urlsplit(links.gmail).query)["bcc"] == [copy]
    assert parse_qs(urlsplit(links.outlook).query)["bcc"] == [copy]
