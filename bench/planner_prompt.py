"""Model-planner prompt size and latency: tokens per step at step 5 and step 50 of a task.

    .venv/bin/python bench/planner_prompt.py [--dev-set ../shared/datasets/grounding-dev] [--repeat 3]

The screen is a real 1920x1080 screenshot from grounding-dev, parsed by our pipeline (measuring only).
The history is that many earlier steps. Each prompt goes to the real local model (Gemma 3 270M through
llama-cpp-python, text only, grammar-constrained), which reports its prompt tokens, and the time it took.
Screenshots are not sent to a text-only model; for vision models the bench prints how many go per step
(at most K) and their size, with the providers' published image-token formulas as estimates.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from desktop_agent.capture.frame import frame_from_file  # noqa: E402
from desktop_agent.perception.parser import ScreenParser  # noqa: E402
from desktop_agent.planning.actions import Click, Scroll, Target  # noqa: E402
from desktop_agent.planning.backends.scripted import ScriptedBackend  # noqa: E402
from desktop_agent.planning.model_planner import ModelPlanner  # noqa: E402
from desktop_agent.planning.planner import HistoryEntry, PlanContext, ScreenView  # noqa: E402
from desktop_agent.planning.prompt import PromptSettings  # noqa: E402


def history(n: int) -> list[HistoryEntry]:
    out = []
    for i in range(n):
        action = (Click(target=Target(element_id=i % 40, monitor=1, label=f"Invoice 2026-{i:04d}"))
                  if i % 3 else Scroll(direction="down", amount=5))
        out.append(HistoryEntry(action, "verified" if i % 7 else "failed: no visible effect", "next invoice"))
    return out


def anthropic_image_tokens(w: int, h: int) -> int:
    return round(w * h / 750)  # Anthropic's published estimate


def openai_image_tokens(w: int, h: int) -> int:
    scale = min(1.0, 768 / min(w, h))  # high detail: shortest side to 768, then 512 px tiles
    tw, th = -(-round(w * scale) // 512), -(-round(h * scale) // 512)
    return 85 + 170 * tw * th


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dev-set", default=str(ROOT.parent / "shared" / "datasets" / "grounding-dev"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--images", type=int, default=2, help="K: screenshots sent per step")
    args = ap.parse_args()
    dev = Path(args.dev_set)
    ann = json.loads((dev / "annotations.json").read_text())
    shot = next(a["img_filename"] for a in ann if a["img_size"] == [1920, 1080])
    frame = frame_from_file(dev / shot)
    parsed = ScreenParser().parse(frame.image)
    view = ScreenView(frame, parsed)
    print(f"screen: {shot} ({len(parsed.elements)} elements), K = {args.images} images per step")

    from desktop_agent.planning.backends.llama_local import LlamaCppBackend
    from desktop_agent.planning.choice import resolve_gguf

    llama = LlamaCppBackend(resolve_gguf("gemma3-270m"), n_ctx=16384)
    settings = PromptSettings(recent_images=args.images)
    print(f"{'step':>5} {'prompt tokens':>14} {'model ms':>9} {'images':>7} {'image px':>10} "
          f"{'+Anthropic img tok':>19} {'+OpenAI img tok':>16}")
    for step in (5, 50):
        tokens, ms = [], []
        for _ in range(args.repeat):
            reply = llama.complete(ModelPlanner(llama, settings).prepare(PlanContext("pay every open invoice", step,
                                                                                     history(step), [view]))[0])
            tokens.append(reply.prompt_tokens)
            ms.append(reply.latency_ms)
        # The same step as a vision model would get it: run the planner for K steps so earlier images exist.
        fake = ScriptedBackend([{"reason": "", "action": {"action": "wait", "seconds": 0}}] * 3)
        vision = ModelPlanner(fake, settings)
        for i in range(3):
            vision.next_step(PlanContext("pay every open invoice", step - 2 + i, history(step - 2 + i), [view]))
        imgs = fake.requests[-1].images
        px = f"{imgs[0].width}x{imgs[0].height}" if imgs else "-"
        a_tok = sum(anthropic_image_tokens(i.width, i.height) for i in imgs)
        o_tok = sum(openai_image_tokens(i.width, i.height) for i in imgs)
        print(f"{step:5d} {statistics.median(tokens):14.0f} {statistics.median(ms):9.0f} {len(imgs):7d} {px:>10} "
              f"{a_tok:19d} {o_tok:16d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
