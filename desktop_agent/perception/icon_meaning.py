"""What an icon means, open-vocabulary: icons and words mapped into one vector space.

`models/icon_embed/` trains two encoders together on icons and the names people give them (freedesktop
icon themes and web icon sets with their published tags): an image encoder (`icon_encoder.onnx`, a small
CNN run with onnxruntime) and a text encoder (`icon_text.npz`: learned word vectors, hashed character
n-gram vectors for words it never saw, a learned weight per word and a projection; run here in numpy).
An instruction's name and an icon on screen are compared by the cosine of their vectors, and
`models/icon_embed` also fits how that cosine (and its lead over the screen's next best icon) turns into
the probability that the icon is the one meant: `click_probability`.

The tokenisation below is the one training uses (build.py imports it), so the two can never disagree.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from desktop_agent.config import ENV_NAMES, read_environment
from desktop_agent.perception.icons import preprocess_icon
from desktop_agent.perception.onnx_session import cpu_session

MODEL_DIR = Path(__file__).resolve().parents[2] / "models" / "icon_embed"
MODEL_ENV = ENV_NAMES["icon_embed_dir"]
BUCKETS = 1 << 14  # hashed character n-gram rows
NGRAMS = (3, 4, 5)
# The cosine from which an icon's nearest known name is said of it (element text for planners and people,
# the approval floor's reading of delete and send icons). Grounding does not use it: it uses the calibration.
DESCRIBE_MIN = 0.5

_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def text_words(text: str) -> list[str]:
    """Lower-case words of a name or an instruction: "Zoom-to-Fit" -> [zoom, to, fit]."""
    return re.findall(r"[a-z0-9]+", _CAMEL.sub(" ", text).lower())


@lru_cache(maxsize=8192)
def ngram_ids(word: str) -> tuple[int, ...]:
    """Rows of the n-gram table for a word: its character 3-5-grams with boundary marks, hashed."""
    w = f"<{word}>"
    grams = {w[i:i + n] for n in NGRAMS for i in range(len(w) - n + 1)} or {w}
    return tuple(sorted(zlib.crc32(g.encode()) % BUCKETS for g in grams))


def model_dir() -> Path:
    """The icon meaning model's folder (DESKTOP_AGENT_ICON_EMBED_DIR, else the shipped one)."""
    return read_environment().path("icon_embed_dir", MODEL_DIR)


def available(path: Path | None = None) -> bool:
    """Whether the icon encoder and the text tables are in `path` (default: `model_dir()`)."""
    d = path or model_dir()
    return (d / "icon_encoder.onnx").exists() and (d / "icon_text.npz").exists()


@dataclass(frozen=True, slots=True)
class Calibration:
    """p(right) = sigmoid(a * cosine + b * lead over the next icon + c); `threshold`: the least p that
    clicks, chosen on held-out data for at most `max_wrong` wrong clicks."""

    a: float
    b: float
    c: float
    threshold: float
    max_wrong: float

    def probability(self, cosine: float, lead: float) -> float:
        """The calibrated probability that an icon means the name, from its cosine and lead."""
        return float(1 / (1 + np.exp(-(self.a * cosine + self.b * lead + self.c))))


class TextEncoder:
    """Phrase -> unit vector, in numpy, from the trained tables."""

    def __init__(self, tables: Any) -> None:
        self.vocab: dict[str, int] = {w: i for i, w in enumerate(tables["vocab"].tolist())}
        self.word = tables["word"].astype(np.float32)
        self.ngram = tables["ngram"].astype(np.float32)
        self.gate_w = tables["gate_w"].astype(np.float32)
        self.gate_b = float(tables["gate_b"])
        self.proj_w = tables["proj_w"].astype(np.float32)
        self.proj_b = tables["proj_b"].astype(np.float32)

    def word_vector(self, word: str) -> np.ndarray:
        """A word's vector: its character n-grams' mean, plus its own vector when it is in the vocabulary."""
        v = self.ngram[list(ngram_ids(word))].mean(axis=0)
        i = self.vocab.get(word)
        return v + self.word[i] if i is not None else v

    def encode(self, text: str) -> np.ndarray | None:
        """A phrase as a unit vector, or None when it has no words to encode."""
        ws = text_words(text)[:24]
        if not ws:
            return None
        vs = np.stack([self.word_vector(w) for w in ws])
        gate = np.logaddexp(0.0, vs @ self.gate_w + self.gate_b) + 1e-4  # softplus: how much a word counts
        v = (gate[:, None] * vs).sum(axis=0) / gate.sum()
        out = v @ self.proj_w.T + self.proj_b
        n = float(np.linalg.norm(out))
        return out / n if n > 0 else None


class IconMeaning:
    """The two encoders and the calibration. `embed_icons(crops)` -> unit vectors (a zero row for a blank
    crop); `embed_text(name)` -> unit vector or None; `describe(vec)` -> the nearest known icon name."""

    def __init__(self, path: Path | None = None) -> None:
        d = path or model_dir()
        self._session: Any = cpu_session(d / "icon_encoder.onnx", min(2, os.cpu_count() or 1))
        with np.load(d / "icon_text.npz", allow_pickle=False) as z:
            self.text = TextEncoder(z)
            self.names: list[str] = z["names"].tolist()
            self.name_vectors = z["name_vectors"].astype(np.float32)
        meta = json.loads((d / "calibration.json").read_text())
        self.calibration = Calibration(**meta)
        self._cache: OrderedDict[bytes, np.ndarray] = OrderedDict()
        self._text_cache: OrderedDict[str, np.ndarray | None] = OrderedDict()

    def clear_cache(self) -> None:
        """Forget the cached text vectors."""
        self._cache.clear()

    def embed_icons(self, crops: list[np.ndarray]) -> np.ndarray:
        """Icon crops as unit vectors, one row each (the image encoder)."""
        dim = self.name_vectors.shape[1]
        out = np.zeros((len(crops), dim), np.float32)
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
        if batch:
            vecs = self._session.run(None, {self._session.get_inputs()[0].name: np.stack(batch)[:, None]})[0]
            vecs = vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-6)
            for v, i, key in zip(vecs, where, keys, strict=True):
                out[i] = v
                self._cache[key] = v
            while len(self._cache) > 4096:
                self._cache.popitem(last=False)
        return out

    def embed_text(self, text: str) -> np.ndarray | None:
        """A name as a unit vector in the icons' space (cached), or None when it has none."""
        if text in self._text_cache:
            return self._text_cache[text]
        v = self.text.encode(text)
        self._text_cache[text] = v
        while len(self._text_cache) > 512:
            self._text_cache.popitem(last=False)
        return v

    def describe(self, vec: np.ndarray, top: int = 3) -> list[tuple[str, float]]:
        """The known icon names nearest to an icon's vector, with their cosines."""
        if not vec.any():
            return []
        sims = self.name_vectors @ vec
        order = np.argsort(-sims)[:top]
        return [(self.names[k], float(sims[k])) for k in order]


@lru_cache(maxsize=1)
def shared_meaning() -> IconMeaning | None:
    """One loaded model per process (None when the files are missing)."""
    return IconMeaning() if available() else None
