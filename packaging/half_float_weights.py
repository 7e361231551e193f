"""Store an ONNX model's large float weights as 16-bit floats, computed with as before: half the file.

    python packaging/half_float_weights.py dist/desktop-agent/_internal/rapidocr/models/*.onnx

PP-OCR's detector and recognizer (about 31 MB of the bundle) are almost all 32-bit weights. Each weight
tensor of at least MIN_ELEMENTS values becomes a 16-bit initializer and a Cast node back to 32 bits under
the original name. ONNX Runtime folds such constant casts when it makes the session (its default graph
optimisation), so the model runs in 32 bits as before, on weights rounded to 16-bit precision (about three
significant digits; tests/packaging/test_half_float_weights.py checks that the OCR reads a real screen the
same). Small tensors (biases, normalisation statistics) and any tensor with a value outside the 16-bit range
stay as they are. Needs the `onnx` package (the bundle extra); each file given is replaced.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

MIN_ELEMENTS = 1024
HALF_SUFFIX = "__half"


def halve(model: onnx.ModelProto) -> int:
    """Turn `model`'s large float initializers into half ones with a Cast back; how many were turned."""
    graph = model.graph
    inputs = {i.name for i in graph.input}  # an initializer that is also an input can be fed: left alone
    casts = []
    kept = []
    for init in graph.initializer:
        if init.data_type != TensorProto.FLOAT or init.name.endswith(HALF_SUFFIX) or init.name in inputs:
            kept.append(init)
            continue
        values = numpy_helper.to_array(init)
        if values.size < MIN_ELEMENTS or not np.isfinite(values).all() or np.abs(values).max() > 60000.0:
            kept.append(init)
            continue
        half_name = init.name + HALF_SUFFIX
        kept.append(numpy_helper.from_array(values.astype(np.float16), half_name))
        casts.append(helper.make_node("Cast", [half_name], [init.name], to=TensorProto.FLOAT,
                                      name=init.name + "_to_float"))
    del graph.initializer[:]
    graph.initializer.extend(kept)
    nodes = casts + list(graph.node)  # the casts come first: every node after may read their outputs
    del graph.node[:]
    graph.node.extend(nodes)
    return len(casts)


def convert(path: Path) -> tuple[int, int]:
    """Replace the model at `path` with its half-weight form; (bytes before, bytes after)."""
    before = path.stat().st_size
    model = onnx.load(str(path))
    halve(model)
    onnx.checker.check_model(model)
    tmp = path.with_name(path.name + ".tmp")
    onnx.save(model, str(tmp))
    tmp.replace(path)
    return before, path.stat().st_size


def main(argv: list[str]) -> int:
    """Convert each model named on the command line."""
    if not argv:
        print("usage: half_float_weights.py MODEL.onnx ...", file=sys.stderr)
        return 2
    for name in argv:
        before, after = convert(Path(name))
        print(f"half_float_weights: {Path(name).name} {before / 1e6:.1f} -> {after / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
