from undersigned.letters.uniqueness import own_words_percent, shingles, tokens

TEMPLATE = "Dear {{ recipient.name }},\n\nPlease keep the riverside path open. It is the only safe route to school."


def test_the_template_itself_is_none_of_your_own_words() -> None:
    assert own_words_percent(TEMPLATE, TEMPLATE) == 0


def test_an_empty_letter_is_none_of_your_own_words() -> None:
    assert own_words_percent("", TEMPLATE) == 0
    assert own_words_percent("  \n ", TEMPLATE) == 0


def test_a_letter_sharing_nothing_with_the_template_is_all_your_own() -> None:
    assert own_words_percent("My daughter cycles there every morning with her friends.", TEMPLATE) == 100


def test_adding_a_personal_paragraph_raises_the_score_in_proportion() -> None:
    # 16 template words give 14 shingles; 11 new words make 25 shingles in all, of
    # which the 11 after the template's own (2 straddling the join) are new.
    letter = TEMPLATE + "\n\nMy daughter cycles there every morning with her two best friends."
    assert own_words_percent(letter, TEMPLATE) == 11 * 100 // 25


def test_case_punctuation_and_line_breaks_do_not_count_as_own_words() -> None:
    letter = TEMPLATE.upper().replace(".", "!").replace("\n\n", " ")
    assert own_words_percent(letter, TEMPLATE) == 0


def test_placeholders_are_single_words_that_match_themselves() -> None:
    assert tokens("Dear {{ recipient.name }}, hello") == ["dear", "recipientname", "hello"]


def test_chinese_text_is_measured_per_character() -> None:
    assert tokens("请保留河边小路") == ["请", "保", "留", "河", "边", "小", "路"]
    assert own_words_percent("请保留河边小路", "请保留河边小路") == 0
    assert own_words_percent("我的孩子每天走这条路", "请保留河边小路") == 100


def test_apostrophes_stay_inside_words() -> None:
    assert tokens("O'Brien's daughter") == ["o'brien's", "daughter"]


def test_short_texts_form_one_shingle() -> None:
    assert shingles(["hello"]) == [("hello",)]
    assert shingles([]) == []
