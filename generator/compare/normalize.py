"""Network-aware normalization: replace values that differ on every run with placeholders.

Two kinds of placeholder:
- bound (`MAC#1`, `VETH#2`, `IF#3`): the same real value gets the same number throughout one
  transcript, numbered by first appearance. The numbering keeps relationships visible: if the
  container's `eth0@if12` pairs with `12: vethab12cd3@if11`, both sides read `IF#n`, and a replay
  that pairs eth0 with another veth reads differently, so it is drift;
- masked (`<RTT>`, `<TIME>`): values with no identity worth keeping, such as timings.

All built-in rules run as ONE combined regex pass per text (the compare benchmark depends on it);
a recipe's own rules run as one more pass before it, so they win over the built-ins.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from generator.compare.dockerranges import DockerRanges, docker_ranges
from generator.compare.views import viewer
from generator.transcript.patterns import PatternError, compile_pattern
from generator.transcript.state_names import Names

# Values that look volatile but are constants; masking them would hide real changes.
_CONSTANT_MACS = frozenset({"00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff"})
_EPHEMERAL_PORTS = range(32768, 61000)  # Linux's default ip_local_port_range

_DIGITS = "0123456789"
_HEX_LOWER = _DIGITS + "abcdef"
_HEX = _HEX_LOWER + "ABCDEF"
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_UNIT = r"(?:second|minute|hour|day|week|month|year)s?"
_AGO = rf" {_UNIT}(?: ago)?"

# Boundary checks written AFTER the first character, so that every branch of the combined
# regex starts with a literal: the `re` engine then skips positions whose character starts no
# rule, which makes the pass about ten times faster than lookbehinds and `\b` in front.
_WORD_START = r"(?<!\w.)"  # the character before the first one is no word character
_LINE_START = r"(?<![^\n].)"  # the first character starts a line


@dataclass(frozen=True)
class _Builtin:
    """One built-in rule: any of `first` starts it, `rest` follows; `keep` leading characters
    are context, written back as they are; the rest is the value."""

    name: str
    kind: str  # bound: "MAC"; masked: "<RTT>"; "" deletes the value
    first: str
    rest: str
    keep: int = 0
    guard: str = _WORD_START


# Order matters: at one position, the first rule that matches wins.
_RULES: tuple[_Builtin, ...] = (
    _Builtin(
        "iso_time",
        "<TIME>",
        _DIGITS,
        r"\d{3}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?"
        r"(?:Z|[+-]\d{2}:?\d{2})?(?: [A-Z]{3,5}\b)?",
    ),
    _Builtin(
        "date_time",
        "<TIME>",
        "MTWFS",
        rf"(?:on|ue|ed|hu|ri|at|un) {_MONTH} +\d{{1,2}} \d{{2}}:\d{{2}}:\d{{2}}"
        r"(?: [A-Z]{3,5})? \d{4}\b",
    ),
    _Builtin("clock", "<TIME>", _DIGITS, r"\d:\d{2}:\d{2}\.\d{3,9}\b"),  # tcpdump, logs
    # A bridge id: priority, then the bridge's MAC without colons (`brctl show`).
    _Builtin("bridge_id", "MAC", _HEX, r"[0-9a-f]{3}\.[0-9a-f]{12}\b", keep=5),
    _Builtin("mac", "MAC", _HEX, r"[0-9a-fA-F](?::[0-9a-fA-F]{2}){5}\b"),
    _Builtin("linklocal", "LL", "fF", r"[eE]80::[0-9a-fA-F][0-9a-fA-F:]*(?:%[\w.-]+)?"),
    _Builtin("id64", "ID", _HEX_LOWER, r"[0-9a-f]{63}\b"),
    _Builtin("id12", "ID", _HEX_LOWER, r"[0-9a-f]{11}\b"),
    _Builtin("veth", "VETH", "v", r"eth[0-9a-f]{6,8}\b"),
    _Builtin("ifpeer", "IF", "@", r"if\d+\b", keep=1, guard=""),
    _Builtin("rtt", "<RTT>", "t", r"ime[=<]\d+(?:\.\d+)?(?= ?ms)", keep=5),
    _Builtin(
        "rtt_summary", "<RTT>", "=", r" [\d.]+/[\d.]+/[\d.]+(?:/[\d.]+)?(?= ms)", keep=2, guard=""
    ),
    _Builtin("ping_total", "<DURATION>", ",", r" time \d+(?=ms)", keep=7, guard=""),
    _Builtin("lifetime", "<DURATION>", "_", r"lft \d+(?=sec)", keep=5, guard=""),
    # IPv6 duplicate address detection still running: a matter of timing, not of the lab.
    _Builtin("dad", "", "t", r"entative(?: |$)", guard=r"(?<= .)"),
    # Neighbour states age with time.
    _Builtin("nud", "<NUD>", "R", r"EACHABLE\b"),
    _Builtin("nud", "<NUD>", "S", r"TALE\b"),
    _Builtin("nud", "<NUD>", "D", r"ELAY\b"),
    _Builtin("nud", "<NUD>", "P", r"ROBE\b"),
    _Builtin("age", "<AGE>", _DIGITS, rf"\d*+{_AGO}"),
    _Builtin("age", "<AGE>", "A", rf"bout an?{_AGO}"),
    _Builtin("age", "<AGE>", "L", rf"ess than a{_AGO}"),
    _Builtin(
        "duration",
        "<DURATION>",
        _DIGITS,
        r"\d*+(?:(?:\.\d++)?+(?:ms|us|µs|ns)\b|\.\d++s\b|m\d++\.\d++s\b)",
    ),
    # `11: name@if10: <FLAGS>` and `ip -o` lines: the index at line start, only before a name.
    _Builtin(
        "ifindex",
        "IF",
        _DIGITS,
        r"\d*+(?=: [\w.@-]+(?::\s+<|\s+inet6?\s|\s+link/))",
        guard=_LINE_START,
    ),
    # iptables -v packet and byte counters count whatever else crossed the chain meanwhile.
    _Builtin(
        "ipt_counters",
        "<COUNTERS>",
        "\n",
        r"[ \t]*\d+[KMG]?[ \t]+\d+[KMG]?(?=[ \t]+[\w-]+[ \t]+(?:all|tcp|udp|icmp|\d+)[ \t]+--)",
        keep=1,
        guard="",
    ),
    _Builtin(
        "ipt_policy",
        "<COUNTERS>",
        "p",
        r"olicy ACCEPT \d+[KMG]? packets, \d+[KMG]? bytes",
        keep=14,
        guard="",
    ),
    _Builtin(
        "ipt_policy",
        "<COUNTERS>",
        "p",
        r"olicy DROP \d+[KMG]? packets, \d+[KMG]? bytes",
        keep=12,
        guard="",
    ),
    # tcpdump's ICMP echo identifier: ping picks it per run; request and reply share it.
    _Builtin("ping_id", "PINGID", ",", r" id \d+(?=, seq)", keep=5, guard=""),
    # `2483: vethe125f42` outside `ip link` tables, as a lab's own echo prints it.
    _Builtin("ifindex_veth", "IF", _DIGITS, r"\d*+(?=: veth[0-9a-f]{6,8}\b)"),
    _Builtin("port", "PORT", ":", r"(?<=[0-9\]*]:)\d{5}\b", keep=1, guard=""),
    _Builtin("pid", "PID", "p", r"id=\d+\b", keep=4),
    _Builtin("pid", "PID", '"', r'Pid": \d+\b', keep=6, guard=""),
)


def _combine(rules: tuple[_Builtin, ...]) -> tuple[re.Pattern[str], dict[str, _Builtin]]:
    """One regex: a branch per first character, each starting with that literal character;
    inside it, rules that share a boundary check share one test of it."""
    by_char: dict[str, list[tuple[str, str]]] = {}
    groups: dict[str, _Builtin] = {}
    for rule in rules:
        for char in rule.first:
            name = f"g{len(groups)}"
            groups[name] = rule
            by_char.setdefault(char, []).append((rule.guard, f"(?P<{name}>{rule.rest})"))
    branches = []
    for char, alternatives in by_char.items():
        parts: list[str] = []
        for guard, rest in alternatives:  # merge neighbours with the same guard, keeping order
            if parts and parts[-1].startswith(guard + "(?:") and guard:
                parts[-1] = parts[-1][:-1] + "|" + rest + ")"
            else:
                parts.append(f"{guard}(?:{rest})")
        branches.append(re.escape(char) + "(?:" + "|".join(parts) + ")")
    return re.compile("|".join(branches), re.MULTILINE), groups


_COMBINED, _GROUPS = _combine(_RULES)
BOUND_KINDS = frozenset(r.kind for r in _RULES if r.kind and not r.kind.startswith("<"))
PLACEHOLDER = re.compile(r"\b([A-Z][A-Z0-9_]*)#(\d+)\b")


# Joins many texts for one pass: the newlines keep line-start rules working, no rule matches
# across a NUL, so splitting afterwards gives back each text's own normalized form.
_JOIN = "\n\x00\x01\n"


@dataclass(frozen=True)
class Rule:
    """A recipe's own pattern. bind=True numbers values like the built-in bound kinds."""

    pattern: re.Pattern[str]
    placeholder: str
    bind: bool = True


