"""Rebuild the icon recognizer: render the icon sets, train, export to ONNX, evaluate.

    models/icons/build.sh            (sets up a training venv and runs this)

    python build.py render data/icons.npz   (render only; the archive is what a GPU machine needs)
    python build.py train data/icons.npz    (train, export and evaluate from the archive; CUDA if present)

Steps: (1) render every class's icons from the ten sets (several styles of some) at many sizes, stroke
widths, colours and margins, through the same preprocessing the app uses; (2) train a small CNN on every
set but bootstrap-icons and test on bootstrap-icons, a set it never saw (style generalisation); (3) train
the shipped model on all; (4) export icon_recognizer.onnx + icon_classes.json and write metrics.json.
"""

from __future__ import annotations

import json
import os
import random
import re
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from sources import ALIASES, MAX_PER_STYLE, SET_DIRS, SOURCES, STYLE_DIRS, stems_for  # noqa: E402

from desktop_agent.perception.icon_vocab import CLASSES, OTHER  # noqa: E402
from desktop_agent.perception.icons import SIZE, preprocess_icon  # noqa: E402

SEED = 7
VARIANTS = 36  # renders per source icon of the first four sets
STYLE_VARIANTS = 14  # renders per source icon of each added style (the styles are the variety there)
OTHER_ICONS = 175  # unrelated icons drawn from each of the first four sets for the "other" class
STYLE_OTHER_ICONS = 90  # and from each added style


def render_svg(svg: str, size: int, fg: tuple[int, int, int], bg: tuple[int, int, int], margin: int,
               stroke: float | None) -> np.ndarray:
    from PySide6.QtCore import QByteArray, QRectF
    from PySide6.QtGui import QColor, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    color = "#{:02x}{:02x}{:02x}".format(*fg)
    text = svg.replace("currentColor", color)
    if stroke is not None:
        text = re.sub(r'stroke-width="[\d.]+"', f'stroke-width="{stroke}"', text)
    tag = re.search(r"<svg\b[^>]*>", text)
    if tag and 'fill="' not in tag.group(0):  # a set that fills with the inherited colour
        text = text.replace("<svg", f'<svg fill="{color}"', 1)
    renderer = QSvgRenderer(QByteArray(text.encode()))
    side = size + 2 * margin
    img = QImage(side, side, QImage.Format.Format_RGB888)
    img.fill(QColor(*bg))
    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(p, QRectF(margin, margin, size, size))
    p.end()
    ptr = img.constBits()
    arr = np.frombuffer(ptr, np.uint8, count=img.sizeInBytes()).reshape(side, img.bytesPerLine())
    return arr[:, : side * 3].reshape(side, side, 3)[:, :, ::-1].copy()  # RGB -> BGR


def variants(svg: str, rng: random.Random, n: int) -> list[np.ndarray]:
    import cv2

    out = []
    for _ in range(n):
        size = rng.choice([12, 14, 16, 16, 18, 20, 20, 24, 24, 28, 32])
        dark_theme = rng.random() < 0.3
        bg_v = rng.randint(10, 60) if dark_theme else rng.randint(200, 255)
        fg_v = rng.randint(190, 255) if dark_theme else rng.randint(0, 90)
        tint = [rng.randint(-25, 25) for _ in range(3)]
        bg = tuple(int(np.clip(bg_v + t, 0, 255)) for t in tint)
        fg = tuple(int(np.clip(fg_v + rng.randint(-40, 40), 0, 255)) for _ in range(3))
        stroke = rng.choice([1.25, 1.5, 1.75, 2, 2, 2.25, 2.5]) if "stroke-width" in svg else None
        img = render_svg(svg, size, fg, bg, rng.randint(1, 6), stroke)  # type: ignore[arg-type]
        if rng.random() < 0.3:
            img = cv2.GaussianBlur(img, (3, 3), rng.uniform(0.3, 0.8))
        if rng.random() < 0.3:
            _, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, rng.randint(60, 95)])
            img = cv2.imdecode(buf, cv2.IMREAD_COLOR)
        x = preprocess_icon(img)
        if x is not None:
            out.append(x)
    return out


