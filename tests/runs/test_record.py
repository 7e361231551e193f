"""The record's vocabulary: enums whose values are the words stored before them, typed usage and target views,
and the one wording of places and costs the CLI, the app and the report share."""

from __future__ import annotations

import json
from pathlib import Path

from desktop_agent.agent.events import AgentEvent, EventKind
from desktop_agent.runs.record import RunStatus, StepStatus, TargetRecord, Usage
from desktop_agent.runs.store import RunStore
from desktop_agent.runs.wording import answer_cost, money, place_words, step_summary, step_words, tokens_words


def test_statuses_are_stored_as_their_plain_words(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    run = store.start_run("t", "direct", "auto", [])
    store.add_step(run, 0, {"action": "wait"}, "Wait", "")
    store.update_step(run, 0, status=StepStatus.SENDING, verify={"status": StepStatus.SENT})
    store.add_step(run, 1, {"action": "wait"}, "Wait", "")
    store.finish_run(run, RunStatus.ABORTED, "stopped")
    rows = store._db.execute("SELECT status, verify FROM steps ORDER BY idx").fetchall()
    assert [tuple(r) for r in rows] == [("sending", '{"status": "sent"}'), ("aborted", None)]
    assert store.get_run(run).status == "aborted"
    assert json.dumps({"kind": EventKind.STEP_DONE}) == '{"kind": "step_done"}'
    assert len(EventKind) == 12 and EventKind("run_finished") is EventKind.RUN_FINISHED
    store.close()


def test_typed_views_and_wording(tmp_path: Path) -> None:
    usage = Usage.of({"prompt_tokens": 1834.0, "completion_tokens": 41.0, "model_ms": 912.4, "cost_usd": 0.00612})
    assert (usage.tokens, usage.confidence) == (1875.0, None)
    assert answer_cost(usage) == "1834+41 tokens, 912 ms, $0.0061"
    assert answer_cost(Usage.of({"prompt_tokens": 10})) == "10+0 tokens, 0 ms"
    assert (money(0.0004), money(0.0004, 6), tokens_words(2100)) == ("$0.0004", "$0.000400", "2,100 tokens")
    target = TargetRecord.of({"desktop": [812, 44], "monitor": 2, "element": {"origin": "both", "role": "push button"}})
    assert place_words(*target.desktop, target.monitor) == "at (812, 44) on monitor 2"
    event = AgentEvent(EventKind.STEP_LOCATED, "r", 0, "", {"targets": [{"desktop": [1, 2], "monitor": 1}],
                                                             "usage": {"prompt_tokens": 5}})
    assert [t.desktop for t in event.targets] == [(1, 2)] and event.usage.tokens == 5
    store = RunStore(tmp_path)
    run = store.start_run("t", "openai", "ask", [])
    store.add_step(run, 0, {"action": "click"}, 'Click "Save"', "")
    store.update_step(run, 0, target={"desktop": [812, 44], "monitor": 2, "element": {"origin": "both",
                                                                                     "role": "push button"}},
                      usage={"prompt_tokens": 1000.0, "completion_tokens": 50.0, "cost_usd": 0.0004},
                      timings={"step": 1500.0})
    (step,) = store.steps(run)
    assert step_words(step) == ('Click "Save" at (812, 44) on monitor 2, found by the pixels and the app\'s '
                                "accessibility tree (push button)")
    assert step_summary(step) == "took 1.5 s · 1,050 tokens · $0.0004"
    store.close()


def test_runs_show_words_places_and_model_costs(tmp_path: Path) -> None:
    from tests.e2e_helpers import cli

    store = RunStore(tmp_path)
    run = store.start_run("save it", "openai", "ask", [])
    store.add_step(run, 0, {"action": "click"}, 'Click "Save"', "the button saves")
    store.update_step(run, 0, status=StepStatus.VERIFIED, target={"desktop": [812, 44], "monitor": 2},
                      verify={"detail": "312 px changed"},
                      usage={"prompt_tokens": 1834.0, "completion_tokens": 41.0, "model_ms": 912.4, "cost_usd": 0.0061})
    store.add_step(run, 1, {"action": "done"}, "Done", "")
    store.update_step(run, 1, status=StepStatus.VERIFIED, usage={"prompt_tokens": 100.0, "completion_tokens": 9.0})
    store.finish_run(run, RunStatus.SUCCEEDED, "saved")
    store.close()
    shown = cli("runs", "show", run, home=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[3:] == [
        '  1. Click "Save" at (812, 44) on monitor 2: verified 312 px changed',
        "     model: 1834+41 tokens, 912 ms, $0.0061; reason: the button saves",
        "  2. Done: verified ",
        "     model: 100+9 tokens, 0 ms",
        "model total: 1984 tokens over 2 answers, $0.0061",
    ]