@dataclass
class Bindings:
    """Real value <-> placeholder for one transcript. A value the run's snapshots name by what
    it is gets that name (`VETH(test2:eth0)`, state_names); the others are numbered by first
    appearance (`VETH#3`)."""

    numbers: dict[str, dict[str, int]] = field(default_factory=dict)
    values: dict[str, list[str]] = field(default_factory=dict)  # kind -> values by number - 1
    canonical: Names | None = None

    def placeholder(self, kind: str, value: str) -> str:
        if self.canonical is not None:
            name = self.canonical.get(kind, value)
            if name is not None:
                return f"{kind}({name})"
        table = self.numbers.get(kind)
        if table is None:
            table = self.numbers[kind] = {}
            self.values[kind] = []
        number = table.get(value)
        if number is None:
            self.values[kind].append(value)
            number = table[value] = len(table) + 1
        return f"{kind}#{number}"

    def value(self, placeholder: str) -> str | None:
        """The real value behind `KIND#n`, or None when this transcript has no such binding."""
        kind, _, number = placeholder.partition("#")
        known = self.values.get(kind, [])
        return (
            known[int(number) - 1] if number.isdigit() and 0 < int(number) <= len(known) else None
        )


# `link-netnsid N`: the id that the VIEWING namespace gave the peer's namespace when it first
# referred to it. It counts what ran on the machine before, and every viewer counts on its own,
# so it is bound per viewer: (viewer, N) is one namespace; the same N in another viewer is not.
_NETNSID = re.compile(r"(?<=link-netnsid )\d+\b")


