"""Signs drawn alone on a key (glyphs.py): read by the real models off a rendered keypad, where the text
detector finds no line; an icon that is not a sign gets no text."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from desktop_agent.geometry import Point, Rect
from desktop_agent.perception.detector import Proposal
from desktop_agent.perception.elements import ElementKind
from desktop_agent.perception.glyphs import glyph_lines, is_sign
from desktop_agent.perception.parser import ScreenParser

ADWAITA = Path("/usr/share/icons/Adwaita/48x48")


def test_only_one_symbol_or_punctuation_character_is_a_sign() -> None:
    assert all(is_sign(s) for s in "=+×÷√±€°−()%.*/")
    assert not any(is_sign(s) for s in ("Q", "7", "り", "十", "==", "", "x²"))


@pytest.fixture(scope="module")
def parser() -> ScreenParser:
    return ScreenParser()


def _keypad() -> tuple[np.ndarray, tuple[int, int], tuple[int, int]]:
    """A window with a lone "=" drawn white on a blue key and a magnifier icon; their centres."""
    from PIL import Image, ImageDraw, ImageFont

    picture = Image.new("RGB", (640, 400), (246, 245, 244))
    draw = ImageDraw.Draw(picture)
    draw.text((40, 30), "Calculator  Mode  View  Help", font=ImageFont.truetype(
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 14), fill=(40, 40, 40))
    draw.rounded_rectangle((300, 250, 434, 282), 4, fill=(38, 118, 220))
    draw.text((360, 253), "=", font=ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 17),
              fill=(255, 255, 255))
    image = np.asarray(picture)[:, :, ::-1].copy()
    files = sorted(ADWAITA.glob("*/edit-find-symbolic.symbolic.png"))
    assert files, "the Adwaita icon theme is not installed"
    alpha = cv2.resize(cv2.imread(str(files[0]), cv2.IMREAD_UNCHANGED)[:, :, 3], (16, 16),
                       interpolation=cv2.INTER_AREA).astype(np.float32)[..., None] / 255
    region = image[150:166, 100:116].astype(np.float32)
    image[150:166, 100:116] = (alpha * np.array((54, 52, 46)) + (1 - alpha) * region).astype(np.uint8)
    return image, (367, 266), (108, 158)


def test_a_lone_sign_on_a_key_is_read_and_an_icon_is_not(parser: ScreenParser) -> None:
    image, equals, magnifier = _keypad()
    result = parser.parse(image, incremental=False)
    signs = [e for e in result.elements if e.text == "="]
    assert len(signs) == 1 and signs[0].bbox.contains(Point(*equals)), [(e.text, e.bbox) for e in result.elements]
    at_icon = [e for e in result.elements if e.bbox.contains(Point(*magnifier))]
    # No sign read off the magnifier. (The text detector itself finds a line there and reads "Q": that is
    # not this reading's doing, and not a sign.)
    assert at_icon and not any(is_sign(e.text) for e in at_icon), at_icon


def _grey_keys() -> tuple[np.ndarray, dict[str, tuple[int, int]]]:
    """A keypad row of grey keys with a thin "-", a "(" and a "%", and a tall "=" key two rows high; each
    key's centre."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 15)
    picture = Image.new("RGB", (640, 400), (246, 245, 244))
    draw = ImageDraw.Draw(picture)
    draw.text((40, 30), "Calculator  Edit  View  Help", font=font, fill=(40, 40, 40))
    centres = {}
    for i, sign in enumerate(["-", "(", "%"]):
        x = 100 + 66 * i
        draw.rounded_rectangle((x, 200, x + 57, 232), 4, fill=(232, 232, 231), outline=(200, 198, 196))
        draw.text((x + 24, 207), sign, font=font, fill=(46, 52, 54))
        centres[sign] = (x + 28, 216)
    draw.rounded_rectangle((320, 200, 377, 272), 4, fill=(232, 232, 231), outline=(200, 198, 196))
    draw.text((342, 226), "=", font=font, fill=(46, 52, 54))
    centres["="] = (348, 236)
    return np.asarray(picture)[:, :, ::-1].copy(), centres


def test_thin_signs_are_read(parser: ScreenParser) -> None:
    """A thin "-" is read off its glyph cut out tight; "(" and "%" are signs too."""
    image, centres = _grey_keys()
    parser.reset()
    result = parser.parse(image, incremental=False)
    for sign in "-(%":
        centre = centres[sign]
        found = [e for e in result.elements if e.text == sign]
        assert len(found) == 1 and found[0].bbox.contains(Point(*centre)), (sign, [(e.text, e.bbox)
                                                                                   for e in result.elements])


def test_a_key_two_rows_high_is_read(parser: ScreenParser) -> None:
    """galculator's "=" key is two rows high, and the element detector takes it for a small framed box: such a
    box is a key too (the real recognizer reads it; the proposal is given)."""
    image, _ = _grey_keys()
    tall = Rect(320, 200, 378, 273)
    [line] = glyph_lines(parser.ocr, image, [], [Proposal(ElementKind.CONTAINER, tall, 0.9)])
    assert line.text == "=" and line.bbox == tall
    # No key, no reading: a box as large as a panel is not looked at.
    assert glyph_lines(parser.ocr, image, [], [Proposal(ElementKind.CONTAINER, Rect(0, 0, 640, 400), 0.9)]) == []


def test_a_sign_stays_read_when_the_screen_changes_beside_its_key(parser: ScreenParser) -> None:
    image, equals, _ = _keypad()
    parser.reset()
    assert any(e.text == "=" for e in parser.parse(image).elements)
    changed = image.copy()
    changed[220:240, 300:420] = (90, 90, 90)  # a hover just above the key: its band is parsed again
    result = parser.parse(changed)
    assert result.incremental
    signs = [e for e in result.elements if e.text == "="]
    assert len(signs) == 1 and signs[0].bbox.contains(Point(*equals))
