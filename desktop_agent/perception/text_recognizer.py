"""The screen text recognizer trained here (models/text_rec/text_rec.onnx): one text line crop in, its text out.

A small CTC line model (convolutions collapsing the height, one bidirectional LSTM) trained on synthetic UI
lines in Latin, Greek and Cyrillic with UI symbols (models/text_rec/MODEL_CARD.md). Its charset travels in the
ONNX metadata. A line it reads with low confidence, or one whose ink it cannot turn into any character of its
charset, is marked for the multilingual recognizer (`needs_fallback`).

The crop preparation below is the one training uses (models/text_rec/train.py imports it), so the two agree.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import cv2
import numpy as np

MODEL_PATH = Path(__file__).resolve().parents[2] / "models" / "text_rec" / "text_rec.onnx"
HEIGHT = 32  # the model's input height
STRIDE = 4  # input columns per output step
MAX_BATCH_COLUMNS = 8192  # bounds one run's activations: batch size x padded width


def prepare_line(crop: np.ndarray) -> np.ndarray | None:
    """A crop (BGR or grey, uint8) as the model reads it: HEIGHT rows of ink in [0, 1] on a 0 background,
    light-on-dark turned dark-on-light first, contrast stretched; None for a crop with no ink or no size."""
    if crop.ndim == 3:
        crop = cv2.cvtColor(np.ascontiguousarray(crop[:, :, :3]), cv2.COLOR_BGR2GRAY)
    h, w = crop.shape[:2]
    if h < 2 or w < 2:
        return None
    g = crop.astype(np.float32)
    lo, hi = float(g.min()), float(g.max())
    if hi - lo < 16:
        return None
    # The background covers most of a line crop, so the median sits on it and the mean leans toward the ink.
    ink = (g - lo) / (hi - lo)
    if float(ink.mean()) <= float(np.median(ink)):
        ink = 1.0 - ink
    width = max(4, round(w * HEIGHT / h))
    interp = cv2.INTER_AREA if h > HEIGHT else cv2.INTER_LINEAR
    return np.ascontiguousarray(cv2.resize(ink, (width, HEIGHT), interpolation=interp), dtype=np.float32)


def padded_width(width: int) -> int:
    """The width a line is padded to: the next step of a ladder 12.5% apart (multiples of STRIDE). The model reads
    a line in both directions, so its padding is part of what it sees: fixed per width, a line's reading never
    depends on the lines batched with it."""
    ladder = 32.0
    while ladder < width:
        ladder *= 1.125
    return -(-round(ladder) // STRIDE) * STRIDE


def batch_lines(lines: list[np.ndarray], width: int | None = None) -> tuple[np.ndarray, list[int]]:
    """Prepared lines padded with background to one width (default: the widest's ladder width), as
    (N, 1, HEIGHT, W), and each line's own number of output steps."""
    width = padded_width(max(x.shape[1] for x in lines)) if width is None else width
    out = np.zeros((len(lines), 1, HEIGHT, width), np.float32)
    for i, x in enumerate(lines):
        out[i, 0, :, : x.shape[1]] = x
    return out, [-(-x.shape[1] // STRIDE) for x in lines]


def greedy_decode(probs: np.ndarray, charset: str) -> tuple[str, float]:
    """Best path of one line's (steps, classes) probabilities, class 0 the blank: the text and its confidence, the
    lowest of its characters' peak probabilities (0.0 for no character)."""
    best = probs.argmax(axis=1)
    peak = probs.max(axis=1)
    chars: list[str] = []
    scores: list[float] = []
    prev = 0
    for k, p in zip(best.tolist(), peak.tolist(), strict=True):
        if k != 0 and k == prev:
            scores[-1] = max(scores[-1], p)
        elif k != 0:
            chars.append(charset[k - 1])
            scores.append(p)
        prev = k
    text = " ".join("".join(chars).split())
    return (text, float(min(scores))) if text else ("", 0.0)


class TextRecognizer:
    """Reads line crops with the trained model; `recognize(crops)` -> [(text, confidence)] in order."""

    def __init__(self, model_path: Path | None = None, threshold: float | None = None,
                 threads: int | None = None) -> None:
        path = model_path or MODEL_PATH
        if not path.exists():
            raise FileNotFoundError(f"text recognizer model not found: {path} (models/text_rec/build.sh makes it)")
        # Imported here: models/text_rec/train.py loads this file alone, without the package's dependencies.
        from desktop_agent.perception.onnx_session import cpu_session

        self._session: Any = cpu_session(path, threads or min(4, os.cpu_count() or 1))
        meta = self._session.get_modelmeta().custom_metadata_map
        self.charset: str = meta["charset"]
        self.threshold = float(meta.get("threshold", 0.5)) if threshold is None else threshold
        self._lock = threading.Lock()

    def recognize(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
        """Text and confidence of each line crop (BGR uint8); ("", 0.0) for an empty or inkless crop."""
        results: list[tuple[str, float]] = [("", 0.0)] * len(crops)
        prepared: list[tuple[int, np.ndarray]] = []
        for i, c in enumerate(crops):
            x = prepare_line(c) if c is not None and c.size else None
            if x is not None:
                prepared.append((i, x))
        # Lines padded to the same ladder width share a batch; a batch's columns are bounded.
        by_width: dict[int, list[tuple[int, np.ndarray]]] = {}
        for item in prepared:
            by_width.setdefault(padded_width(item[1].shape[1]), []).append(item)
        for width, group in sorted(by_width.items()):
            per_run = max(1, MAX_BATCH_COLUMNS // width)
            for k in range(0, len(group), per_run):
                self._run(group[k:k + per_run], width, results)
        return results

    def needs_fallback(self, text: str, confidence: float) -> bool:
        """Whether a reading should go to the multilingual recognizer: low confidence, or no text from ink."""
        return not text or confidence < self.threshold

    def _run(self, batch: list[tuple[int, np.ndarray]], width: int, results: list[tuple[str, float]]) -> None:
        x, steps = batch_lines([b[1] for b in batch], width)
        with self._lock:
            (probs,) = self._session.run(None, {"line": x})
        for (i, _), n, p in zip(batch, steps, probs, strict=True):
            results[i] = greedy_decode(p[:n], self.charset)
