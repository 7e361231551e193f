"""The one exception hierarchy: every exit code the CLI documents has its exception type in errors.py."""

from __future__ import annotations

import ast
from pathlib import Path

import desktop_agent
from desktop_agent import errors
from desktop_agent.agent import PARTIAL_EXIT
from desktop_agent.api_keys import KeyringError
from desktop_agent.perception.accessibility.source import AccessibilityError, AccessibilityUnavailable
from desktop_agent.planning.backends.base import BackendError
from desktop_agent.planning.decision import PlanRejected


def test_the_modules_that_raise_them_reexport_the_one_definition() -> None:
    assert (PlanRejected, BackendError, KeyringError, AccessibilityError, AccessibilityUnavailable) == (
        errors.PlanRejected, errors.BackendError, errors.KeyringError, errors.AccessibilityError,
        errors.AccessibilityUnavailable)


def test_every_documented_exit_code_has_its_type() -> None:
    codes = {cls.exit_code for cls in vars(errors).values()
             if isinstance(cls, type) and issubclass(cls, errors.AgentError)}
    assert codes == {1, 2, 3, 4, 5, 6, 7, 130}
    assert errors.StepSkipped.exit_code == PARTIAL_EXIT  # the agent's partial run is the skipped step's code


def test_no_agent_error_is_defined_outside_errors_py() -> None:
    root = Path(desktop_agent.__file__).parent
    elsewhere = []
    for path in root.rglob("*.py"):
        if path.name == "errors.py" and path.parent == root:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                    isinstance(b, ast.Name) and b.id.endswith(("Error", "Refused", "Failed", "NotFound", "Rejected"))
                    and b.id != "HotkeyError" for b in node.bases):
                elsewhere.append(f"{path.relative_to(root)}:{node.name}")
    assert elsewhere == []
