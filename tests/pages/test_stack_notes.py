"""Stacks: every difference of a lab's golden on another stack is explained in docs/stacks.toml,
the claims are checked on every stack, and the lab pages say which stacks a lab holds on.

The goldens of other stacks live in transcripts/stacks/<stack>/; the synthetic ones here are a
Debian 12 golden copied into a temporary folder with its facts and an output line changed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from generator.compare.runs import StepDrift
from generator.errors import UserError
from generator.pages import claims, claims_page, project, stack_notes, stacks
from generator.pages import write as docs
from generator.transcript import Transcript, read
from generator.transcript.facts import HostFacts
from generator.transcript.files import in_folder
from tests.cli_runner import invoke
from tests.json_schema import problems, schema

ROOT = project.ROOT
GOLDENS = ROOT / project.TRANSCRIPTS
TRIXIE = "Debian GNU/Linux 13 (trixie)"
INSPECT_NOTE = (
    '[[difference]]\nstack = "debian-13"\nlab = "*"\nstep = "docker network inspect"\n'
    'changes = \'"EnableIPv4"\'\nwhy = "Docker 26 adds `EnableIPv4` to the inspection."\n'
)


def checked_in() -> list[tuple[str, Path]]:
    """(stack, golden) for every golden of another stack in the checkout."""
    folder = GOLDENS / stacks.FOLDER
    if not folder.is_dir():
        return []
    return [
        (stack.name, path)
        for stack in sorted(p for p in folder.iterdir() if p.is_dir())
        for path in in_folder(stack)
    ]


def base_of(other: Transcript) -> Transcript | None:
    found = [read(p) for p in in_folder(GOLDENS)]
    return next((t for t in found if t.header.recipe == other.header.recipe), None)


@pytest.mark.parametrize(
    ("stack", "path"), checked_in(), ids=[f"{s}/{p.stem}" for s, p in checked_in()]
)
def test_every_drift_of_a_stack_golden_is_explained(stack: str, path: Path) -> None:
    other = read(path)
    base = base_of(other)
    assert base is not None, (
        f"{path}: no Debian 12 golden of {other.header.recipe} in transcripts/ to compare with"
    )
    found = stack_notes.differences(base, other, stack, stack_notes.load())
    unexplained = [stack_notes.unexplained_message(d) for d in found if d.note is None]
    assert not unexplained, "\n\n".join(unexplained)


def test_every_note_of_a_recorded_stack_explains_a_drift() -> None:
    """A note left behind after a fix (or a typo in its pattern) explains nothing: drop it."""
    recorded = {stack for stack, _ in checked_in()}
    used: set[stack_notes.Note] = set()
    for stack, path in checked_in():
        other = read(path)
        base = base_of(other)
        if base is not None:
            found = stack_notes.differences(base, other, stack, stack_notes.load())
            used |= {d.note for d in found if d.note is not None}
    idle = [n for n in stack_notes.load() if n.stack in recorded and n not in used]
    assert not idle, f"docs/stacks.toml: these explain no drift of a golden: {idle}"


# ---- synthetic goldens ----------------------------------------------------------------------


def on_trixie(source: Path, target: Path, edit: tuple[str, str] | None = None) -> Path:
    """The golden as if recorded on Debian 13, with one edit of its text."""
    text = source.read_text(encoding="utf-8")
    text = text.replace("distribution: Debian GNU/Linux 12 (bookworm)", f"distribution: {TRIXIE}")
    text = text.replace("docker: 20.10.24+dfsg1", "docker: 26.1.5+dfsg1")
    if edit is not None:
        assert edit[0] in text, edit[0]
        text = text.replace(edit[0], edit[1])
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target


V6 = '  |         "EnableIPv6": false,'
IPV4 = (V6, '  |         "EnableIPv4": true,\n' + V6)


@pytest.fixture
def goldens(tmp_path: Path) -> Path:
    """A folder of goldens: custom-bridge and veth-pair, custom-bridge also on Debian 13."""
    folder = tmp_path / "transcripts"
    folder.mkdir()
    for name in ("custom-bridge", "veth-pair"):
        shutil.copy(GOLDENS / f"{name}.transcript", folder)
    trixie = folder / stacks.FOLDER / "debian-13" / "custom-bridge.transcript"
    on_trixie(GOLDENS / "custom-bridge.transcript", trixie, IPV4)
    return folder


@pytest.fixture
def notes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "stacks.toml"
    path.write_text(INSPECT_NOTE, encoding="utf-8")
    monkeypatch.setattr(stack_notes, "DATA", path)
    return path


def test_stacks_are_named_by_folder_or_by_facts(goldens: Path) -> None:
    assert HostFacts(distribution=TRIXIE).stack == "debian-13"
    assert stacks.title_of("debian-13") == "Debian 13"
    assert HostFacts(distribution="").stack == ""
    found = stacks.group(read(p) for p in [*in_folder(goldens), *stacks.stack_paths([goldens])])
    assert found.base == "debian-12" and found.names == ("debian-12", "debian-13")
    assert found.verdicts("custom-bridge") == (("Debian 12", "✔"), ("Debian 13", "✔"))
    assert found.verdicts("veth-pair") == (("Debian 12", "✔"), ("Debian 13", "–"))


def test_a_drift_without_a_note_names_the_lab_the_stack_the_step_and_the_fix(
    goldens: Path,
) -> None:
    base = read(goldens / "custom-bridge.transcript")
    other = read(goldens / "stacks" / "debian-13" / "custom-bridge.transcript")
    found = stack_notes.differences(base, other, "debian-13", [])
    assert [d.first_line for d in found] == [
        "docker network inspect my-bridge",
        "docker network inspect my-bridge",
        "docker network inspect bridge",
    ]
    message = stack_notes.unexplained_message(found[0])
    assert "custom-bridge on debian-13, step 10" in message
    assert '+    "EnableIPv4": true,' in message
    assert "[[difference]]" in message and "docs/stacks.toml" in message


def test_a_note_explains_only_the_changes_it_names(goldens: Path, notes: Path) -> None:
    base = read(goldens / "custom-bridge.transcript")
    loaded = stack_notes.load(notes)
    other = read(goldens / "stacks" / "debian-13" / "custom-bridge.transcript")
    assert all(
        d.note == loaded[0] for d in stack_notes.differences(base, other, "debian-13", loaded)
    )
    # The same step with another line changed too, or another exit status: not explained.
    worse = on_trixie(
        goldens / "stacks" / "debian-13" / "custom-bridge.transcript",
        goldens.parent / "worse" / "custom-bridge.transcript",
        ('"Driver": "bridge",', '"Driver": "macvlan",'),
    )
    found = stack_notes.differences(base, read(worse), "debian-13", loaded)
    assert found and all(d.note is None for d in found)
    # Another stack, or another lab, is not what the note is about.
    assert not loaded[0].explains("debian-14", "custom-bridge", _drift(base, other))
    lab_only = stack_notes.Note("debian-13", "veth-pair", "inspect", "why")
    assert not lab_only.explains("debian-13", "custom-bridge", _drift(base, other))


def _drift(base: Transcript, other: Transcript) -> StepDrift:
    from generator.compare.stackdrift import drifts

    return drifts(base, other, None, ("Debian 12", "Debian 13"))[0]


def test_bad_notes_name_the_entry(tmp_path: Path) -> None:
    bad = tmp_path / "stacks.toml"
    bad.write_text(INSPECT_NOTE + '\n[[difference]]\nstack = "debian-13"\nlab = "x"\n')
    with pytest.raises(UserError, match="difference 2: 'step'"):
        stack_notes.load(bad)
    bad.write_text(INSPECT_NOTE.replace("why =", "because ="))
    with pytest.raises(UserError, match="difference 1: unknown keys"):
        stack_notes.load(bad)
    assert stack_notes.load(tmp_path / "none.toml") == []


def test_the_lab_page_says_where_it_holds_and_why_another_stack_differs(
    goldens: Path, notes: Path, tmp_path: Path
) -> None:
    out = tmp_path / "pages"
    docs.write([goldens], out, index=True)
    page = (out / "custom-bridge.md").read_text()
    assert "Holds on Debian 12 ✔, Debian 13 ✔." in page
    assert "## On other stacks" in page
    assert "On Debian 13 (Docker 26.1.5, iproute2 6.1.0, busybox 1.35.0) the run passed." in page
    assert (
        "- Docker 26 adds `EnableIPv4` to the inspection "
        "([step 10](#step-10), [step 12](#step-12), [step 13](#step-13))."
    ) in page
    assert "Holds on Debian 12 ✔, Debian 13 –." in (out / "veth-pair.md").read_text()
    assert "On Debian 13: not recorded." in (out / "veth-pair.md").read_text()
    assert "| Debian 12 ✔, Debian 13 ✔ |" in (out / "README.md").read_text()
    # Files named one by one are no golden set: no stacks line.
    alone = docs.write([goldens / "veth-pair.transcript"], tmp_path / "alone")
    assert "Holds on" not in alone[0].path.read_text()


def test_an_unexplained_difference_is_on_the_page_as_such(goldens: Path, tmp_path: Path) -> None:
    docs.write([goldens], tmp_path / "pages", fmt="html")
    page = (tmp_path / "pages" / "custom-bridge.html").read_text()
    assert "Holds on Debian 12 ✔, Debian 13 ✔." in page
    assert (
        '<a href="#step-10">Step 10</a> (<code>docker network inspect my-bridge</code>): '
        "stdout differs; nothing explains it yet."
    ) in page


def test_the_site_shows_the_stacks_of_each_lab(goldens: Path, notes: Path, tmp_path: Path) -> None:
    from generator.pages import site

    site.build([goldens], tmp_path / "site", claims_data=ROOT / project.CLAIMS_DATA)
    index = (tmp_path / "site" / "index.html").read_text()
    assert "<td>Debian 12 ✔, Debian 13 ✔</td>" in index
    assert "<td>Debian 12 ✔, Debian 13 –</td>" in index
    page = (tmp_path / "site" / "custom-bridge.html").read_text()
    assert 'href="#stacks"' in page and "Docker 26 adds <code>EnableIPv4</code>" in page
    claims_html = (tmp_path / "site" / "claims.html").read_text()
    assert "<th>Debian 12</th><th>Debian 13</th>" in claims_html.replace("\n", "")


# ---- claims per stack -------------------------------------------------------------------------


def test_claims_get_a_verdict_per_stack(goldens: Path) -> None:
    defined = claims.load_claims(ROOT / project.CLAIMS_DATA)
    runs = [read(p) for p in [*in_folder(goldens), *stacks.stack_paths([goldens])]]
    table = claims.check_all(defined, runs)
    assert table.stacks == ("debian-12", "debian-13")
    by_id = {claim.id: found for claim, found in table.rows}
    assert [f.verdict for f in by_id["veth-ping"]] == [claims.HOLDS, claims.UNRECORDED]
    assert [f.verdict for f in by_id["busybox-names"]] == [claims.FAILS, claims.FAILS]
    assert not table.failures  # busybox-names is expected not to hold
    page = claims_page.render(table)
    assert "| claim | Debian 12 | Debian 13 | evidence |" in page
    row = next(line for line in page.splitlines() if "(#veth-ping)" in line)
    assert "| ✔ | – |" in row
    assert "**Verdict on Debian 13: does not hold**, as on Debian 12" in page


def test_recipe_claims_fails_when_a_stack_breaks_a_claim(goldens: Path) -> None:
    trixie = goldens / "stacks" / "debian-13" / "custom-bridge.transcript"
    # On this Debian 13, brctl no longer lists the new bridge: the claim that it does fails.
    text = trixie.read_text()
    trixie.write_text(text.replace("  | br-", "  | xx-", 1))
    done = invoke("claims", str(goldens), "--json")
    assert done.returncode == 1, done.stderr
    data = json.loads(done.stdout)
    assert problems(data, schema("claims")) == []
    assert data["failures"] == [{"claim": "user-bridge-linux-bridge", "stack": "debian-13"}]
    assert [s["title"] for s in data["stacks"]] == ["Debian 12", "Debian 13"]
    assert "user-bridge-linux-bridge: does not hold on debian-13" in done.stderr
    trixie.write_text(text)
    done = invoke("claims", str(goldens))
    assert done.returncode == 0, done.stderr
    assert "| claim | Debian 12 | Debian 13 | evidence |" in done.stdout


def test_the_goldens_claims_hold_on_every_stack_as_expected() -> None:
    done = invoke("claims", str(GOLDENS), "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert problems(json.loads(done.stdout), schema("claims")) == []
