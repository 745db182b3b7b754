"""A step's verdict: run it on its host, judge the result against its expectation; and whether a
script touches Docker at all."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from generator.lab.script import Script, Step
from generator.shell.base import Result, Shell, StepStopped
from generator.transcript import INTERRUPTED_PROBLEM, StepRecord

if TYPE_CHECKING:  # the reader's comparison loads only for a tutorial
    from generator.lab.page_check import PageCheck


def judge(step: Step, result: Result, timeout: float, page: PageCheck | None = None) -> StepRecord:
    """Turn a step and its result into a record with a verdict; a tutorial's step is also held
    against what its page shows."""
    problems = step.expect.problems(result.exit, result.stdout, result.stderr)
    if page is not None:
        problems += page.problems(step, result)
    if result.timed_out:
        problems.insert(0, f"timed out after {timeout:g} s")
    if problems:
        verdict = "FAIL"
    elif result.exit != 0 and step.expect.expects_failure:
        verdict = "expected-failure"
    else:
        verdict = "ok"
    return StepRecord(
        index=step.index,
        phase=step.phase,
        command=step.command,
        expect=step.expect,
        exit=result.exit,
        duration=result.duration,
        verdict=verdict,
        stdout=result.stdout,
        stderr=result.stderr,
        explanation=step.explanation,
        line=step.line,
        role=step.host,
        interactive=step.interactive.spawn if step.interactive else None,
        timed_out=result.timed_out,
        problems=tuple(problems),
    )


def interrupted_record(step: Step, stop: StepStopped, duration: float) -> StepRecord:
    """The record of a step a signal stopped: what it printed until then, verdict FAIL (it did
    not do what it should), and a first problem line that says it was interrupted (see
    docs/transcript-format.md: the format has no verdict of its own for this)."""
    partial = stop.partial
    # bash's status for the killed step when the shell drained it, else the shell convention for
    # death by that signal.
    signum = getattr(stop, "signum", 15)
    status = partial.exit if partial is not None and partial.exit >= 0 else 128 + signum
    return StepRecord(
        index=step.index,
        phase=step.phase,
        command=step.command,
        expect=step.expect,
        exit=status,
        duration=duration,
        verdict="FAIL",
        stdout=partial.stdout if partial is not None else "",
        stderr=partial.stderr if partial is not None else "",
        explanation=step.explanation,
        line=step.line,
        role=step.host,
        interactive=step.interactive.spawn if step.interactive else None,
        problems=(f"{INTERRUPTED_PROBLEM}{stop} after {duration:.1f} s; the step was stopped",),
    )


def skipped_record(step: Step, why: str) -> StepRecord:
    """A tutorial's step recipe did not run: verdict skipped, the reason as its problem."""
    return StepRecord(
        index=step.index,
        phase=step.phase,
        command=step.command,
        expect=step.expect,
        exit=0,
        duration=0.0,
        verdict="skipped",
        explanation=step.explanation,
        line=step.line,
        role=step.host,
        interactive=step.interactive.spawn if step.interactive else None,
        problems=(f"skipped: {why}",),
    )


def execute(shell: Shell, step: Step, timeout: float) -> Result:
    shell = shell.on(step.host)  # a multi-host run picks the step's host (#@ on ROLE)
    if step.interactive is not None:
        session = step.interactive
        return shell.interact(session.spawn, session.lines, session.prompt, timeout, session.attach)
    return shell.run(step.command, timeout)


_DOCKER_CALL = re.compile(r"(?:^|[\s;&|(!`]|\$\()(?:sudo\s+)?docker\s", re.MULTILINE)


def uses_docker(script: Script) -> bool:
    """Whether any step calls the docker CLI; a lab that never does cannot leave containers."""
    texts = [s.command for s in script.all_steps]
    texts += [s.interactive.spawn for s in script.all_steps if s.interactive]
    return any(_DOCKER_CALL.search(text) for text in texts)
