"""The reference desk's markup: paragraphs, lists and bold, and never a tag from the author."""

from __future__ import annotations

from dialog_contracts import richtext


def test_paragraphs_lists_and_bold_become_their_tags() -> None:
    text = "Бірінші **маңызды** жол\nекінші жол\n\n- бір\n- екі\n\n1. first\n2) second"
    assert richtext.to_html(text) == (
        "<p>Бірінші <strong>маңызды</strong> жол<br>екінші жол</p>"
        "<ul><li>бір</li><li>екі</li></ul><ol><li>first</li><li>second</li></ol>"
    )


def test_html_from_the_author_is_text() -> None:
    html = richtext.to_html('<script>alert(1)</script> **<b onclick="x">bold</b>**')
    assert "<script>" not in html and "<b " not in html
    assert "&lt;script&gt;" in html and "<strong>&lt;b onclick=&quot;x&quot;&gt;" in html


def test_plain_lines_for_the_printer_and_the_voice() -> None:
    assert richtext.to_lines("**Құжаттар**\n\n- жеке куәлік\n1. бір") == [
        ("Құжаттар", True),
        ("", False),
        ("• жеке куәлік", False),
        ("", False),
        ("1. бір", False),
    ]
    assert richtext.to_plain("") == ""
