"""After training: read the synthetic validation set with the exported ONNX through the runner itself, choose the
confidence threshold there, try int8 quantization, and write text_rec.onnx (charset and threshold in its
metadata) and metrics.json into models/text_rec.

    python models/text_rec/finish.py --run /tmp/text_rec --out models/text_rec

The threshold is the lowest at which the lines kept (confidence at or above it) are read exactly at least
KEPT_TARGET of the time on the synthetic validation lines; real screens never choose it.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import numpy as np
import render
import train

KEPT_TARGET = 0.92
# Letters that look the same in Latin, Greek and Cyrillic (and a few marks): no pixel tells them apart out of
# context, so the figures also count a reading right when it differs from the truth only by these.
_FOLD = str.maketrans("АВЕКМНОРСТХаеорсухІіЈјЅѕΑΒΕΖΗΙΚΜΝΟΡΤΥΧονκ’‘–", "ABEKMHOPCTXaeopcyxIiJjSsABEZHIKMNOPTYXovk''-")
GRID = [round(0.05 * k, 2) for k in range(1, 20)] + [0.97, 0.98, 0.99]


def read_all(path: Path, val: list[tuple[str, np.ndarray]]) -> tuple[list[tuple[str, str, float]], float]:
    rec = train._rec.TextRecognizer(path, threads=2)
    # The runner takes crops; a prepared line is its own crop once turned back into pixels (dark on light).
    crops = [np.repeat((255 - x * 255).clip(0, 255).astype(np.uint8)[:, :, None], 3, axis=2) for _, x in val]
    t0 = time.perf_counter()
    out = rec.recognize(crops)
    ms = (time.perf_counter() - t0) * 1000 / len(val)
    return [(t, r, c) for (t, _), (r, c) in zip(val, out, strict=True)], ms


def choose_threshold(rows: list[tuple[str, str, float]]) -> tuple[float, dict[str, float]]:
    for t in GRID:
        kept = [r for r in rows if r[2] >= t and r[1]]
        if kept and sum(a == b for a, b, _ in kept) / len(kept) >= KEPT_TARGET:
            break
    kept = [r for r in rows if r[2] >= t and r[1]]
    return t, {"threshold": t, "kept": round(len(kept) / len(rows), 4),
               "kept_exact": round(sum(a == b for a, b, _ in kept) / max(1, len(kept)), 4)}


def summary(rows: list[tuple[str, str, float]]) -> dict[str, float]:
    chars = sum(len(t) for t, _, _ in rows)
    return {"lines": len(rows), "exact": round(sum(t == r for t, r, _ in rows) / len(rows), 4),
            "exact_up_to_lookalikes": round(sum(t.translate(_FOLD) == r.translate(_FOLD) for t, r, _ in rows)
                                            / len(rows), 4),
            "cer": round(sum(train._edit(t, r) for t, r, _ in rows) / max(1, chars), 4)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", type=Path, default=Path("/tmp/text_rec"))
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    ap.add_argument("--val", type=int, default=1500)
    args = ap.parse_args()
    val = train.validation_set(args.run, args.val)
    fp32 = args.run / "text_rec.onnx"
    rows, ms = read_all(fp32, val)
    report: dict[str, object] = {"fp32": {**summary(rows), "ms_per_line": round(ms, 2),
                                          "bytes": fp32.stat().st_size}}
    chosen, rows_chosen = fp32, rows
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        q = args.run / "text_rec.int8.onnx"
        quantize_dynamic(str(fp32), str(q), weight_type=QuantType.QInt8,
                         op_types_to_quantize=["MatMul", "LSTM", "Gemm"])
        qrows, qms = read_all(q, val)
        report["int8_dynamic"] = {**summary(qrows), "ms_per_line": round(qms, 2), "bytes": q.stat().st_size}
        # Kept only if it reads as well (within half a point) and is faster.
        if summary(qrows)["exact"] >= summary(rows)["exact"] - 0.005 and qms < ms:
            chosen, rows_chosen = q, qrows
    except Exception as e:  # quantization is an option, not a requirement
        report["int8_dynamic"] = {"error": f"{type(e).__name__}: {e}"}
    threshold, at = choose_threshold(rows_chosen)
    report["shipped"] = "int8_dynamic" if chosen != fp32 else "fp32"
    report["threshold_on_synthetic_val"] = at
    target = args.out / "text_rec.onnx"
    shutil.copyfile(chosen, target)
    train.set_meta(target, {"charset": render.CHARSET, "height": str(train.HEIGHT), "threshold": f"{threshold:g}"})
    (args.out / "charset.txt").write_text(render.CHARSET, encoding="utf-8")
    log = json.loads((args.run / "train_log.json").read_text())
    metrics = {"synthetic_validation": report, "training": log, "model_bytes": target.stat().st_size}
    old = args.out / "metrics.json"
    if old.exists():  # the screens' figures (bench/text_rec.py) are kept
        metrics = {**json.loads(old.read_text()), **metrics}
    old.write_text(json.dumps(metrics, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
