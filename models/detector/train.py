"""Train the UI-element detector on the rendered screens and export it to ONNX.

    python train.py DATA_DIR --minutes M --out ui_detector.onnx [--test TEST_DIR --metrics metrics.json]

The model is a small anchor-free, centre-point detector (the CenterNet idea: a heat map per class at a
quarter of the input resolution, plus each object's size and sub-cell offset there), fully convolutional,
so the app runs it on the whole screen at its native resolution and a 16 px icon stays 16 px. Heat-map
targets are elliptical Gaussians (a width by a height sixth of the box), which suits long thin
controls (fields, scrollbars, sliders). Our own code; PyTorch on the CPU.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from pages import CLASSES
from torch import nn

STRIDE = 4
CROP = 320
SEED = 11
torch.set_num_threads(max(1, torch.get_num_threads()))


def conv_bn(cin: int, cout: int, k: int = 3, s: int = 1, groups: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, k, s, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True))


class SepBlock(nn.Module):
    """Depthwise 3x3 then pointwise, with a residual when the shape allows."""

    def __init__(self, cin: int, cout: int, s: int = 1) -> None:
        super().__init__()
        self.dw = conv_bn(cin, cin, 3, s, groups=cin)
        self.pw = conv_bn(cin, cout, 1)
        self.res = s == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.pw(self.dw(x))
        return x + y if self.res else y


class Detector(nn.Module):
    def __init__(self, n_classes: int = len(CLASSES)) -> None:
        super().__init__()
        self.stem = nn.Sequential(conv_bn(3, 16, 3, 2), conv_bn(16, 32, 3, 2))             # 1/4
        self.c4 = nn.Sequential(SepBlock(32, 32), SepBlock(32, 32))
        self.c8 = nn.Sequential(SepBlock(32, 64, 2), SepBlock(64, 64), SepBlock(64, 64))     # 1/8
        self.c16 = nn.Sequential(SepBlock(64, 96, 2), SepBlock(96, 96), SepBlock(96, 96))    # 1/16
        self.c32 = nn.Sequential(SepBlock(96, 128, 2), SepBlock(128, 128), SepBlock(128, 128))  # 1/32
        self.l16, self.l8, self.l4 = conv_bn(96, 64, 1), conv_bn(64, 64, 1), conv_bn(32, 64, 1)
        self.t32 = conv_bn(128, 64, 1)
        self.f16, self.f8, self.f4 = SepBlock(64, 64), SepBlock(64, 64), SepBlock(64, 48)
        self.head = SepBlock(48, 48)
        self.heat = nn.Conv2d(48, n_classes, 1)
        self.box = nn.Conv2d(48, 4, 1)  # log width, log height (in output cells), x and y offset
        nn.init.constant_(self.heat.bias, -4.0)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x4 = self.c4(self.stem(x))
        x8 = self.c8(x4)
        x16 = self.c16(x8)
        x32 = self.c32(x16)
        up = F.interpolate(self.t32(x32), size=x16.shape[-2:], mode="nearest")
        y16 = self.f16(self.l16(x16) + up)
        y8 = self.f8(self.l8(x8) + F.interpolate(y16, size=x8.shape[-2:], mode="nearest"))
        y4 = self.f4(self.l4(x4) + F.interpolate(y8, size=x4.shape[-2:], mode="nearest"))
        h = self.head(y4)
        return self.heat(h), self.box(h)


class Exported(nn.Module):
    """What the ONNX file holds: BGR uint8-range input in, probabilities, peaks and boxes' sizes out."""

    def __init__(self, det: Detector) -> None:
        super().__init__()
        self.det = det

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        heat, box = self.det(image / 255.0 - 0.5)
        prob = torch.sigmoid(heat)
        peak = F.max_pool2d(prob, 3, 1, 1)
        return prob, peak, box


# -- data ----------------------------------------------------------------------------------------------

def load_dir(d: Path) -> list[tuple[np.ndarray, np.ndarray]]:
    out = []
    for js in sorted(d.glob("*.json")):
        img = cv2.imread(str(js.with_suffix(".png")), cv2.IMREAD_COLOR)
        if img is None:
            continue
        rows = json.loads(js.read_text())["boxes"]
        boxes = np.array([[CLASSES.index(k), *b] for k, *b in rows], np.float32).reshape(-1, 5)
        out.append((img, boxes))
    return out