def _unrelated(stem: str) -> bool:
    """Whether an icon's file name shares nothing with any class's names (so it may stand for `other`)."""
    name = stem.replace("_", "-")
    for suffix in ("-16", "-24", "-bold", "-fill"):
        name = name.removesuffix(suffix)
    for names in ALIASES.values():
        for alias in names:
            if name == alias or (len(alias) >= 4 and alias in name):
                return False
    return True


def _sources(root: Path) -> list[tuple[str, str, int, Path]]:
    """(set, class, renders, file) for every icon file used. The first four sets take their classes'
    files from SOURCES where it names them; every set takes the rest by name (ALIASES)."""
    groups = [(name, folder, "plain", VARIANTS, OTHER_ICONS) for name, folder in SET_DIRS.items()]
    groups += [(name, folder, naming, STYLE_VARIANTS, STYLE_OTHER_ICONS)
               for name, (folder, naming) in STYLE_DIRS.items()]
    out: list[tuple[str, str, int, Path]] = []
    for set_name, folder, naming, renders, others in groups:
        used: set[str] = set()
        for cls in CLASSES:
            if cls == OTHER:
                continue
            named = SOURCES.get(cls, {}).get(set_name)
            stems = named or [s for n in ALIASES.get(cls, []) for s in stems_for(n, naming)]
            found = [s for s in dict.fromkeys(stems) if (root / folder / f"{s}.svg").exists()][:MAX_PER_STYLE]
            used.update(found)
            out += [(set_name, cls, renders, root / folder / f"{s}.svg") for s in found]
        pool = sorted(p for p in (root / folder).glob("*.svg") if p.stem not in used and _unrelated(p.stem))
        out += [(set_name, OTHER, 4, p) for p in random.Random(f"{SEED}{set_name}").sample(
            pool, min(others, len(pool)))]
    return out


