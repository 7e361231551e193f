"""The package stays in small pieces (#16): no function or method over cyclomatic complexity 15 (radon) or
over 60 lines, and every public class and function has a docstring."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from radon.complexity import cc_visit
from radon.visitors import Class, Function

PACKAGE = Path(__file__).resolve().parents[1] / "desktop_agent"
MAX_COMPLEXITY = 15
MAX_LINES = 60


def _sources() -> Iterator[tuple[str, str]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        yield str(path.relative_to(PACKAGE.parent)), path.read_text(encoding="utf-8")


def _blocks(blocks: list[Function | Class]) -> Iterator[Function]:
    for b in blocks:
        if isinstance(b, Class):
            yield from _blocks(list(b.methods) + list(b.inner_classes))
        else:
            yield b
            yield from _blocks(list(b.closures))


def test_no_function_is_over_complexity_15() -> None:
    over = [f"{name}:{b.lineno} {b.fullname} ({b.complexity})" for name, code in _sources()
            for b in _blocks(cc_visit(code)) if b.complexity > MAX_COMPLEXITY]
    assert not over, "split these functions (radon cyclomatic complexity over 15):\n" + "\n".join(over)


def test_no_function_is_over_60_lines() -> None:
    over = []
    for name, code in _sources():
        for node in ast.walk(ast.parse(code)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_LINES:
                    over.append(f"{name}:{node.lineno} {node.name} ({lines} lines)")
    assert not over, "split these functions (over 60 lines):\n" + "\n".join(over)


def _public_undocumented(tree: ast.AST) -> Iterator[ast.AST]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if not node.name.startswith("_") and ast.get_docstring(node) is None:
                yield node
            if isinstance(node, ast.ClassDef):  # methods, not functions nested in functions
                yield from _public_undocumented(node)


def test_every_public_class_and_function_has_a_docstring() -> None:
    missing = [f"{name}:{n.lineno} {getattr(n, 'name', '')}" for name, code in _sources()  # type: ignore[attr-defined]
               for n in _public_undocumented(ast.parse(code))]
    assert not missing, "give these a one- or two-line docstring:\n" + "\n".join(missing)
