"""Rebuild the open-vocabulary icon model: render icons, train the image and text encoders together,
calibrate, export, measure.

    models/icon_embed/build.sh                (sets up the training venv and runs this)
    python build.py render data/icon_pairs.npz  (render only)
    python build.py train data/icon_pairs.npz   (train, calibrate, export, measure; CUDA if present)

Held out: the icon themes `breeze` and `elementary-xfce` and the web set `bootstrap` are never trained on
(neither their drawings nor their names); the shipped model is the one measured on them. On them, screens of
24 icons are made up; for each icon the question is its own name: does the name's vector pick that icon
(top-1 among the 24), and how often would a click go wrong at the chosen threshold. Names of icons that
are *not* on the screen are asked too: the right answer there is to abstain.
"""

from __future__ import annotations

import json
import math
import os
import random
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_LOGGING_RULES", "qt.svg=false")

import sources  # noqa: E402

from desktop_agent.perception.icon_meaning import BUCKETS, ngram_ids, text_words  # noqa: E402
from desktop_agent.perception.icons import SIZE, preprocess_icon  # noqa: E402

SEED = 11
HELD_OUT = ("breeze", "elementary-xfce", "bootstrap")
FILES_PER_CONCEPT = {"Papirus": 1}  # per (source, concept); other sources: 3
NPM_RENDERS = 2
DIM = 64
SCREEN = 24
APP_REPEATS = 4
FILLERS = (("", ""), ("the ", ""), ("", " icon"), ("the ", " button"), ("click ", ""), ("", " button"),
           ("the ", " icon in the toolbar"), ("", " tool"), ("press the ", " button"))


# ---------------------------------------------------------------- rendering

def _qt() -> object:
    from PySide6.QtGui import QGuiApplication

    return QGuiApplication.instance() or QGuiApplication(sys.argv[:1])


def render_file(path: Path, size: int, bg: tuple[int, int, int], fg: tuple[int, int, int] | None,
                margin: int) -> np.ndarray | None:
    """BGR image of one icon file drawn at `size` px on `bg`; `fg` replaces currentColor (web sets)."""
    import cv2

    side = size + 2 * margin
    canvas = np.zeros((side, side, 3), np.uint8)
    canvas[:] = bg[::-1]
    if path.suffix == ".png":
        img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if img is None or img.ndim != 3:
            return None
        h, w = img.shape[:2]
        f = size / max(h, w)
        if f != 1:
            img = cv2.resize(img, (max(1, round(w * f)), max(1, round(h * f))),
                             interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR)
        h, w = img.shape[:2]
        rgb = img[:, :, :3].astype(np.float32)
        alpha = img[:, :, 3:4].astype(np.float32) / 255 if img.shape[2] == 4 else np.ones((h, w, 1))
        y, x = margin + (size - h) // 2, margin + (size - w) // 2
        region = canvas[y:y + h, x:x + w].astype(np.float32)
        canvas[y:y + h, x:x + w] = (alpha * rgb + (1 - alpha) * region).astype(np.uint8)
        return canvas
    from PySide6.QtCore import QByteArray, QRectF
    from PySide6.QtGui import QColor, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    try:
        text = path.read_text(errors="replace")
    except OSError:
        return None
    if fg is not None:
        color = "#{:02x}{:02x}{:02x}".format(*fg)
        text = text.replace("currentColor", color)
        tag = text.find("<svg")
        end = text.find(">", tag)
        if tag >= 0 and 'fill="' not in text[tag:end]:
            text = text.replace("<svg", f'<svg fill="{color}"', 1)
    renderer = QSvgRenderer(QByteArray(text.encode()))
    if not renderer.isValid():
        return None
    img = QImage(side, side, QImage.Format.Format_RGB888)
    img.fill(QColor(*bg))
    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(p, QRectF(margin, margin, size, size))
    p.end()
    arr = np.frombuffer(img.constBits(), np.uint8, count=img.sizeInBytes()).reshape(side, img.bytesPerLine())
    return arr[:, : side * 3].reshape(side, side, 3)[:, :, ::-1].copy()