def _id_key(value: str) -> str:
    # Docker prints full (64) and short (12) IDs of the same object; they must share a number.
    return value[:12]


class Normalizer:
    """Turns text into its normalized form, binding values in one transcript's Bindings."""

    def __init__(self, rules: Iterable[Rule] = (), bindings: Bindings | None = None) -> None:
        self.rules = tuple(rules)
        self.bindings = bindings if bindings is not None else Bindings()
        self._placeholder = self.bindings.placeholder  # hot path: skip an attribute lookup
        self._ranges: DockerRanges | None = docker_ranges(self.bindings.canonical)

    def _builtin(self, match: re.Match[str]) -> str:
        rule = _GROUPS[match.lastgroup or ""]
        whole = match.group()
        kind = rule.kind
        if not kind or kind[0] == "<":
            return whole[: rule.keep] + kind
        value = whole[rule.keep :]
        if rule.name == "bridge_id":  # the bridge's MAC, written as `link/ether` writes it
            value = ":".join(value[i : i + 2] for i in range(0, 12, 2))
        if kind == "MAC":
            value = value.lower()
            if value in _CONSTANT_MACS:
                return whole
        elif kind == "ID":
            value = _id_key(value)
            if (
                rule.name == "id12"
                and value.isdigit()
                and value not in self.bindings.numbers.get("ID", {})
            ):
                return whole  # twelve digits are a number, unless a full ID began with them
        elif rule.name == "ifpeer":
            value = value[2:]  # `@if12` names the peer's index 12
        elif kind == "PORT" and int(value) not in _EPHEMERAL_PORTS:
            return whole
        return whole[: rule.keep] + self._placeholder(kind, value)

    def netnsids(self, text: str, view: str = "") -> str:
        """`link-netnsid N` bound to the namespace N names from this view (see _NETNSID)."""
        if "link-netnsid" not in text:
            return text
        seen_from = view or "this shell"
        names = self.bindings.canonical
        seen = viewer(view) if names else None

        def bound(m: re.Match[str]) -> str:
            if names and seen and (found := names.nsid.get((*seen, m.group()))):
                return f"NSID({found})"
            return self._placeholder("NSID", f"{m.group()} (seen from {seen_from})")

        return _NETNSID.sub(bound, text)

    def text(self, text: str, view: str = "") -> str:
        return self._volatile(self.netnsids(text, view))

    def _volatile(self, text: str) -> str:
        """The recipe's own rules, then the built-ins, in one pass each (netnsids done before)."""
        for rule in self.rules:
            text = rule.pattern.sub(self._custom(rule), text)
        if not text:
            return text
        if self._ranges is not None:
            text = self._ranges.sub(text)
        return _COMBINED.sub(self._builtin, text)

    def many(self, texts: list[str], views: list[str] | None = None) -> list[str]:
        """Each text normalized in order, as text() would, with one regex pass for them all.
        views[i] is the namespace text i was seen from (netns_view)."""
        # netnsids per text, since each has its own view; then one pass over all of them.
        texts = [
            self.netnsids(text, view)
            for text, view in zip(texts, views or [""] * len(texts), strict=False)
        ]
        if len(texts) < 2 or any(_JOIN[1] in text for text in texts):
            return [self._volatile(text) for text in texts]
        return self._volatile(_JOIN.join(texts)).split(_JOIN)

    def _custom(self, rule: Rule) -> Any:
        if not rule.bind:
            return lambda _m: rule.placeholder
        return lambda m: self._placeholder(rule.placeholder, m.group())

    def scalar(self, kind: str, value: object) -> str:
        """A value JSON output names outright (an `ifindex` key): bind it without a regex."""
        return self._placeholder(kind, str(value))


