"""Each problem type the code can raise has a page, in Chinese and English, saying what to do."""
from gateway import problem_pages
from tests.problem_types import raised_slugs


def test_every_problem_type_the_code_can_raise_has_a_page():
    missing = raised_slugs() - set(problem_pages.PAGES)
    assert not missing, f"give these problem types a page in gateway/problem_pages.py: {sorted(missing)}"


def test_each_page_says_what_it_means_and_what_to_do_in_both_languages():
    for slug, page in problem_pages.PAGES.items():
        assert len(page) == 4 and all(text.strip() for text in page), slug
        zh_what, zh_do, en_what, en_do = page
        assert any("\u4e00" <= ch <= "\u9fff" for ch in zh_what + zh_do), slug
        assert en_what.isascii() and en_do.isascii(), slug


def test_a_plain_http_status_has_a_page_and_a_made_up_slug_has_none():
    assert problem_pages.page_of("http-406")[2] == "HTTP 406: Not Acceptable."
    assert problem_pages.page_of("http-999") is None
    assert problem_pages.page_of("no-such-problem") is None


def test_the_scan_finds_slugs_given_every_way_the_code_gives_them():
    found = raised_slugs()
    assert {"already-enrolled",  # Conflict(detail, slug)
            "precondition-failed",  # a class's own default
            "case-closed",  # welfare's rule choosing one of two
            "nothing-to-pay",  # a *_problem rule's (slug, reason)
            "leader-not-found",  # object_id(value, "leader")
            "method-not-allowed"} <= found  # falcon's own, by status
    assert "state" not in found and "amount" not in found  # keys read and fields named are not slugs
