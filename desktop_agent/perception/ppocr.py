"""PP-OCR's text detector and recognizer, run here with onnxruntime on the ONNX files the rapidocr package
ships: the package's own pipeline is never imported (nor what it imports: OmegaConf, Shapely, pyclipper,
requests, tqdm), which kept about 30 MB in every process that reads text.

Detection (DB, "differentiable binarization"): the model gives each pixel a probability of being text;
pixels above BIN_THRESHOLD, dilated by one pixel, form regions; a region's minimum-area rectangle is kept
when the mean probability inside it reaches BOX_THRESHOLD, and grown on every side by its area times
UNCLIP_RATIO over its perimeter (the model is trained to predict a shrunk text kernel). The parameters are
those rapidocr's configuration sets for these models.
Recognition (CTC): a line is scaled to REC_HEIGHT pixels, and the model gives, for each column step, a
distribution over its characters (the model's metadata lists them; index 0 is CTC's blank, the last a space);
the text is the best character of each step, repeats and blanks dropped, and its confidence the mean of
those characters' probabilities.
"""

from __future__ import annotations

import importlib.util
import math
import os
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from desktop_agent.geometry import Rect
from desktop_agent.perception.onnx_session import cpu_session

DET_FILE, REC_FILE = "PP-OCRv6_det_small.onnx", "PP-OCRv6_rec_small.onnx"
BIN_THRESHOLD, BOX_THRESHOLD, UNCLIP_RATIO, MIN_SIDE = 0.3, 0.5, 1.6, 3
REC_HEIGHT = 48


def model_dir() -> Path:
    """The folder of rapidocr's ONNX files: found without importing the package (or, in the bundle, where
    the bundle put them)."""
    spec = importlib.util.find_spec("rapidocr")
    roots = list(spec.submodule_search_locations or []) if spec is not None else []
    roots += [os.path.join(getattr(sys, "_MEIPASS", ""), "rapidocr")] if hasattr(sys, "_MEIPASS") else []
    for root in roots:
        if (Path(root) / "models" / DET_FILE).exists():
            return Path(root) / "models"
    raise FileNotFoundError(f"rapidocr's models ({DET_FILE}, {REC_FILE}) not found: pip install rapidocr")


class TextDetector:
    """Boxes of text lines in an image, by PP-OCR's detector."""

    def __init__(self, threads: int, path: Path | None = None) -> None:
        self.session: Any = cpu_session(path or model_dir() / DET_FILE, threads)

    def probabilities(self, image: np.ndarray) -> np.ndarray:
        """The model's text probability of each pixel of a BGR image whose sides are multiples of 32."""
        # Channels first, each pixel's (value - 127.5) * 2/255.
        x = np.ascontiguousarray(((image.astype(np.float32) - 127.5) * np.float32(2 / 255.0)).transpose(2, 0, 1)[None])
        out: np.ndarray = self.session.run(None, {self.session.get_inputs()[0].name: x})[0]
        return out[0, 0]

    def boxes(self, image: np.ndarray) -> list[Rect]:
        """Axis-aligned boxes of the text lines in a BGR image whose sides are multiples of 32."""
        return boxes_from_probabilities(self.probabilities(image))


def boxes_from_probabilities(prob: np.ndarray) -> list[Rect]:
    """The DB post-processing (module docstring), as axis-aligned boxes clipped to the map."""
    h, w = prob.shape
    mask = cv2.dilate((prob > BIN_THRESHOLD).astype(np.uint8), np.ones((2, 2), np.uint8))
    contours, _ = cv2.findContours(mask * 255, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    out = []
    for contour in contours[:1000]:
        (cx, cy), (rw, rh), angle = cv2.minAreaRect(contour)
        if min(rw, rh) < MIN_SIDE:
            continue
        corners = cv2.boxPoints(((cx, cy), (rw, rh), angle))
        if _mean_inside(prob, corners) < BOX_THRESHOLD:
            continue
        grow = rw * rh * UNCLIP_RATIO / (2 * (rw + rh))
        # Grown from the corners cut to whole pixels, as the polygon offset of the reference pipeline does.
        (cx, cy), (rw, rh), angle = cv2.minAreaRect(np.trunc(corners).astype(np.float32))
        if min(rw, rh) + 2 * grow < MIN_SIDE + 2:
            continue
        grown = cv2.boxPoints(((cx, cy), (rw + 2 * grow, rh + 2 * grow), angle))
        xs = np.clip(np.floor(grown[:, 0] + 0.5), 0, w)  # halves rounded up, not to even
        ys = np.clip(np.floor(grown[:, 1] + 0.5), 0, h)
        x1, x2, y1, y2 = float(xs.min()), float(xs.max()), float(ys.min()), float(ys.max())
        if x2 - x1 > MIN_SIDE and y2 - y1 > MIN_SIDE:
            out.append(Rect(x1, y1, x2, y2))
    return out


def _mean_inside(prob: np.ndarray, corners: np.ndarray) -> float:
    """The mean probability over the pixels of the quadrilateral `corners`."""
    h, w = prob.shape
    x1 = int(np.clip(np.floor(corners[:, 0].min()), 0, w - 1))
    x2 = int(np.clip(np.ceil(corners[:, 0].max()), 0, w - 1))
    y1 = int(np.clip(np.floor(corners[:, 1].min()), 0, h - 1))
    y2 = int(np.clip(np.ceil(corners[:, 1].max()), 0, h - 1))
    mask = np.zeros((y2 - y1 + 1, x2 - x1 + 1), np.uint8)
    cv2.fillPoly(mask, [(corners - [x1, y1]).astype(np.int32)], 1)
    return float(np.ravel(cv2.mean(prob[y1:y2 + 1, x1:x2 + 1], mask))[0])


class LineRecognizer:
    """Text and confidence of line crops, by PP-OCR's recognizer."""

    def __init__(self, threads: int, path: Path | None = None) -> None:
        self.session: Any = cpu_session(path or model_dir() / REC_FILE, threads)
        listed = self.session.get_modelmeta().custom_metadata_map["character"].splitlines()
        self.characters = ["", *listed, " "]  # CTC's blank first, the space last

    def read(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
        """Each BGR crop's text and confidence, all in one call: crops as wide as the widest when scaled to
        REC_HEIGHT (shorter ones padded with zeros on the right)."""
        if not crops:
            return []
        widths = [math.ceil(REC_HEIGHT * c.shape[1] / c.shape[0]) for c in crops]
        width = max(int(REC_HEIGHT * max(c.shape[1] / c.shape[0] for c in crops)), 320)
        batch = np.zeros((len(crops), 3, REC_HEIGHT, width), np.float32)
        for n, (crop, w) in enumerate(zip(crops, widths, strict=True)):
            w = min(w, width)
            line = cv2.resize(crop, (w, REC_HEIGHT)).astype(np.float32)
            batch[n, :, :, :w] = line.transpose(2, 0, 1) * np.float32(2 / 255.0) - 1.0
        probs: np.ndarray = self.session.run(None, {self.session.get_inputs()[0].name: batch})[0]
        del batch
        best, best_p = probs.argmax(axis=2), probs.max(axis=2)
        del probs
        return [self._decode(i, p) for i, p in zip(best, best_p, strict=True)]

    def _decode(self, indices: np.ndarray, probs: np.ndarray) -> tuple[str, float]:
        keep = indices != 0
        keep[1:] &= indices[1:] != indices[:-1]
        if not keep.any():
            return "", 0.0
        text = "".join(self.characters[i] for i in indices[keep].tolist())
        return text, round(float(np.mean(np.round(probs[keep].astype(np.float64), 5))), 5)
