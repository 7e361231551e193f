"""A captured screen image together with where it sits on the desktop, and reading screenshots from files.

Images are bounded (`MAX_IMAGE_SIDE`, `MAX_IMAGE_PIXELS`): a file's size is read from its header before
any pixel is decoded, so a 12000x12000 PNG is refused in milliseconds instead of taking gigabytes, and a
captured monitor larger than the bound is refused before it is grabbed (`check_image_size`).
"""

from __future__ import annotations

import contextlib
import io
import struct
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from desktop_agent.errors import ImageReadError
from desktop_agent.geometry import FrameGeometry, Monitor

# An 8K screen (7680x4320, 33 MP) fits; so does a 5K or 6K one. Parsing peaks at a few hundred bytes of
# memory per pixel, so 40 megapixels stays within what a laptop has.
MAX_IMAGE_SIDE = 8192
MAX_IMAGE_PIXELS = 40_000_000


def quiet_opencv() -> None:
    """OpenCV's own log lines ("[ WARN:0@...] ...") never reach the user's terminal: failures surface as
    our one-line errors instead."""
    with contextlib.suppress(AttributeError):  # an OpenCV build without the logging module
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)  # type: ignore[attr-defined,unused-ignore]


quiet_opencv()


def check_image_size(width: int, height: int) -> str | None:
    """Why an image of this size is refused, or None when it is within the bounds."""
    if width <= 0 or height <= 0:
        return f"it has no pixels ({width}x{height})"
    if max(width, height) > MAX_IMAGE_SIDE or width * height > MAX_IMAGE_PIXELS:
        return (f"{width}x{height} pixels is larger than desktop-agent reads (at most {MAX_IMAGE_SIDE} pixels a "
                f"side and {MAX_IMAGE_PIXELS // 1_000_000} megapixels): scale it down first")
    return None


@dataclass(frozen=True, eq=False)
class ScreenFrame:
    """One monitor's pixels (BGR, uint8, HxWx3) and the geometry that maps them to the desktop."""

    image: np.ndarray
    geometry: FrameGeometry
    captured_at: float = field(default_factory=time.time)

    @property
    def width(self) -> int:
        """The image's width in pixels."""
        return int(self.image.shape[1])

    @property
    def height(self) -> int:
        """The image's height in pixels."""
        return int(self.image.shape[0])

    @staticmethod
    def from_image(image: np.ndarray, monitor: Monitor | None = None) -> ScreenFrame:
        """A frame of an image, on `monitor` (default: one monitor of the image's size)."""
        h, w = image.shape[:2]
        mon = monitor or Monitor(1, 0, 0, w, h, 1.0, True, "image")
        return ScreenFrame(np.ascontiguousarray(image), FrameGeometry(mon, w, h))

    def save_png(self, path: Path) -> None:
        """Write the image as PNG."""
        path.parent.mkdir(parents=True, exist_ok=True)
        # Level 1: a screenshot per step must not cost more than the step's perception.
        cv2.imwrite(str(path), self.image, [cv2.IMWRITE_PNG_COMPRESSION, 1])


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# PNG chunks that decoding to BGR needs; the rest (colour profiles, gamma, text, time, APNG frames after
# the first) are dropped before OpenCV sees the file, so libpng has nothing to warn about on stderr
# ("libpng warning: iCCP: known incorrect sRGB profile"). OpenCV ignores them when decoding anyway.
_PNG_KEEP = {b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS"}


def _png_without_ancillary_chunks(data: bytes) -> bytes:
    """`data` with only the chunks decoding needs; `data` itself when it has no others or is not a
    well-formed PNG (OpenCV then reports it damaged)."""
    if not data.startswith(_PNG_SIGNATURE):
        return data
    view = memoryview(data)
    keep: list[memoryview] = [view[:8]]
    pos, dropped = 8, False
    while pos + 12 <= len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        ctype = data[pos + 4:pos + 8]
        end = pos + 12 + length
        if end > len(data):
            return data
        if ctype in _PNG_KEEP:
            keep.append(view[pos:end])
        else:
            dropped = True
        pos = end
        if ctype == b"IEND":
            return b"".join(keep) if dropped else data
    return data  # no IEND: a damaged file, left as it is for the decoder to refuse


def image_size(data: bytes, path: str) -> tuple[int, int]:
    """Width and height from the file's header, without decoding pixels; ImageReadError if the file is
    not an image we read."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow's DecompressionBombWarning: we apply our own bound
            with Image.open(io.BytesIO(data)) as im:
                return int(im.size[0]), int(im.size[1])
    except Image.DecompressionBombError:
        raise ImageReadError(path, f"it is larger than desktop-agent reads (at most {MAX_IMAGE_SIDE} pixels a "
                                   f"side and {MAX_IMAGE_PIXELS // 1_000_000} megapixels)") from None
    except (UnidentifiedImageError, OSError, ValueError, struct.error, SyntaxError):
        raise ImageReadError(path, "not a PNG/JPEG/BMP/WebP image or the file is damaged") from None


def load_image(path: str | Path) -> np.ndarray:
    """Read an image file as BGR uint8, or raise ImageReadError with the reason. The size is checked
    against the bounds before the pixels are decoded."""
    p = Path(path)
    try:
        if not p.exists():
            raise ImageReadError(str(path), "no such file")
        if p.is_dir():
            raise ImageReadError(str(path), "it is a folder, not an image")
        data = p.read_bytes()
    except OSError as exc:  # unreadable (permissions), a name too long, ...
        raise ImageReadError(str(path), exc.strerror or type(exc).__name__) from None
    except ValueError:  # a NUL character in the name
        raise ImageReadError(str(path), "not a usable file name") from None
    if not data:
        raise ImageReadError(str(path), "the file is empty")
    w, h = image_size(data, str(path))
    why = check_image_size(w, h)
    if why:
        raise ImageReadError(str(path), why)
    image = cv2.imdecode(np.frombuffer(_png_without_ancillary_chunks(data), dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None or image.ndim != 3 or check_image_size(image.shape[1], image.shape[0]):
        raise ImageReadError(str(path), "not a PNG/JPEG/BMP/WebP image or the file is damaged")
    return image


def frame_from_file(path: str | Path) -> ScreenFrame:
    """A frame of an image file; ImageReadError when it cannot be read or is too large."""
    return ScreenFrame.from_image(load_image(path))
