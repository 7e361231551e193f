"""Reading screenshots from files: bounded sizes read from the header, and no decoder noise on stderr."""

from __future__ import annotations

import struct
import subprocess
import sys
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from desktop_agent.capture.frame import (
    MAX_IMAGE_PIXELS,
    MAX_IMAGE_SIDE,
    _png_without_ancillary_chunks,
    check_image_size,
    load_image,
)
from desktop_agent.errors import ImageReadError
from tests.test_robustness import BAD_ICCP, _chunk, png_bytes


def test_the_bounds() -> None:
    assert check_image_size(7680, 4320) is None  # 8K
    assert check_image_size(2880, 1800) is None
    assert check_image_size(MAX_IMAGE_SIDE, MAX_IMAGE_PIXELS // MAX_IMAGE_SIDE) is None
    assert "8192" in str(check_image_size(MAX_IMAGE_SIDE + 1, 10))
    assert "40 megapixels" in str(check_image_size(8000, 8000))
    assert check_image_size(0, 10) is not None


@pytest.mark.parametrize(("size", "why"), [((12000, 12000), "12000x12000"), ((9000, 100), "9000x100"),
                                           ((100_000, 100_000), "larger than")])
def test_a_too_large_image_is_refused_from_its_header(tmp_path: Path, size: tuple[int, int], why: str) -> None:
    path = tmp_path / "big.png"
    path.write_bytes(png_bytes(*size, rows=1))
    with pytest.raises(ImageReadError, match=why):
        load_image(path)


def test_ancillary_chunks_are_dropped_and_the_pixels_kept() -> None:
    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (30, 40, 3), dtype=np.uint8)
    enc = cv2.imencode(".png", img)[1].tobytes()
    ihdr_end = 8 + 25
    extra = _chunk(b"gAMA", struct.pack(">I", 100000)) + _chunk(*BAD_ICCP) + _chunk(b"tEXt", b"Comment\x00hi")
    data = enc[:ihdr_end] + extra + enc[ihdr_end:]
    stripped = _png_without_ancillary_chunks(data)
    assert stripped == enc
    assert _png_without_ancillary_chunks(enc) is enc  # nothing to drop: no copy
    assert _png_without_ancillary_chunks(data[:50]) == data[:50]  # damaged: left for the decoder to refuse
    decoded = cv2.imdecode(np.frombuffer(stripped, np.uint8), cv2.IMREAD_COLOR)
    assert np.array_equal(decoded, img)


def test_a_png_libpng_would_warn_about_reads_silently(tmp_path: Path) -> None:
    path = tmp_path / "iccp.png"
    path.write_bytes(png_bytes(16, 8, extra=(BAD_ICCP,)))
    code = f"from desktop_agent.capture.frame import load_image; print(load_image({str(path)!r}).shape)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                       cwd=Path(__file__).resolve().parents[2])
    assert r.returncode == 0 and r.stdout.strip() == "(8, 16, 3)"
    assert r.stderr == ""


def test_palette_and_damaged_files(tmp_path: Path) -> None:
    # An 8-bit palette PNG with tRNS still decodes (tRNS is kept).
    ihdr = struct.pack(">IIBBBBB", 4, 2, 8, 3, 0, 0, 0)
    raw = (b"\x00" + bytes([0, 1, 0, 1])) * 2
    pal = (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"PLTE", b"\xff\x00\x00\x00\x00\xff")
           + _chunk(b"tRNS", b"\xff\x80") + _chunk(b"IDAT", zlib.compress(raw)) + _chunk(b"IEND", b""))
    (tmp_path / "pal.png").write_bytes(pal)
    img = load_image(tmp_path / "pal.png")
    assert img.shape == (2, 4, 3) and tuple(img[0, 0]) == (0, 0, 255) and tuple(img[0, 1]) == (255, 0, 0)
    (tmp_path / "cut.png").write_bytes(png_bytes(640, 480)[:200])
    with pytest.raises(ImageReadError, match="damaged"):
        load_image(tmp_path / "cut.png")
    with pytest.raises(ImageReadError, match="no such file"):
        load_image(tmp_path / "nul\0.png")