def _variant(path: Path, size: int, mono: bool, rng: random.Random) -> np.ndarray | None:
    import cv2

    dark = rng.random() < 0.25
    v = rng.randint(15, 60) if dark else rng.randint(205, 255)
    bg = tuple(int(np.clip(v + rng.randint(-12, 12), 0, 255)) for _ in range(3))
    fg = None
    if mono:
        f = rng.randint(190, 255) if dark else rng.randint(0, 90)
        fg = tuple(int(np.clip(f + rng.randint(-40, 40), 0, 255)) for _ in range(3))
    img = render_file(path, size, bg, fg, rng.randint(1, 5))  # type: ignore[arg-type]
    if img is None:
        return None
    if rng.random() < 0.2:
        img = cv2.GaussianBlur(img, (3, 3), rng.uniform(0.3, 0.7))
    x = preprocess_icon(img)
    return None if x is None else np.round(x * 255).astype(np.uint8)


def harvested_icons(folder: Path) -> dict[str, list[tuple[str, np.ndarray]]]:
    """Per application (source `app:<name>`): (name, preprocessed crop) of every named icon-only control on
    its harvested screens (models/harvest/harvest_desktop.py), cut the way the app cuts icons."""
    import cv2

    sys.path.insert(0, str(ROOT / "models" / "harvest"))
    from to_grounding_set import _kind

    from desktop_agent.geometry import Rect
    from desktop_agent.perception.icons import icon_crop

    out: dict[str, list[tuple[str, np.ndarray]]] = {}
    images: dict[str, np.ndarray] = {}
    for line in (folder / "samples.jsonl").read_text(encoding="utf-8").splitlines():
        s = json.loads(line)
        if _kind(s) != "icon":
            continue
        if s["image"] not in images:
            images[s["image"]] = cv2.imread(str(folder / s["image"]))
        x = preprocess_icon(icon_crop(images[s["image"]], Rect(*s["bbox"])))
        if x is not None:
            out.setdefault(f"app:{s['app']}", []).append((s["name"], np.round(x * 255).astype(np.uint8)))
    return out


def render_all(harvest: list[Path] | None = None) -> dict[str, object]:
    """Images, their concept and source, and every concept's texts."""
    _qt()
    rng = random.Random(SEED)
    per_source = {**sources.theme_concepts(), **sources.npm_concepts()}
    crops: dict[str, list[tuple[str, np.ndarray]]] = {}
    for folder in harvest or []:
        for app, items in harvested_icons(folder).items():
            crops.setdefault(app, []).extend(items)
    for app, items in crops.items():
        per_source[app] = {}
        for name, _ in items:
            key = sources.concept_key(name)
            if key:
                per_source[app].setdefault(key, sources.Concept(key)).texts.add(" ".join(text_words(name)))
    keys = sorted({k for cs in per_source.values() for k in cs})
    index = {k: i for i, k in enumerate(keys)}
    texts: dict[str, set[str]] = {k: set() for k in keys}
    xs: list[np.ndarray] = []
    cs: list[int] = []
    srcs: list[str] = []
    t0 = time.time()
    for source, concepts in per_source.items():
        mono = source in sources.NPM_SETS
        n0 = len(xs)
        for key, c in sorted(concepts.items()):
            if source not in HELD_OUT:
                texts[key] |= c.texts
            files = c.images
            if not mono:
                by_size = sorted(files, key=lambda f: (f[2] not in (16, 22, 24), rng.random()))
                files = by_size[:FILES_PER_CONCEPT.get(source, 3)]
            for _src, path, draw in files if not source.startswith("app:") else []:
                for _ in range(NPM_RENDERS if mono else 1):
                    size = draw or rng.choice((14, 16, 16, 20, 22, 24, 24, 28, 32))
                    x = _variant(path, size, mono, rng)
                    if x is not None:
                        xs.append(x)
                        cs.append(index[key])
                        srcs.append(source)
        for name, x in crops.get(source, []):
            key = sources.concept_key(name)
            if key:
                xs.append(x)
                cs.append(index[key])
                srcs.append(source)
        print(f"  {source}: {len(xs) - n0} images ({time.time() - t0:.0f} s)", flush=True)
    return {"x": np.stack(xs), "concept": np.array(cs, np.int32), "source": np.array(srcs),
            "keys": np.array(keys), "texts": json.dumps({k: sorted(v) for k, v in texts.items() if v})}


def save(data: dict[str, object], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **data)  # type: ignore[arg-type]


def load(path: Path) -> dict[str, object]:
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


# ---------------------------------------------------------------- model

def make_image_encoder():  # type: ignore[no-untyped-def]
    import torch.nn as nn

    def blk(a: int, b: int) -> nn.Sequential:
        return nn.Sequential(nn.Conv2d(a, b, 3, padding=1, bias=False), nn.BatchNorm2d(b), nn.ReLU())

    return nn.Sequential(blk(1, 24), nn.MaxPool2d(2), blk(24, 48), blk(48, 48), nn.MaxPool2d(2), blk(48, 96),
                         blk(96, 96), nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.2), nn.Linear(96 * 16, 192),
                         nn.ReLU(), nn.Linear(192, DIM))


