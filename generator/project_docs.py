"""The project's own documentation, generated: docs/labs/ from the golden transcripts in
transcripts/, and docs/claims.md from docs/claims.toml. `recipe docs --project` rebuilds both;
tests/test_docs_fresh.py rebuilds them into a temporary folder and fails when they differ.
"""

from __future__ import annotations

from pathlib import Path

from generator import claims, docs
from generator.docs_model import assign_slugs
from generator.transcript import read

ROOT = Path(__file__).resolve().parent.parent
TRANSCRIPTS = "transcripts"
LABS = "docs/labs"
CLAIMS_PAGE = "docs/claims.md"
CLAIMS_DATA = "docs/claims.toml"
REBUILD = "recipe docs --project"


def golden(root: Path = ROOT) -> list[Path]:
    folder = root / TRANSCRIPTS
    if not folder.is_dir():
        return []
    return [p for p in sorted(folder.iterdir()) if docs.looks_like_transcript(p)]


def build(root: Path = ROOT, out: Path | None = None) -> list[Path]:
    """Write the lab pages, their index and the claims page under `out` (default: the project).

    Pages are written with the built-in recipes only: the committed docs must not depend on
    whatever extra recipe folders the person rebuilding them has configured.
    """
    target = out or root
    sources = golden(root)
    written: list[Path] = []
    labs = target / LABS
    labs.mkdir(parents=True, exist_ok=True)
    if sources:
        written += [w.path for w in docs.write(sources, labs, "md", index=True)]
        written.append(labs / docs.INDEX)
        written += sorted(labs.glob("*.svg"))
    transcripts = [read(p) for p in sources]
    findings = claims.check_all(claims.load_claims(root / CLAIMS_DATA), transcripts)
    page = target / CLAIMS_PAGE
    text = claims.render(findings, labs_link="labs/", slugs=assign_slugs(transcripts))
    page.write_text(text, encoding="utf-8")
    written.append(page)
    return sorted(set(written))
