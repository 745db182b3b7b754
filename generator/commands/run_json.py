"""What `recipe run --json` prints: the run's result, its failures, and a tutorial's verdict
per block."""

from __future__ import annotations

from pathlib import Path


def summary(report: object, name: str, path: Path | None, tutorial: bool) -> dict[str, object]:
    found = _summary(report, name, path)
    if tutorial:  # a tutorial's steps may also be skipped
        from generator.lab.runner import Report

        assert isinstance(report, Report)
        counts = found["verdicts"]
        assert isinstance(counts, dict)
        counts["skipped"] = len([r for r in report.records if r.verdict == "skipped"])
        found["blocks"] = _blocks(report)
    return found


def _blocks(report: object) -> list[dict[str, object]]:
    """A tutorial's verdict per block, as `recipe run --json` prints it."""
    from generator.lab.runner import Report
    from generator.transcript.blocks import verdicts

    assert isinstance(report, Report)
    return [
        {"block": b.number, "line": b.line, "verdict": b.verdict, "reasons": b.reasons}
        for b in verdicts(report.records)
    ]


def _summary(report: object, name: str, path: Path | None) -> dict[str, object]:
    from generator.lab.runner import Report

    assert isinstance(report, Report)
    return {
        "lab": name,
        "status": report.status,
        "complete": report.complete,
        "exit_code": report.exit_code,
        "reason": report.reason,
        "duration": round(report.duration, 3),
        "transcript": str(path) if path else None,
        "steps": len([r for r in report.records if r.phase == "main"]),
        "interrupted_step": next((r.index for r in report.records if r.interrupted), None),
        "teardown_steps": len([r for r in report.records if r.phase == "teardown"]),
        "verdicts": {
            v: len([r for r in report.records if r.verdict == v])
            for v in ("ok", "expected-failure", "FAIL")
        },
        "failures": [
            {
                "step": r.index,
                "line": r.line,
                "command": r.command,
                "exit": r.exit,
                "problems": list(r.problems),
            }
            for r in report.failures
        ],
        "leftovers": report.leftovers,
    }