@dataclass(frozen=True)
class RecipeNormalization:
    """What a recipe's `[[normalize]]` tables add to the built-in normalization."""

    rules: tuple[Rule, ...] = ()
    ignore: tuple[str, ...] = ()  # JSON paths
    unordered: tuple[re.Pattern[str], ...] = ()  # commands whose output order means nothing


def recipe_rules(extra: Mapping[str, Any], source: str = "recipe.toml") -> RecipeNormalization:
    """Read a recipe's `[[normalize]]` tables. Each entry has one of:
    - `pattern` (a regex) with `placeholder` (an upper-case name) and optional `bind` (default
      true: the same value gets the same number; false: every value reads `<NAME>`);
    - `ignore`: a JSON path such as "[*].Containers.*.MacAddress";
    - `unordered`: a regex on the command, for steps that list things in an order that depends
      on volatile values (ports sorted by random veth names); their words compare as a set.
    """
    rules: list[Rule] = []
    ignores: list[str] = []
    unordered: list[re.Pattern[str]] = []
    entries = extra.get("normalize", [])
    if not isinstance(entries, list):
        raise PatternError(f"{source}: [[normalize]] must be an array of tables")
    for number, entry in enumerate(entries, start=1):
        where = f"{source}: [[normalize]] entry {number}"
        if not isinstance(entry, Mapping):
            raise PatternError(f"{where} must be a table")
        if "ignore" in entry:
            ignores.append(str(entry["ignore"]))
        elif "unordered" in entry:
            unordered.append(compile_pattern(str(entry["unordered"]), where))
        else:
            rules.append(_rule(entry, where))
    return RecipeNormalization(tuple(rules), tuple(ignores), tuple(unordered))


def _rule(entry: Mapping[str, Any], where: str) -> Rule:
    pattern, name = entry.get("pattern"), entry.get("placeholder")
    if not isinstance(pattern, str) or not isinstance(name, str):
        raise PatternError(
            f"{where} needs `pattern` and `placeholder` strings (or `ignore`, `unordered`)"
        )
    if not re.fullmatch(r"[A-Z][A-Z0-9_]*", name):
        raise PatternError(
            f"{where}: placeholder {name!r} must be an upper-case name such as LEASE"
        )
    bind = bool(entry.get("bind", True))
    return Rule(compile_pattern(pattern, where), name if bind else f"<{name}>", bind)
