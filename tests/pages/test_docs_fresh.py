"""CI fails when the committed docs/labs/, docs/site/ or docs/claims.md no longer match what
the golden transcripts, the recipes and docs/claims.toml generate today."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.pages import diagram
from generator.pages import project as project_docs

ROOT = project_docs.ROOT


@pytest.mark.skipif(not diagram.dot_available(), reason="graphviz draws the committed SVGs")
def test_committed_docs_are_fresh(tmp_path: Path) -> None:
    fresh = {p.relative_to(tmp_path) for p in project_docs.build(ROOT, tmp_path)}
    committed = {
        p.relative_to(ROOT)
        for folder in (ROOT / project_docs.LABS, ROOT / project_docs.SITE)
        for p in folder.rglob("*")
        if p.is_file()
    }
    committed.add(Path(project_docs.CLAIMS_PAGE))
    hint = f"the docs are stale: run `{project_docs.REBUILD}` and commit docs/"
    assert sorted(map(str, committed)) == sorted(map(str, fresh)), hint
    for relative in sorted(fresh):
        assert (ROOT / relative).read_text() == (tmp_path / relative).read_text(), (
            f"{relative}: {hint}"
        )
