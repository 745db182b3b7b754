"""The habits the code keeps: formatted by ruff, clean under its lint rules and mypy --strict,
modules of at most 400 lines and functions of at most 60 (a command's option signature aside)."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CODE = [ROOT / "generator", ROOT / "bench"]
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def _tool(name: str) -> str:
    """The tool beside this interpreter (the project's venv), else on PATH."""
    beside = Path(sys.executable).with_name(name)
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: it is a test dependency (pip install -e '.[test]')")
    return found


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, check=False)


def test_the_tree_is_formatted() -> None:
    done = _run(_tool("ruff"), "format", "--check", ".")
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff_finds_nothing() -> None:
    done = _run(_tool("ruff"), "check", ".")
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_strict_is_clean() -> None:
    done = _run(_tool("mypy"), "--strict", "generator", "tests")
    assert done.returncode == 0, done.stdout + done.stderr


def _body_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines from the first statement after the docstring to the end: the signature, however
    many options it lists, does not count."""
    body = node.body
    first = body[0]
    is_doc = isinstance(first, ast.Expr) and isinstance(getattr(first, "value", None), ast.Constant)
    start = body[1].lineno if is_doc and len(body) > 1 else first.lineno
    return (node.end_lineno or start) - start + 1


def test_modules_and_functions_stay_small() -> None:
    found = []
    for folder in CODE:
        for path in sorted(folder.rglob("*.py")):
            text = path.read_text()
            where = path.relative_to(ROOT)
            if text.count("\n") > MAX_MODULE_LINES:
                found.append(f"{where}: {text.count(chr(10))} lines")
            for node in ast.walk(ast.parse(text)):
                if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    continue
                if (length := _body_lines(node)) > MAX_FUNCTION_LINES:
                    found.append(f"{where}:{node.lineno}: {node.name} has {length} lines")
    assert not found, found
