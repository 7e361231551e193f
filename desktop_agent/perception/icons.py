"""The icon recognizer: an icon crop in, what it means out (models/icons/icon_recognizer.onnx).

Crops are normalised the same way in training and here: the glyph's difference from the background
(so dark-on-light and light-on-dark look alike), cut tight, centred and scaled into 32x32.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from desktop_agent.geometry import Rect
from desktop_agent.perception.icon_vocab import CLASSES, OTHER

SIZE = 32
GLYPH = 28
MODEL_DIR = Path(__file__).resolve().parents[2] / "models" / "icons"
MODEL_ENV = "DESKTOP_AGENT_ICON_MODEL"


def default_model_path() -> Path:
    return Path(os.environ.get(MODEL_ENV, MODEL_DIR / "icon_recognizer.onnx"))


def preprocess_icon(crop: np.ndarray) -> np.ndarray | None:
    """BGR or gray crop -> float32 [SIZE, SIZE] in 0..1 (glyph bright on black), or None if blank."""
    gray = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
    if gray.size == 0 or min(gray.shape) < 4:
        return None
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    bg = float(np.median(border))
    fg = np.abs(gray.astype(np.float32) - bg)
    peak = float(fg.max())
    if peak < 24:
        return None
    fg /= peak
    ys, xs = np.nonzero(fg > 0.25)
    y1, y2, x1, x2 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    glyph = fg[y1:y2, x1:x2]
    h, w = glyph.shape
    side = max(h, w)
    square = np.zeros((side, side), np.float32)
    oy, ox = (side - h) // 2, (side - w) // 2
    square[oy:oy + h, ox:ox + w] = glyph
    interp = cv2.INTER_AREA if side > GLYPH else cv2.INTER_LINEAR
    small = cv2.resize(square, (GLYPH, GLYPH), interpolation=interp)
    out = np.zeros((SIZE, SIZE), np.float32)
    m = (SIZE - GLYPH) // 2
    out[m:m + GLYPH, m:m + GLYPH] = small
    return out


@dataclass(frozen=True, slots=True)
class IconGuess:
    name: str  # a class of icon_vocab, or "other"
    prob: float


class IconRecognizer:
    """onnxruntime session over the committed model; `classify` takes crops, returns top guesses."""

    def __init__(self, path: Path | None = None) -> None:
        import onnxruntime as ort

        path = path or default_model_path()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = max(1, min(2, os.cpu_count() or 1))
        self._session: Any = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        meta = path.with_name("icon_classes.json")
        self.classes: tuple[str, ...] = tuple(json.loads(meta.read_text())) if meta.exists() else CLASSES
        # Guesses by the exact pixels of the crop: an icon that did not change is not classified again.
        self._cache: OrderedDict[bytes, list[IconGuess]] = OrderedDict()

    def clear_cache(self) -> None:
        self._cache.clear()

    def classify(self, crops: list[np.ndarray], top: int = 3) -> list[list[IconGuess]]:
        out: list[list[IconGuess]] = [[] for _ in crops]
        batch, where, keys = [], [], []
        for i, c in enumerate(crops):
            key = hashlib.blake2b(np.ascontiguousarray(c).tobytes(), digest_size=16,
                                  person=b"%dx%d" % c.shape[:2]).digest()
            hit = self._cache.get(key)
            if hit is not None:
                out[i] = hit
                continue
            x = preprocess_icon(c)
            if x is not None:
                batch.append(x)
                where.append(i)
                keys.append(key)
        if not batch:
            return out
        logits = self._session.run(None, {self._session.get_inputs()[0].name: np.stack(batch)[:, None]})[0]
        logits = logits - logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        probs /= probs.sum(axis=1, keepdims=True)
        for row, i, key in zip(probs, where, keys, strict=True):
            order = np.argsort(-row)[:top]
            out[i] = [IconGuess(self.classes[k], float(row[k])) for k in order]
            self._cache[key] = out[i]
        while len(self._cache) > 2048:
            self._cache.popitem(last=False)
        return out


def icon_crop(image: np.ndarray, box: Rect, margin: int = 3) -> np.ndarray:
    h, w = image.shape[:2]
    x1, y1, x2, y2 = box.expanded(margin).clipped(w, h).int_box()
    return image[y1:y2, x1:x2]


def describe(guesses: list[IconGuess], min_prob: float = 0.35) -> str:
    """The element text for an icon: its most likely meaning, or '' when unsure or 'other'."""
    if guesses and guesses[0].name != OTHER and guesses[0].prob >= min_prob:
        return guesses[0].name.replace("_", " ")
    return ""
