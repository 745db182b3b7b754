"""A lab page as one self-contained HTML file: inline CSS, the topology as inline SVG, no script.

Nothing is fetched: no fonts, no images, no Mermaid from a CDN. The Content-Security-Policy
makes that a rule the browser enforces, not just a habit of this module.
"""

from __future__ import annotations

from dataclasses import replace
from html import escape

from generator.pages import diagram, observed, reachtable, tutorial_blocks
from generator.pages.markdown import console_text, verdict_note
from generator.pages.model import LabPage, PageStep, firewall_rules
from generator.transcript.records import ReachRecord

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

STYLE = """
body { font: 15px/1.5 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       color: #1f2328; }
h1, h2, h3 { line-height: 1.25; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid #d0d7de; padding: .3rem .6rem; text-align: left; vertical-align: top; }
code, pre { font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, monospace; }
pre.console { background: #0d1117; color: #e6edf3; padding: .8rem 1rem; overflow-x: auto;
              border-radius: 6px; white-space: pre; }
pre.console .prompt { color: #7ee787; }
pre.console .command { color: #ffffff; font-weight: 600; }
.note { border-left: 4px solid #d29922; padding: .2rem .8rem; background: #fff8c5; }
.note.fail { border-color: #cf222e; background: #ffebe9; }
.checks { color: #57606a; font-size: 13px; }
tr.differs td { background: #ffebe9; }
tr.skipped td { color: #57606a; }
figure.topology svg { max-width: 100%; height: auto; }
ul.topology { font-family: ui-monospace, monospace; font-size: 13px; }
"""


def console_html(step: PageStep) -> str:
    """The console block with the prompt and the command set apart from the output."""
    text = console_text(step)
    first, _, rest = text.partition("\n")
    prompt = step.prompt
    command = first.removeprefix(prompt)
    head = (
        f'<span class="prompt">{escape(prompt)}</span>'
        f'<span class="command">{escape(command)}</span>'
    )
    return f'<pre class="console">{head}\n{escape(rest)}</pre>'


def _step(step: PageStep, level: int = 3) -> list[str]:
    title = f"<h{level}>Step {step.index}</h{level}>"
    out = [f'<section class="step" id="step-{step.index}">', title]
    if step.explanation:
        out.append(f"<p>{escape(' '.join(step.explanation.split()))}</p>")
    if step.interactive is not None:
        out.append(
            "<p>Typed at the prompt of an interactive session (recorded through a terminal):</p>"
        )
    out.append(console_html(step))
    note = verdict_note(step).replace("**", "")
    if note:
        kind = "note fail" if step.verdict == "FAIL" else "note"
        out.append(f'<p class="{kind}">{escape(note)}</p>')
    if step.not_typed:
        items = "".join(f"<li>{escape(line)}</li>" for line in step.not_typed)
        out.append(f'<div class="note"><p>Not typed:</p><ul>{items}</ul></div>')
    timing = f"took {step.duration:.2f} s" + (", timed out" if step.timed_out else "")
    checks = "; ".join(step.checks)
    out.append(
        f'<p class="checks">Checked: {escape(checks)}. Exit status {step.exit}, {timing}.</p>'
    )
    out.append("</section>")
    return out


def _reach(record: ReachRecord) -> list[str]:
    found = reachtable.grid(record)
    out = [f'<section class="reach"><h4>{escape(found.title)}</h4>']
    if found.rules:
        rules = "; ".join(f"<code>{escape(r)}</code>" for r in found.rules)
        out.append(f"<p>Expected from the observed topology, and: {rules}</p>")
    head = "".join(f"<th>{escape(t)}</th>" for t in found.targets)
    rows = "".join(
        f"<tr><th>{escape(source)}</th>"
        + "".join(
            f'<td class="{"fail" if t.startswith("FAIL") else ""}">{escape(t)}</td>' for t in row
        )
        + "</tr>"
        for source, row in found.rows
    )
    out.append(f"<table><tr><th>from \\ to</th>{head}</tr>{rows}</table>")
    if found.holds:
        out.append('<p class="checks">The matrix held: every pair as expected.</p>')
    else:
        items = "".join(f"<li>{escape(line)}</li>" for line in found.failing)
        out.append(f'<div class="note fail"><p>The matrix did not hold:</p><ul>{items}</ul></div>')
    out.append("</section>")
    return out


