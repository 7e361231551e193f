"""ONNX Runtime sessions for the perception models, made one way: on the CPU, a bounded thread pool, and no
memory arena. An arena keeps the largest run's buffers for the life of the session: after one large screen
an idle app would hold them all day. Without it a run's buffers are freed when it ends, and
`heap.release_freed_memory` hands them back to the system after each parse."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def cpu_session(path: Path, threads: int) -> Any:
    """An inference session for the model at `path` on `threads` intra-op threads."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = max(1, threads)
    opts.inter_op_num_threads = 1
    opts.enable_cpu_mem_arena = False
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
