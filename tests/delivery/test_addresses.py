from undersigned.delivery.addresses import bounce_address, letter_copy_address, parse


def test_our_addresses_read_back_as_what_they_name() -> None:
    assert parse(letter_copy_address(42)) == ("letters", 42)
    assert parse(bounce_address(7)) == ("bounces", 7)
    assert parse(letter_copy_address(42).upper()) == ("letters", 42)


def test_made_up_or_altered_addresses_are_not_ours() -> None:
    copy = letter_copy_address(42)
    assert parse(copy.replace("+42-", "+43-")) is None
    assert parse(copy.replace("letters+", "bounces+")) is None
    assert parse(copy.replace("@undersigned.test", "@elsewhere.example")) is None
    assert parse("letters@undersigned.test") is None
    assert parse("letters+42@undersigned.test") is None
    assert parse("") is None
