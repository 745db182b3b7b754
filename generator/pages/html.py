"""Lab pages as HTML, from the Jinja templates in generator/pages/templates/ (autoescaped).

Two layouts share the templates. A page alone (`recipe docs --format html`) is one
self-contained file: inline CSS, the topology as inline SVG, no script. A page of the site
(`recipe docs --site`, generator/pages/site.py) links the site's stylesheet and script and plays
the lab's cast. Either way nothing is fetched from anywhere else, and the Content-Security-Policy
makes that a rule the browser enforces, not just a habit of this module.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from generator.pages import diagram, observed, prose, reachtable, stacks, tutorial_blocks
from generator.pages.markdown import STACKS_SHARE_THE_KERNEL, console_text, verdict_note
from generator.pages.model import LabPage, OtherStack, PageStep, firewall_rules

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
# The site's pages run the bundled player: its script and its WebAssembly terminal, from the
# site's own folder only.
SITE_CSP = (
    "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "
    "img-src 'self' data:"
)


@dataclass(frozen=True)
class Link:
    href: str
    title: str


@dataclass(frozen=True)
class Cast:
    json: Markup  # the cast as a JSON string, safe inside <script type="application/json">
    chapters: tuple[str, ...]  # one per marker, in order


@dataclass(frozen=True)
class SiteLinks:
    """What a page of the site has beside its content: navigation, files, its cast."""

    previous: Link | None = None
    next: Link | None = None
    files: tuple[Link, ...] = ()
    cast: Cast | None = None


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("generator.pages", "templates"),
        autoescape=select_autoescape(["j2", "html"], default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals["prose"] = prose.inline
    return env


@cache
def inline_css() -> Markup:
    """The stylesheet a page alone carries inside it; the site links the same file."""
    text = resources.files("generator.pages").joinpath("assets/site.css").read_text()
    return Markup(text)  # noqa: S704 - our own packaged stylesheet, not data


def _render(template: str, site: SiteLinks | None, **context: Any) -> str:
    return (
        _environment()
        .get_template(template)
        .render(
            csp=Markup(SITE_CSP if site is not None else CSP),  # noqa: S704 - our constant
            inline_css=inline_css(),
            site=site,
            **context,
        )
    )


def _console(step: PageStep) -> dict[str, str]:
    """The console block with the prompt and the command set apart from the output."""
    text = console_text(step)
    first, _, rest = text.partition("\n")
    return {"prompt": step.prompt, "command": first.removeprefix(step.prompt), "rest": rest}


def _step(step: PageStep, level: int) -> dict[str, Any]:
    note = verdict_note(step).replace("**", "")
    timing = f"took {step.duration:.2f} s" + (", timed out" if step.timed_out else "")
    return {
        "index": step.index,
        "level": level,
        "explanation": step.explanation,
        "interactive": step.interactive is not None,
        "console": _console(step),
        "note": note,
        "note_kind": "note fail" if step.verdict == "FAIL" else "note",
        "not_typed": step.not_typed,
        "checks": "; ".join(step.checks),
        "exit": step.exit,
        "timing": timing,
    }


def _steps(page: LabPage) -> list[dict[str, Any]]:
    out = []
    done: set[int] = set()
    for step in page.main_steps:
        title, *each = tutorial_blocks.headings(page.blocks, step.blocks, done) or [""]
        if page.blocks and not title:  # the block's paragraph stands once, under its heading
            step = replace(step, explanation="")
        view = _step(step, 4 if page.blocks else 3)
        view["heading"] = title
        view["heading_id"] = f"block-{step.blocks[0]}" if step.blocks else "block"
        view["each"] = each
        view["reaches"] = [reachtable.grid(r) for r in page.reaches_after(step.index)]
        out.append(view)
    return out


def _topology(page: LabPage) -> dict[str, Any] | None:
    graph = page.graph
    if graph is None:
        return None
    svg = diagram.to_svg(diagram.to_dot(graph))
    words: list[str] = []
    if svg is None:  # no Graphviz here: say it in words rather than fetch a renderer
        from generator.recipes.topology import describe

        words = list(observed.describe(graph) if page.observed else describe(page.topology))
    return {
        "caption": observed.CAPTION if page.observed is not None else "",
        # Graphviz escapes the labels it draws, and every label came through to_dot's quoting.
        "svg": Markup(svg) if svg is not None else None,  # noqa: S704
        "words": words,
        "warnings": page.topology_warnings,
        "rules": firewall_rules(page.topology),
    }


def toc(page: LabPage, site: SiteLinks | None) -> list[dict[str, Any]]:
    """The on-page table of contents: the sections the page has, and each step."""
    entries: list[dict[str, Any]] = []

    def add(anchor: str, title: str, children: list[dict[str, str]] | None = None) -> None:
        entries.append({"anchor": anchor, "title": title, "children": children or []})

    if page.params:
        add("parameters", "Parameters")
    if page.blocks:
        add("blocks", "Blocks")
    if page.graph is not None:
        add("topology", "Topology")
    if site is not None and site.cast is not None:
        add("recording", "Recording")
    steps = [{"anchor": f"step-{s.index}", "title": f"Step {s.index}"} for s in page.main_steps]
    add("steps", "Steps", steps)
    if page.teardown_steps:
        add("teardown", "Teardown")
    if page.other_stacks:
        add("stacks", "On other stacks")
    add("environment", "Environment")
    return entries


def render(page: LabPage, site: SiteLinks | None = None, stack: str = "") -> str:
    """The lab page: alone when `site` is None, else a page of the site."""
    blocks = [
        {"number": b.number, "line": b.line, "verdict": b.verdict, "why": tutorial_blocks.why(b)}
        for b in page.blocks
    ]
    teardown = "".join(console_text(s) for s in page.teardown_steps)
    return _render(
        "lab.html.j2",
        site,
        title=page.title,
        page=page,
        stack=stack,
        blocks=blocks,
        topology=_topology(page),
        steps=_steps(page),
        teardown=teardown,
        holds_on=stacks.line(page.stacks),
        others=[_other(o) for o in page.other_stacks],
        stacks_share_the_kernel=STACKS_SHARE_THE_KERNEL,
        toc=toc(page, site) if site is not None else [],
    )


def _other(other: OtherStack) -> dict[str, Any]:
    """One other stack for the template: what it says, and each kind of difference."""
    if not other.recorded:
        said = f"On {other.title}: not recorded."
    else:
        verdict = "passed" if other.holds == stacks.HOLDS else "did not pass"
        said = f"On {other.title} ({other.recorded}) the run {verdict}"
        said += (
            ". What differs:" if other.differences else "; every step printed what it prints here."
        )
    kinds = [
        {
            "why": d.why.rstrip("."),
            "steps": [{"n": n, "command": c, "anchor": a} for n, c, a in d.steps],
            "reasons": "; ".join(d.reasons),
        }
        for d in other.differences
    ]
    return {"said": said, "differences": kinds}


def render_index(
    groups: list[dict[str, Any]],
    intro: str,
    site: SiteLinks | None = None,
    claims: Link | None = None,
    claims_summary: str = "",
    title: str = "Lab pages",
) -> str:
    """index.html: for each group (labs, tutorial runs), one row per page, linked."""
    return _render(
        "index.html.j2",
        site,
        title=title,
        intro=intro,
        groups=groups,
        claims={"href": claims.href, "title": claims.title, "summary": claims_summary}
        if claims
        else None,
        toc=[],
    )


def render_document(title: str, markdown_text: str, site: SiteLinks | None = None) -> str:
    """A Markdown document (the claims page) as a page of the site."""
    return _render("document.html.j2", site, title=title, body=prose.blocks(markdown_text), toc=[])
