"""Say each thing once (``recall.once``): what a context block leaves out as said already."""

from __future__ import annotations

from contextrecall.recall.once import Said, holds, said_as


def test_labels_quotes_and_end_marks_do_not_make_a_sentence_new():
    assert said_as('Asked: "Remember: the deploy command is ./deploy.sh".') == (
        "the deploy command is ./deploy.sh"
    )
    said = Said()
    said.add("Last request: Remember: the deploy command is ./deploy.sh")
    assert said.novel("Outcome: Noted: Remember: the deploy command is ./deploy.sh") is None


def test_only_the_new_sentences_of_a_line_stay_and_its_bullet_with_them():
    said = Said()
    said.add("We moved the totals into their own module.")
    line = "- [2026-02-11] We moved the totals into their own module. The checkout test fails."
    assert said.novel(line, keep="- [2026-02-11] ") == "- [2026-02-11] The checkout test fails."


def test_a_sentence_shown_first_in_a_bullet_is_known_without_one():
    said = Said()
    said.add('- [2026-11-20] Asked: "The checkout page times out with 50 items". Outcome: fixed.')
    assert said.novel("- [2026-11-21] The checkout page times out with 50 items.") is None


def test_a_text_says_a_sentence_once_too():
    said = Said()
    asked = 'Asked: "Remember: the deploy command is ./deploy.sh". Noted.'
    text = f"{asked} The deploy command is ./deploy.sh."
    assert said.novel(text) == asked


def test_a_cut_sentence_counts_as_the_one_it_begins():
    said = Said()
    said.add("The worker stores every delta of a session in one transaction.")
    assert said.novel("The worker stores every delta of a …") is None


def test_short_sentences_may_repeat_but_do_not_carry_a_line_alone():
    said = Said()
    said.add("Branch: main. Tests pass on both databases now.")
    assert said.novel("Branch: main") == "Branch: main"  # nothing was left out
    assert said.novel("Tests pass on both databases now. Done.") is None


def test_nothing_is_left_out_of_a_first_line():
    text = "Use Kafka for the audit stream.\nConsumers replay a month of events."
    assert Said().novel(text) == text


def test_a_title_its_summary_says_is_not_said_again():
    assert holds('Asked: "Fix the flaky login test". Outcome: fixed.', "Fix the flaky login test")
    assert not holds("Asked: something else entirely.", "Fix the flaky login test")