class TextModel:  # a torch module built lazily (torch is imported only for training)
    def __new__(cls, vocab_size: int):  # type: ignore[no-untyped-def]
        import torch
        import torch.nn as nn

        class _Text(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.word = nn.Embedding(vocab_size, DIM)
                self.ngram = nn.EmbeddingBag(BUCKETS, DIM, mode="mean")
                nn.init.normal_(self.word.weight, std=0.05)
                nn.init.normal_(self.ngram.weight, std=0.05)
                self.gate = nn.Linear(DIM, 1)
                self.proj = nn.Linear(DIM, DIM)

            def forward(self, word_ids, gram_flat, gram_offsets, phrase_of_word, n_phrases):  # type: ignore[no-untyped-def]
                v = self.ngram(gram_flat, gram_offsets)
                known = word_ids >= 0
                v = v + self.word(word_ids.clamp(min=0)) * known[:, None]
                g = torch.nn.functional.softplus(self.gate(v)).squeeze(1) + 1e-4
                num = torch.zeros(n_phrases, DIM, device=v.device).index_add_(0, phrase_of_word, g[:, None] * v)
                den = torch.zeros(n_phrases, device=v.device).index_add_(0, phrase_of_word, g)
                out = self.proj(num / den[:, None])
                return torch.nn.functional.normalize(out, dim=1)

        return _Text()


def tokenize(phrases: list[str], vocab: dict[str, int], dev: str):  # type: ignore[no-untyped-def]
    import torch

    word_ids, flat, offsets, owner = [], [], [], []
    for p, phrase in enumerate(phrases):
        ws = text_words(phrase)[:24] or ["?"]
        for w in ws:
            word_ids.append(vocab.get(w, -1))
            offsets.append(len(flat))
            flat.extend(ngram_ids(w))
            owner.append(p)
    t = lambda a: torch.tensor(a, dtype=torch.long, device=dev)  # noqa: E731
    return t(word_ids), t(flat), t(offsets), t(owner), len(phrases)


def _device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def train(data: dict[str, object], epochs: int) -> tuple[object, object, dict[str, int]]:
    import torch

    torch.manual_seed(SEED)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    rng = random.Random(SEED)
    dev = _device()
    texts: dict[str, list[str]] = json.loads(str(data["texts"]))
    keys = [str(k) for k in data["keys"]]  # type: ignore[attr-defined]
    held = np.isin(data["source"], HELD_OUT)  # type: ignore[arg-type]
    train_idx = np.nonzero(~held)[0]
    # Crops of real applications' controls (few, and the closest to what the app sees) come APP_REPEATS
    # times an epoch; each time shifted differently.
    real = np.char.startswith(data["source"].astype(str), "app:")  # type: ignore[attr-defined]
    train_idx = np.concatenate([train_idx, *[np.nonzero(real & ~held)[0]] * (APP_REPEATS - 1)])
    counts: dict[str, int] = {}
    for ts in texts.values():
        for t in ts:
            for w in text_words(t):
                counts[w] = counts.get(w, 0) + 1
    vocab = {w: i for i, w in enumerate(sorted(w for w, n in counts.items() if n >= 2))}
    image = make_image_encoder().to(dev)
    text = TextModel(len(vocab)).to(dev)
    scale = torch.nn.Parameter(torch.tensor(math.log(10.0), device=dev))
    params = [*image.parameters(), *text.parameters(), scale]
    opt = torch.optim.AdamW(params, lr=2e-3, weight_decay=1e-4)
    batch = 384
    steps = epochs * (len(train_idx) // batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps + 10)
    x_all = torch.from_numpy(data["x"])  # type: ignore[arg-type]
    concept = data["concept"]
    step = 0
    for epoch in range(epochs):
        t0 = time.time()
        image.train()
        text.train()
        order = train_idx[np.random.default_rng(SEED + epoch).permutation(len(train_idx))]
        total, n = 0.0, 0
        pending = list(order)
        while len(pending) >= batch and step < steps:
            seen: set[int] = set()
            chosen, skipped, j = [], [], 0
            while j < len(pending) and len(chosen) < batch:
                i, j = pending[j], j + 1
                c = int(concept[i])  # type: ignore[index]
                if c in seen:
                    skipped.append(i)
                else:
                    seen.add(c)
                    chosen.append(i)
            pending = skipped + pending[j:]
            if len(chosen) < batch // 2:
                break
            phrases = []
            for i in chosen:
                key = keys[int(concept[i])]  # type: ignore[index]
                options = texts.get(key) or [key]
                t = key if rng.random() < 0.4 else rng.choice(options)
                if rng.random() < 0.35:
                    pre, post = rng.choice(FILLERS)
                    t = f"{pre}{t}{post}"
                phrases.append(t)
            xb = x_all[chosen][:, None].to(dev).float() / 255
            dx, dy = rng.randint(-2, 2), rng.randint(-2, 2)
            xb = torch.roll(xb, shifts=(dy, dx), dims=(2, 3))
            iv = torch.nn.functional.normalize(image(xb), dim=1)
            tv = text(*tokenize(phrases, vocab, dev))
            logits = scale.exp().clamp(max=100) * iv @ tv.T
            target = torch.arange(len(chosen), device=dev)
            loss = (torch.nn.functional.cross_entropy(logits, target)
                    + torch.nn.functional.cross_entropy(logits.T, target)) / 2
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            total += float(loss) * len(chosen)
            n += len(chosen)
        print(f"  epoch {epoch + 1}/{epochs}: loss {total / max(n, 1):.3f} ({time.time() - t0:.0f} s)", flush=True)
    image.eval()
    text.eval()
    return image.cpu(), text.cpu(), vocab


# ---------------------------------------------------------------- numpy side, measurement, calibration

def text_tables(text: object, vocab: dict[str, int]) -> dict[str, np.ndarray]:
    sd = {k: v.detach().numpy() for k, v in text.state_dict().items()}  # type: ignore[attr-defined]
    return {"vocab": np.array(sorted(vocab, key=vocab.get)), "word": sd["word.weight"].astype(np.float16),  # type: ignore[arg-type]
            "ngram": sd["ngram.weight"].astype(np.float16), "gate_w": sd["gate.weight"][0],
            "gate_b": sd["gate.bias"][0], "proj_w": sd["proj.weight"], "proj_b": sd["proj.bias"]}


def image_vectors(image: object, x: np.ndarray) -> np.ndarray:
    import torch

    with torch.no_grad():
        xs = torch.from_numpy(x[:, None]).float() / 255
        v = torch.cat([image(xs[i:i + 1024]) for i in range(0, len(xs), 1024)])  # type: ignore[operator]
        return torch.nn.functional.normalize(v, dim=1).numpy()


def screens(data: dict[str, object], ivec: np.ndarray, encode, source: str, trained_keys: set[str],  # type: ignore[no-untyped-def]
            rng: random.Random) -> list[tuple[float, float, bool, bool, bool]]:
    """(best cosine, lead, right, present, name known) for each question on made-up screens of one source."""
    idx = np.nonzero(data["source"] == source)[0]  # type: ignore[operator]
    keys = [str(k) for k in data["keys"]]  # type: ignore[attr-defined]
    first: dict[int, int] = {}
    for i in idx:
        first.setdefault(int(data["concept"][i]), int(i))  # type: ignore[index]
    concepts = sorted(first)
    rng.shuffle(concepts)
    out = []
    for s in range(0, len(concepts) - 2 * SCREEN + 1, 2 * SCREEN):
        shown, absent = concepts[s:s + SCREEN], concepts[s + SCREEN:s + SCREEN + SCREEN // 3]
        m = ivec[[first[c] for c in shown]]
        for c, present in [(c, True) for c in shown] + [(c, False) for c in absent]:
            t = encode(keys[c])
            if t is None:
                continue
            sims = m @ t
            order = np.argsort(-sims)
            best, lead = float(sims[order[0]]), float(sims[order[0]] - sims[order[1]])
            out.append((best, lead, present and shown[order[0]] == c, present, keys[c] in trained_keys))
    return out


def fit_calibration(rows: list[tuple[float, float, bool, bool, bool]]) -> dict[str, float]:
    """A provisional calibration on the held-out synthetic screens (calibrate.py replaces it with one
    fitted on real screens): the same fit."""
    from calibrate import fit

    return fit([r[:4] for r in rows])  # type: ignore[misc]


def report(rows: list[tuple[float, float, bool, bool, bool]], cal: dict[str, float]) -> dict[str, float]:
    p = np.array([1 / (1 + np.exp(-(cal["a"] * r[0] + cal["b"] * r[1] + cal["c"]))) for r in rows])
    right = np.array([r[2] for r in rows])
    present = np.array([r[3] for r in rows])
    known = np.array([r[4] for r in rows])
    clicked = p >= cal["threshold"]
    out = {"questions_present": int(present.sum()), "questions_absent": int((~present).sum()),
           "top1_present": float(right[present].mean()),
           "top1_present_known_names": float(right[present & known].mean()) if (present & known).any() else 0.0,
           "right_clicks_at_threshold": float((clicked & right)[present].mean()),
           "wrong_clicks_at_threshold": float((clicked & ~right)[present].mean()),
           "absent_abstained": float((~clicked)[~present].mean()) if (~present).any() else 0.0}
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in out.items()}


def export_image(image: object, path: Path) -> None:
    import torch

    torch.onnx.export(image, torch.zeros(1, 1, SIZE, SIZE), str(path), input_names=["icon"],
                      output_names=["vector"], dynamic_axes={"icon": {0: "n"}, "vector": {0: "n"}},
                      opset_version=17, dynamo=False)


def name_bank(data: dict[str, object]) -> list[str]:
    """Names to describe icons with: concepts drawn by at least three trained sources."""
    keys = [str(k) for k in data["keys"]]  # type: ignore[attr-defined]
    seen: dict[int, set[str]] = {}
    for c, s in zip(data["concept"], data["source"], strict=True):  # type: ignore[call-overload]
        if s not in HELD_OUT:
            seen.setdefault(int(c), set()).add(str(s))
    return sorted(keys[c] for c, ss in seen.items() if len(ss) >= 3)


def train_and_export(data: dict[str, object]) -> None:
    from desktop_agent.perception.icon_meaning import TextEncoder

    t0 = time.time()
    epochs = int(os.environ.get("ICON_EMBED_EPOCHS", "8"))
    print(f"training on {_device()} for {epochs} epochs, holding out {', '.join(HELD_OUT)}", flush=True)
    image, text, vocab = train(data, epochs)
    tables = text_tables(text, vocab)
    enc = TextEncoder(tables)
    ivec = image_vectors(image, data["x"])  # type: ignore[arg-type]
    keys = [str(k) for k in data["keys"]]  # type: ignore[attr-defined]
    trained_keys = {keys[int(c)] for c, s in zip(data["concept"], data["source"], strict=True)  # type: ignore[call-overload]
                    if s not in HELD_OUT}
    rng = random.Random(SEED)
    rows = {s: screens(data, ivec, enc.encode, s, trained_keys, rng) for s in HELD_OUT}
    # Calibrate on one held-out source, report on the others and on all.
    cal = fit_calibration(rows["elementary-xfce"])
    metrics: dict[str, object] = {s: report(r, cal) for s, r in rows.items()}
    metrics["all_held_out"] = report([r for rs in rows.values() for r in rs], cal)
    names = name_bank(data)
    tables["names"] = np.array(names)
    tables["name_vectors"] = np.stack([enc.encode(n) for n in names]).astype(np.float16)  # type: ignore[misc]
    export_image(image, HERE / "icon_encoder.onnx")
    np.savez_compressed(HERE / "icon_text.npz", **tables)  # type: ignore[arg-type]
    (HERE / "calibration.json").write_text(json.dumps(cal, indent=2) + "\n")
    metrics.update({"calibration": cal, "calibrated_on": "elementary-xfce screens",
                    "train_images": int((~np.isin(data["source"], HELD_OUT)).sum()),  # type: ignore[arg-type]
                    "concepts": len(keys), "vocabulary": len(vocab), "names_for_describe": len(names),
                    "epochs": epochs, "device": _device(), "train_minutes": round((time.time() - t0) / 60, 1)})
    (HERE / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    print(json.dumps(metrics, indent=2))


def main() -> int:
    """build.py [render OUT | train DATA] [--harvest DIR ...]"""
    random.seed(SEED)
    np.random.seed(SEED)
    args = sys.argv[1:]
    harvest = [Path(a) for a in args[args.index("--harvest") + 1:]] if "--harvest" in args else []
    args = args[:args.index("--harvest")] if "--harvest" in args else args
    if args[:1] == ["render"]:
        save(render_all(harvest), Path(args[1]))
    elif args[:1] == ["train"]:
        train_and_export(load(Path(args[1])))
    else:
        cache = HERE / "data" / "icon_pairs.npz"
        if cache.exists() and os.environ.get("ICON_EMBED_RENDER") != "1":
            data = load(cache)
        else:  # rendered anew (ICON_EMBED_RENDER=1 after a new harvest) and kept for the next run
            data = render_all(harvest)
            save(data, cache)
        train_and_export(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
