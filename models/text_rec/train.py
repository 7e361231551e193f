"""Train the CTC line recognizer on lines rendered on the fly (render.py), for a fixed wall time, and export it.

    python models/text_rec/train.py --minutes 45 --out /tmp/text_rec

Lines are prepared exactly as the runner prepares them (desktop_agent.perception.text_recognizer.prepare_line).
The learning rate follows a cosine over the wall-time budget, so a run ends on schedule on any machine.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import render  # noqa: E402


def _runner():  # type: ignore[no-untyped-def]
    """The runner module itself, loaded from its file (the package's __init__ needs the app's dependencies)."""
    import importlib.util

    path = HERE.parents[1] / "desktop_agent" / "perception" / "text_recognizer.py"
    spec = importlib.util.spec_from_file_location("text_recognizer", path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["text_recognizer"] = mod
    spec.loader.exec_module(mod)
    return mod


_rec = _runner()
HEIGHT, STRIDE = _rec.HEIGHT, _rec.STRIDE
batch_lines, greedy_decode, prepare_line = _rec.batch_lines, _rec.greedy_decode, _rec.prepare_line


def conv(cin: int, cout: int) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


class LineModel(nn.Module):
    """(N, 1, 32, W) ink -> (N, W/4, classes) probabilities; class 0 is the CTC blank. Plain 3x3 convolutions
    (faster than depthwise-separable ones on CPU at these sizes, in training and in onnxruntime)."""

    def __init__(self, classes: int, hidden: int = 96) -> None:
        super().__init__()
        self.convs = nn.Sequential(
            *conv(1, 16), nn.MaxPool2d(2, 2),  # 16 x W/2
            *conv(16, 48), nn.MaxPool2d(2, 2),  # 8 x W/4
            *conv(48, 80), nn.MaxPool2d((2, 1)),  # 4 x W/4
            *conv(80, 112), nn.MaxPool2d((2, 1)),  # 2 x W/4
            *conv(112, 128),
            nn.Conv2d(128, 192, (2, 1), bias=False), nn.BatchNorm2d(192), nn.ReLU(inplace=True),  # 1 x W/4
        )
        self.rnn = nn.LSTM(192, hidden, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * hidden, classes)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        f = self.convs(x).squeeze(2).transpose(1, 2)  # N, T, C
        return self.head(self.rnn(f)[0])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.logits(x), dim=-1)


class Lines(torch.utils.data.IterableDataset):  # type: ignore[type-arg]
    """Endless batches of prepared lines, sorted by width within a pool so that a batch is little padding."""

    def __init__(self, data: Path, batch: int, seed: int) -> None:
        self.data, self.batch, self.seed = data, batch, seed

    def __iter__(self):  # type: ignore[no-untyped-def]
        info = torch.utils.data.get_worker_info()
        seed = self.seed + (info.id if info else 0) * 1000003
        sampler = render.LineSampler(render.load_corpus(self.data), render.load_faces(), seed)
        index = {c: i + 1 for i, c in enumerate(render.CHARSET)}
        while True:
            pool = []
            while len(pool) < self.batch * 4:
                text, img = sampler.sample()
                x = prepare_line(img[:, :, ::-1])
                if x is None or x.shape[1] > 1600:
                    continue
                if len(text) * 1.0 > x.shape[1] / STRIDE:  # too narrow for CTC to fit the text
                    continue
                pool.append((x, [index[c] for c in text]))
            pool.sort(key=lambda t: t[0].shape[1])
            for k in range(0, len(pool), self.batch):
                chunk = pool[k:k + self.batch]
                x, steps = batch_lines([c[0] for c in chunk])
                targets = [t for c in chunk for t in c[1]]
                yield (torch.from_numpy(x), torch.tensor(steps), torch.tensor(targets),
                       torch.tensor([len(c[1]) for c in chunk]))


def validation_set(data: Path, n: int, seed: int = 999_999) -> list[tuple[str, np.ndarray]]:
    sampler = render.LineSampler(render.load_corpus(data), render.load_faces(), seed)
    out = []
    while len(out) < n:
        text, img = sampler.sample()
        x = prepare_line(img[:, :, ::-1])
        if x is not None and x.shape[1] <= 1600:
            out.append((text, x))
    return out


@torch.no_grad()
def evaluate(model: LineModel, val: list[tuple[str, np.ndarray]]
             ) -> tuple[dict[str, float], list[tuple[str, str, float]]]:
    model.eval()
    rows = []
    order = sorted(range(len(val)), key=lambda i: val[i][1].shape[1])
    for k in range(0, len(order), 64):
        idx = order[k:k + 64]
        x, steps = batch_lines([val[i][1] for i in idx])
        probs = model(torch.from_numpy(x)).numpy()
        for i, n, p in zip(idx, steps, probs, strict=True):
            text, conf = greedy_decode(p[:n], render.CHARSET)
            rows.append((val[i][0], text, conf))
    model.train()
    exact = sum(t == r for t, r, _ in rows) / len(rows)
    chars = sum(len(t) for t, _, _ in rows)
    cer = sum(_edit(t, r) for t, r, _ in rows) / max(1, chars)
    return {"exact": exact, "cer": cer}, rows


def _edit(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def export(model: LineModel, path: Path, meta: dict[str, str]) -> None:
    model.eval()
    x = torch.zeros(2, 1, HEIGHT, 160)
    torch.onnx.export(model, (x,), str(path), input_names=["line"], output_names=["probs"], opset_version=17,
                      dynamic_axes={"line": {0: "batch", 3: "width"}, "probs": {0: "batch", 1: "steps"}},
                      dynamo=False)
    set_meta(path, meta)


def set_meta(path: Path, meta: dict[str, str]) -> None:
    """Write `meta` into the ONNX file's metadata, replacing keys it already has."""
    import onnx

    m = onnx.load(str(path))
    keep = [p for p in m.metadata_props if p.key not in meta]
    del m.metadata_props[:]
    m.metadata_props.extend(keep)
    for k, v in meta.items():
        p = m.metadata_props.add()
        p.key, p.value = k, v
    onnx.save(m, str(path))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=45)
    ap.add_argument("--out", type=Path, default=Path("/tmp/text_rec"))
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2.5e-3)
    ap.add_argument("--val", type=int, default=1500)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    random.seed(0)
    args.out.mkdir(parents=True, exist_ok=True)
    render.load_corpus(args.out)
    val = validation_set(args.out, args.val)
    model = LineModel(len(render.CHARSET) + 1)
    print(f"params {sum(p.numel() for p in model.parameters()):,}", flush=True)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    ctc = nn.CTCLoss(blank=0, zero_infinity=True)
    loader = torch.utils.data.DataLoader(Lines(args.out, args.batch, 1), batch_size=None, num_workers=1,
                                         prefetch_factor=8)
    budget = args.minutes * 60
    t0 = time.time()
    step, seen, avg = 0, 0, 0.0
    log = []
    next_eval = t0 + 600
    for x, steps, targets, lengths in loader:
        frac = (time.time() - t0) / budget
        if frac >= 1:
            break
        lr = args.lr * min(1.0, (step + 1) / 300) * 0.5 * (1 + math.cos(math.pi * frac))
        for g in opt.param_groups:
            g["lr"] = lr
        logp = torch.log_softmax(model.logits(x), dim=-1).transpose(0, 1)
        loss = ctc(logp, targets, steps, lengths)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        step += 1
        seen += x.shape[0]
        avg = 0.98 * avg + 0.02 * loss.item() if step > 1 else loss.item()
        if step % 25 == 0:
            print(f"{time.time() - t0:7.0f}s step {step} lines {seen} loss {avg:.3f} lr {lr:.5f}", flush=True)
        if time.time() > next_eval:
            m, _ = evaluate(model, val[:500])
            print(f"eval {m}", flush=True)
            log.append({"t": round(time.time() - t0), "step": step, **m})
            torch.save(model.state_dict(), args.out / "model.pt")
            next_eval = time.time() + 600
    train_s = time.time() - t0
    torch.save(model.state_dict(), args.out / "model.pt")
    metrics, rows = evaluate(model, val)
    print(f"final {metrics}", flush=True)
    (args.out / "val_rows.json").write_text(json.dumps(rows, ensure_ascii=False))
    (args.out / "train_log.json").write_text(json.dumps({
        "train_seconds": round(train_s), "steps": step, "lines_seen": seen, "batch": args.batch,
        "threads": args.threads, "val": metrics, "evals": log}, indent=1))
    export(model, args.out / "text_rec.onnx", {"charset": render.CHARSET, "height": str(HEIGHT)})


if __name__ == "__main__":
    main()
