"""A step's verdict: run it on its host, judge the result against its expectation; and whether a
script touches Docker at all."""

from __future__ import annotations

import re

from generator.lab.script import Script, Step
from generator.shell.base import Result, Shell
from generator.transcript import StepRecord


def judge(step: Step, result: Result, timeout: float) -> StepRecord:
    """Turn a step and its result into a record with a verdict."""
    problems = step.expect.problems(result.exit, result.stdout, result.stderr)
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


def execute(shell: Shell, step: Step, timeout: float) -> Result:
    shell = shell.on(step.host)  # a multi-host run picks the step's host (#@ on ROLE)
    if step.interactive is not None:
        session = step.interactive
        return shell.interact(session.spawn, session.lines, session.prompt, timeout)
    return shell.run(step.command, timeout)


_DOCKER_CALL = re.compile(r"(?:^|[\s;&|(!`]|\$\()(?:sudo\s+)?docker\s", re.MULTILINE)


def uses_docker(script: Script) -> bool:
    """Whether any step calls the docker CLI; a lab that never does cannot leave containers."""
    texts = [s.command for s in script.all_steps]
    texts += [s.interactive.spawn for s in script.all_steps if s.interactive]
    return any(_DOCKER_CALL.search(text) for text in texts)