def augment(img: np.ndarray, rng: random.Random) -> np.ndarray:
    if rng.random() < 0.5:
        img = img[:, :, rng.choice([[0, 1, 2], [2, 1, 0], [1, 0, 2], [0, 2, 1]])]
    if rng.random() < 0.15:
        g = cv2.cvtColor(np.ascontiguousarray(img), cv2.COLOR_BGR2GRAY)
        img = cv2.cvtColor(g, cv2.COLOR_GRAY2BGR)
    if rng.random() < 0.1:
        img = 255 - img
    if rng.random() < 0.3:
        a, b = rng.uniform(0.8, 1.2), rng.uniform(-20, 20)
        img = np.clip(img.astype(np.float32) * a + b, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(img)


def crop_sample(img: np.ndarray, boxes: np.ndarray, rng: random.Random) -> tuple[np.ndarray, np.ndarray]:
    h, w = img.shape[:2]
    if len(boxes) and rng.random() < 0.8:
        b = boxes[rng.randrange(len(boxes))]
        cx, cy = (b[1] + b[3]) / 2, (b[2] + b[4]) / 2
        x0 = int(cx - rng.uniform(0.1, 0.9) * CROP)
        y0 = int(cy - rng.uniform(0.1, 0.9) * CROP)
    else:
        x0, y0 = rng.randint(0, max(0, w - CROP)), rng.randint(0, max(0, h - CROP))
    x0 = min(max(0, x0), max(0, w - CROP))
    y0 = min(max(0, y0), max(0, h - CROP))
    patch = np.zeros((CROP, CROP, 3), np.uint8)
    part = img[y0:y0 + CROP, x0:x0 + CROP]
    patch[:part.shape[0], :part.shape[1]] = part
    bx = boxes.copy()
    bx[:, [1, 3]] -= x0
    bx[:, [2, 4]] -= y0
    # Keep objects mostly inside the crop (a cut object is trained as what remains only when most remains).
    cw = np.clip(bx[:, 3], 0, CROP) - np.clip(bx[:, 1], 0, CROP)
    ch = np.clip(bx[:, 4], 0, CROP) - np.clip(bx[:, 2], 0, CROP)
    area = (bx[:, 3] - bx[:, 1]) * (bx[:, 4] - bx[:, 2])
    keep = (cw > 0) & (ch > 0) & (cw * ch >= 0.6 * area)
    bx = bx[keep]
    bx[:, 1:] = np.clip(bx[:, 1:], 0, CROP)
    return augment(patch, rng), bx


def targets(boxes: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Heat maps [C, s, s], box targets [4, s, s] and a mask [s, s] of the cells that carry a box."""
    heat = np.zeros((len(CLASSES), size, size), np.float32)
    reg = np.zeros((4, size, size), np.float32)
    mask = np.zeros((size, size), np.float32)
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
    # Larger boxes first so that a small box inside a large one owns its centre cell.
    for c, x1, y1, x2, y2 in sorted(boxes.tolist(), key=lambda b: -(b[3] - b[1]) * (b[4] - b[2])):
        bw, bh = (x2 - x1) / STRIDE, (y2 - y1) / STRIDE
        cx, cy = (x1 + x2) / 2 / STRIDE, (y1 + y2) / 2 / STRIDE
        ix, iy = min(int(cx), size - 1), min(int(cy), size - 1)
        sx, sy = max(bw / 6, 0.5), max(bh / 6, 0.5)
        g = np.exp(-((xs - ix) ** 2 / (2 * sx * sx) + (ys - iy) ** 2 / (2 * sy * sy)))
        heat[int(c)] = np.maximum(heat[int(c)], g)
        reg[:, iy, ix] = (math.log(max(bw, 0.25)), math.log(max(bh, 0.25)), cx - ix, cy - iy)
        mask[iy, ix] = 1.0
    return heat, reg, mask


def batch(data: list[tuple[np.ndarray, np.ndarray]], n: int, rng: random.Random
          ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    xs, hs, rs, ms = [], [], [], []
    for _ in range(n):
        img, boxes = data[rng.randrange(len(data))]
        patch, bx = crop_sample(img, boxes, rng)
        h, r, m = targets(bx, CROP // STRIDE)
        xs.append(patch.transpose(2, 0, 1))
        hs.append(h)
        rs.append(r)
        ms.append(m)
    x = torch.from_numpy(np.stack(xs)).float() / 255.0 - 0.5
    return x, torch.from_numpy(np.stack(hs)), torch.from_numpy(np.stack(rs)), torch.from_numpy(np.stack(ms))


def focal_loss(logits: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
    p = torch.sigmoid(logits).clamp(1e-4, 1 - 1e-4)
    pos = gt.eq(1).float()
    neg = 1 - pos
    pos_loss = torch.log(p) * (1 - p) ** 2 * pos
    neg_loss = torch.log(1 - p) * p ** 2 * (1 - gt) ** 4 * neg
    n = pos.sum().clamp(min=1)
    return -(pos_loss.sum() + neg_loss.sum()) / n


def train(data: list[tuple[np.ndarray, np.ndarray]], minutes: float, batch_size: int = 12,
          checkpoint: Path | None = None, init: Path | None = None, lr: float = 2e-3) -> Detector:
    rng = random.Random(SEED)
    torch.manual_seed(SEED)
    model = Detector()
    if init is not None:  # go on from a saved state (new data, shorter schedule)
        model.load_state_dict(torch.load(init))
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    deadline = time.monotonic() + minutes * 60
    start = time.monotonic()
    step = 0
    while True:
        frac = (time.monotonic() - start) / (minutes * 60)
        if frac >= 1:
            break
        for g in opt.param_groups:
            g["lr"] = lr * (min(1.0, step / 200) * 0.5 * (1 + math.cos(math.pi * min(frac, 1.0))) + 0.02)
        x, heat, reg, mask = batch(data, batch_size, rng)
        ph, pr = model(x)
        m = mask.unsqueeze(1)
        l_heat = focal_loss(ph, heat)
        l_box = (F.l1_loss(pr * m, reg * m, reduction="sum") / m.sum().clamp(min=1))
        loss = l_heat + l_box
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 50 == 0:
            print(f"step {step} {frac:5.1%} loss {loss.item():.3f} heat {l_heat.item():.3f} box {l_box.item():.3f}",
                  flush=True)
        step += 1
        if checkpoint is not None and step % 500 == 0:
            torch.save(model.state_dict(), checkpoint)
        if time.monotonic() > deadline:
            break
    print(f"trained {step} steps of {batch_size} crops")
    return model.eval()


def export(model: Detector, path: Path) -> None:
    wrapped = Exported(model).eval()
    dummy = torch.zeros(1, 3, 256, 320)
    torch.onnx.export(wrapped, (dummy,), str(path), input_names=["image"], output_names=["prob", "peak", "box"],
                      dynamic_axes={"image": {2: "h", 3: "w"}, "prob": {2: "gh", 3: "gw"},
                                    "peak": {2: "gh", 3: "gw"}, "box": {2: "gh", 3: "gw"}},
                      opset_version=17, dynamo=False)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("data", type=Path, nargs="+", help="folders of screens (render.py, qt_screens.py)")
    ap.add_argument("--minutes", type=float, default=40)
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name("ui_detector.onnx"))
    ap.add_argument("--init", type=Path, help="start from this saved state instead of from scratch")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--from-checkpoint", type=Path, help="export this saved state instead of training")
    a = ap.parse_args()
    if a.from_checkpoint:
        model = Detector()
        model.load_state_dict(torch.load(a.from_checkpoint))
        export(model.eval(), a.out)
        return 0
    data = [screen for d in a.data for screen in load_dir(d)]
    print(f"{len(data)} screens, {sum(len(b) for _, b in data)} boxes")
    model = train(data, a.minutes, checkpoint=a.out.with_suffix(".pt"), init=a.init, lr=a.lr)
    export(model, a.out)
    print(f"wrote {a.out} ({a.out.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