def build_dataset(node_modules_root: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per icon set (or added style): (images [N, SIZE, SIZE] uint8, labels [N])."""
    from PySide6.QtGui import QGuiApplication

    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    rng = random.Random(SEED)
    index = {c: i for i, c in enumerate(CLASSES)}
    data: dict[str, tuple[list[np.ndarray], list[int]]] = {}
    for set_name, cls, n, path in _sources(node_modules_root):
        xs = variants(path.read_text(), rng, n)
        xs_, ys_ = data.setdefault(set_name, ([], []))
        xs_.extend(np.round(x * 255).astype(np.uint8) for x in xs)
        ys_.extend([index[cls]] * len(xs))
    return {s: (np.stack(x), np.array(y, np.int64)) for s, (x, y) in data.items()}


def save_dataset(data: dict[str, tuple[np.ndarray, np.ndarray]], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {f"{k}:{s}": v for s, (x, y) in data.items() for k, v in (("x", x), ("y", y))}
    np.savez_compressed(path, **arrays)  # type: ignore[arg-type]


def load_dataset(path: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    with np.load(path) as z:
        sets = sorted({k.split(":", 1)[1] for k in z.files})
        return {s: (z[f"x:{s}"], z[f"y:{s}"]) for s in sets}


WIDTH = int(os.environ.get("ICON_WIDTH", "48"))  # channels of the first block; 32 was the first model


def make_model(width: int = WIDTH):  # type: ignore[no-untyped-def]
    import torch.nn as nn

    def block(cin: int, cout: int) -> nn.Sequential:
        return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
                             nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())

    w1, w2, w3 = width, 2 * width, 4 * width
    return nn.Sequential(block(1, w1), nn.MaxPool2d(2), block(w1, w2), nn.MaxPool2d(2), block(w2, w3),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.3), nn.Linear(w3 * 4 * 4, 256), nn.ReLU(),
                         nn.Dropout(0.3), nn.Linear(256, len(CLASSES)))


def _device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def train(x: np.ndarray, y: np.ndarray, epochs: int, width: int = WIDTH) -> object:
    """x: uint8 [N, SIZE, SIZE] (preprocessed icons x 255), y: class indices."""
    import torch

    torch.manual_seed(SEED)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    dev = _device()
    model = make_model(width).to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    batch = 128
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=epochs * ((len(x) + batch - 1) // batch))
    xt, yt = torch.from_numpy(x[:, None]).to(dev), torch.from_numpy(y).to(dev)
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=0.05)
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(len(xt), device=dev)
        total = torch.zeros((), device=dev)
        for i in range(0, len(xt), batch):
            idx = perm[i:i + batch]
            xb = xt[idx].float() / 255
            # Shift by up to 2 px: detector boxes are never perfectly centred.
            dx, dy = random.randint(-2, 2), random.randint(-2, 2)
            xb = torch.roll(xb, shifts=(dy, dx), dims=(2, 3))
            opt.zero_grad()
            loss = loss_fn(model(xb), yt[idx])
            loss.backward()
            opt.step()
            sched.step()
            total += loss.detach() * len(idx)
        print(f"  epoch {epoch + 1}/{epochs}: loss {float(total) / len(xt):.3f}", flush=True)
    model.eval()
    return model.cpu()


def accuracy(model: object, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    import torch

    with torch.no_grad():
        xs = torch.from_numpy(x[:, None]).float() / 255
        pred = torch.cat([model(xs[i:i + 1024]).argmax(1) for i in range(0, len(xs), 1024)]).numpy()  # type: ignore[operator]
    other = CLASSES.index(OTHER)
    named = y != other
    return {"all": float((pred == y).mean()), "named_classes": float((pred[named] == y[named]).mean()),
            "other": float((pred[~named] == y[~named]).mean()) if (~named).any() else float("nan"),
            "n": len(y)}


def export(model: object, path: Path) -> None:
    import torch

    dummy = torch.zeros(1, 1, SIZE, SIZE)
    torch.onnx.export(model, dummy, str(path), input_names=["icon"], output_names=["logits"],
                      dynamic_axes={"icon": {0: "n"}, "logits": {0: "n"}}, opset_version=17, dynamo=False)


def render(out: Path | None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    t0 = time.time()
    print("rendering icon sets ...", flush=True)
    data = build_dataset(HERE)
    for s, (x, _) in data.items():
        print(f"  {s}: {len(x)} images", flush=True)
    print(f"  {sum(len(x) for x, _ in data.values())} images in {time.time() - t0:.0f} s", flush=True)
    if out is not None:
        save_dataset(data, out)
    return data


def train_and_export(data: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    t0 = time.time()
    epochs = int(os.environ.get("ICON_EPOCHS", "14"))
    print(f"held-out check on {_device()}: train on the other sets, test on bootstrap-icons", flush=True)
    xa = np.concatenate([d[0] for s, d in data.items() if s != "bootstrap"])
    ya = np.concatenate([d[1] for s, d in data.items() if s != "bootstrap"])
    held = accuracy(train(xa, ya, epochs), *data["bootstrap"])
    print(f"  bootstrap-icons (unseen set): {held}", flush=True)
    print("final model: all sets", flush=True)
    xall = np.concatenate([d[0] for d in data.values()])
    yall = np.concatenate([d[1] for d in data.values()])
    final = train(xall, yall, epochs)
    export(final, HERE / "icon_recognizer.onnx")
    (HERE / "icon_classes.json").write_text(json.dumps(list(CLASSES)))
    metrics = {"held_out_set_bootstrap": held, "train_images": len(xall), "classes": len(CLASSES),
               "sets": len(data), "epochs": epochs, "width": WIDTH, "device": _device(),
               "train_minutes": round((time.time() - t0) / 60, 1)}
    (HERE / "metrics.json").write_text(json.dumps(metrics, indent=2))
    print(json.dumps(metrics, indent=2))


def main() -> int:
    random.seed(SEED)
    np.random.seed(SEED)
    args = sys.argv[1:]
    if args[:1] == ["render"]:
        render(Path(args[1]))
    elif args[:1] == ["train"]:
        train_and_export(load_dataset(Path(args[1])))
    else:
        train_and_export(render(None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