def _topology(page: LabPage) -> list[str]:
    graph = page.graph
    if graph is None:
        return []
    svg = diagram.to_svg(diagram.to_dot(graph))
    out = ["<h2>Topology</h2>"]
    if page.observed is not None:
        out.append(f"<p>{escape(observed.CAPTION)}</p>")
    if svg is not None:
        out.append(f'<figure class="topology">{svg}</figure>')
    else:  # no Graphviz here: say it in words rather than fetch a renderer
        from generator.recipes.topology import describe

        words = observed.describe(graph) if page.observed else describe(page.topology)
        items = "".join(f"<li>{escape(line)}</li>" for line in words)
        out.append(f'<ul class="topology">{items}</ul>')
    if page.topology_warnings:
        items = "".join(f"<li>{escape(line)}</li>" for line in page.topology_warnings)
        out += [
            '<div class="note fail"><p>The declared topology does not match what the run '
            f"observed:</p><ul>{items}</ul></div>"
        ]
    rules = firewall_rules(page.topology)
    if rules:
        items = "".join(f"<li><code>{escape(rule)}</code></li>" for rule in rules)
        out += ["<p>Firewall rules the lab adds:</p>", f"<ul>{items}</ul>"]
    return out


def _head(title: str) -> list[str]:
    return [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        "<!-- Generated by `recipe docs` from transcripts. -->",
        f"<h1>{escape(title)}</h1>",
    ]


def render_index(rows: list[tuple[str, str, str, str]], intro: str) -> str:
    """index.html: one row per page (name, title, date recorded, result), linked."""
    body = "".join(
        f'<tr><td><a href="{escape(slug)}.html">{escape(slug)}</a></td><td>{escape(title)}</td>'
        f"<td>{escape(date)}</td><td>{escape(status)}</td></tr>"
        for slug, title, date, status in rows
    )
    head = "<tr><th>lab</th><th>what it shows</th><th>recorded</th><th>result</th></tr>"
    return "\n".join(
        [
            *_head("Lab pages"),
            f"<p>{escape(intro.replace('`', ''))}</p>",
            f"<table>{head}{body}</table>",
            "</body>",
            "</html>",
            "",
        ]
    )


def render(page: LabPage) -> str:
    out = _head(page.title)
    if page.description:
        out.append(f"<p>{escape(' '.join(page.description.split()))}</p>")
    if page.recipe:
        out.append(
            f"<p>Recipe: <code>{escape(page.recipe)}</code> · run it with "
            f"<code>recipe run {escape(page.recipe)}</code></p>"
        )
    if not page.complete:
        out.append(
            f'<p class="note fail">Incomplete run (result: {escape(page.status)}): '
            "the page shows the steps that ran.</p>"
        )
    elif page.failed_verdict:
        out.append(f'<p class="note fail">{escape(page.failed_verdict)}.</p>')
    if page.normalized:
        out.append(
            '<p class="note">Output is normalized: values that change on every run read as '
            "placeholders such as <code>MAC#1</code> or <code>&lt;RTT&gt;</code>.</p>"
        )
    if page.params:
        rows = "".join(
            f"<tr><td><code>{escape(p.name)}</code></td><td><code>{escape(p.value)}</code></td>"
            f"<td>{escape(p.help)}</td></tr>"
            for p in page.params
        )
        out += [
            "<h2>Parameters</h2>",
            f"<table><tr><th>name</th><th>value</th><th>meaning</th></tr>{rows}</table>",
        ]
    if page.blocks:
        out.append(f"<p><strong>{escape(page.block_summary)}</strong></p>")
        out += tutorial_blocks.html_section(page.blocks)
    out += _topology(page)
    out.append("<h2>Steps</h2>")
    done: set[int] = set()
    for step in page.main_steps:
        title, *each = tutorial_blocks.headings(page.blocks, step.blocks, done) or [""]
        if title:
            anchor = f"block-{step.blocks[0]}" if step.blocks else "block"
            out.append(f'<h3 id="{anchor}">{escape(title)}</h3>')
        if each:
            out.append("<ul>" + "".join(f"<li>{escape(line)}</li>" for line in each) + "</ul>")
        if page.blocks and not title:  # the block's paragraph stands once, under its heading
            step = replace(step, explanation="")
        out += _step(step, 4 if page.blocks else 3)
        for record in page.reaches_after(step.index):
            out += _reach(record)
    if page.teardown_steps:
        body = "".join(console_text(s) for s in page.teardown_steps)
        out += ["<h2>Teardown</h2>", f'<pre class="console">{escape(body)}</pre>']
    rows = "".join(
        f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in page.environment
    )
    out += ["<h2>Environment</h2>", f"<table>{rows}</table>", "</body>", "</html>", ""]
    return "\n".join(out)
