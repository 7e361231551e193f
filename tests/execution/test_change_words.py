"""A step's effect in words, read by the real OCR from screens drawn with the real fonts on the test display."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from desktop_agent.capture.virtual_display import VirtualDisplay
from desktop_agent.execution.change_words import NO_CHANGE, describe_change, tell_change
from desktop_agent.execution.verify import visible_change
from desktop_agent.geometry import Rect
from desktop_agent.perception.elements import TextLine
from desktop_agent.secret_fields import MASK

W, H = 1000, 640
NAME_FIELD = Rect(160, 300, 460, 330)
SAVE = Rect(100, 100, 180, 128)


@pytest.fixture
def draw(xvfb: VirtualDisplay, qapp: Any) -> Any:
    """Draw a screen: ('text', x, y, text) labels, ('box', x, y, w, h) fields, ('fill', x, y, w, h, colour)."""
    from PySide6.QtGui import QColor, QFont, QImage, QPainter

    def paint(items: list[tuple[Any, ...]]) -> np.ndarray:
        img = QImage(W, H, QImage.Format.Format_RGB888)
        img.fill(QColor("#efefef"))
        p = QPainter(img)
        font = QFont()
        font.setPointSize(11)
        p.setFont(font)
        for item in items:
            if item[0] == "box":
                _, x, y, w, h = item
                p.fillRect(x, y, w, h, QColor("white"))
                p.setPen(QColor("#888888"))
                p.drawRect(x, y, w, h)
            elif item[0] == "fill":
                _, x, y, w, h, colour = item
                p.fillRect(x, y, w, h, QColor(colour))
            else:
                _, x, y, text = item
                p.setPen(QColor("black"))
                p.drawText(x, y, text)
        p.end()
        a = np.frombuffer(img.constBits(), np.uint8).reshape(H, img.bytesPerLine())[:, :W * 3]
        return a.reshape(H, W, 3)[:, :, ::-1].copy()

    return paint


BASE: list[tuple[Any, ...]] = [("text", 106, 120, "Save"), ("text", 100, 560, "Ready"), ("text", 100, 320, "Name"),
                               ("box", 160, 300, 300, 30)]


def tell(parser: Any, before: np.ndarray, after: np.ndarray, **kw: Any) -> Any:
    change = visible_change(before, after)
    return describe_change(before, after, change.bbox if change.changed else None, parser.ocr, **kw)


def test_a_label_that_now_says_something_else(draw: Any, parser: Any) -> None:
    before = draw(BASE)
    after = draw([*BASE[:1], ("text", 100, 560, "Report saved"), *BASE[2:]])
    story = tell(parser, before, after, target=SAVE)
    assert story.kind == "text" and story.words == "'Ready' now reads 'Report saved'", story


def test_typing_tells_what_the_field_now_reads_not_its_label(draw: Any, parser: Any) -> None:
    before = draw([*BASE, ("text", 166, 320, "rep")])
    after = draw([*BASE, ("text", 166, 320, "report")])
    story = tell(parser, before, after, target=NAME_FIELD, typed_into=True)
    assert story.words == "the field now reads 'report'", story


def test_a_secret_field_reads_as_the_mask_and_secrets_never_show(draw: Any, parser: Any) -> None:
    before = draw(BASE)
    after = draw([*BASE, ("text", 166, 320, "hunter2"), ("text", 100, 600, "Signed in as hunter2")])
    story = tell(parser, before, after, target=NAME_FIELD, typed_into=True, secret_field=True,
                 secrets={"hunter2"})
    assert story.words == f"the field now reads '{MASK}'", story
    assert all("hunter2" not in t for t in (story.words, *story.appeared, *story.gone)), story
    blind = tell(parser, before, after, secret_field=True)  # typed where the focus was: nothing is read
    assert (blind.words, blind.appeared, blind.gone) == ("the field changed (its text is secret)", (), ())
    elsewhere = tell(parser, before, draw([*BASE, ("text", 100, 600, "Signed in as hunter2")]), secrets={"hunter2"})
    assert elsewhere.words == f"'Signed in as {MASK}' appeared", elsewhere  # a secret of the run, wherever it shows


def test_a_block_of_new_lines_is_a_window_or_menu_that_opened_and_closed(draw: Any, parser: Any) -> None:
    menu = [("box", 400, 120, 240, 110), ("text", 412, 150, "Export CSV"), ("text", 412, 182, "Print Preview"),
            ("text", 412, 214, "Close Window")]
    closed, opened = draw(BASE), draw([*BASE, *menu])
    story = tell(parser, closed, opened)
    assert story.kind == "opened", story
    assert story.words.startswith("a window or menu opened, showing 'Export CSV', 'Print Preview'"), story
    back = tell(parser, opened, closed)
    assert back.kind == "closed" and "'Export CSV'" in back.words and "went away" in back.words, back


def test_no_change_and_a_change_without_text(draw: Any, parser: Any) -> None:
    before = draw(BASE)
    assert tell(parser, before, before.copy()).words == NO_CHANGE
    ticked = draw([*BASE, ("fill", 86, 108, 12, 12, "#1565c0")])  # a box ticked beside the text: no words
    story = tell(parser, before, ticked, target=SAVE)
    assert story.kind == "look" and story.words == "the look changed at the target (no text changed)", story



def test_a_line_read_whole_before_and_in_pieces_after_is_no_change_of_words() -> None:
    """As the OCR read the target app's token field when a click put a focus frame between its label and its
    placeholder: one line before, two after."""
    whole = [TextLine(Rect(100, 440, 330, 462), "Login token paste token here", 0.95)]
    pieces = [TextLine(Rect(100, 440, 180, 462), "Login token", 0.97),
              TextLine(Rect(196, 440, 330, 462), "paste token here", 0.96)]
    change = Rect(188, 438, 334, 468)
    assert tell_change(whole, pieces, change).kind == "look"
    assert tell_change(pieces, whole, change).kind == "look"
    renamed = [pieces[0], TextLine(Rect(196, 440, 330, 462), "token pasted", 0.96)]
    story = tell_change(whole, renamed, change)  # the words did change: said so
    assert story.kind == "text" and story.words.endswith("now reads 'token pasted'"), story
