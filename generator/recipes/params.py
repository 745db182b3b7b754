"""Parameter types: parse a raw value, check it against Linux and Docker rules, explain failures."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from generator import visible

IFNAMSIZ = 16  # the kernel's limit includes the trailing NUL, so names hold at most 15 bytes
_DOCKER_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]+")
_IMAGE = re.compile(
    r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?::[0-9]+)?"
    r"(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?"
)
_NETNS = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
# C0 and C1 controls and the Unicode line separators: Python's splitlines() breaks a line at
# every one of them, so a value holding one would split a step when the script is read back.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")

ParamValue = Any  # str | int | bool | IPv4Network | IPv4Interface | IPv4Address


# Longest integer text we parse: Python refuses int() of more than 4,300 digits, and no lab
# count, port or identifier comes near 18.
_MAX_DIGITS = 18
# The only ranges a lab may use: private (RFC 1918) and documentation (RFC 5737) ones. An allow
# list, because ipaddress calls 0.0.0.0/8 (this network) and 240.0.0.0/4 (reserved) private too.
_LAB_RANGES = tuple(
    ipaddress.IPv4Network(net)
    for net in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "192.0.2.0/24",
        "198.51.100.0/24",
        "203.0.113.0/24",
    )
)


class ParamError(ValueError):
    """A value that breaks its type's rules; the message says what to do instead."""


def shown(raw: object) -> str:
    """A value as an error line may echo it (see visible.shown); non-text as a TOML literal."""
    return visible.shown(raw if isinstance(raw, str) else display(raw))


def _text(raw: object) -> str:
    text = str(raw)
    if _CONTROL.search(text):
        raise ParamError("must not contain control characters such as newlines or tabs")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # argv bytes that are not UTF-8 arrive as lone surrogates (surrogateescape)
        raise ParamError("is not valid UTF-8 text; use UTF-8 characters only") from None
    return text


def _string(raw: object) -> str:
    text = _text(raw)
    if text.startswith("-"):
        # A free-text value lands in a command as an argument: `echo -n` would read an option.
        raise ParamError("must not start with '-': the command it reaches would read an option")
    return text


def _integer(raw: object) -> int:
    if isinstance(raw, bool):
        raise ParamError("must be an integer, not a boolean")
    if isinstance(raw, int):
        return raw
    text = _text(raw).strip()
    if not re.fullmatch(r"[+-]?[0-9]+", text, flags=re.ASCII):
        raise ParamError(f"must be an integer, got {shown(text)}")
    if len(text.lstrip("+-").lstrip("0")) > _MAX_DIGITS:
        raise ParamError(f"has more than {_MAX_DIGITS} digits; no lab needs a number that large")
    return int(text)


def _boolean(raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    text = _text(raw).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise ParamError(f"must be true or false, got {shown(text)}")


def _ifname(raw: object) -> str:
    name = _text(raw)
    size = len(name.encode())
    if not name or name in {".", ".."}:
        raise ParamError("must be a non-empty interface name other than '.' and '..'")
    if size >= IFNAMSIZ:
        raise ParamError(f"is {size} bytes; Linux interface names hold at most {IFNAMSIZ - 1}")
    if re.search(r"[/:\s]", name) or not re.fullmatch(r"[A-Za-z0-9_.@+-]+", name):
        raise ParamError(
            "may use only letters, digits and . _ - + @ (Linux refuses '/', ':' and spaces)"
        )
    if name.startswith("-"):
        # Linux would take it, but every tool that gets it (ip, brctl, tcpdump) reads an option.
        raise ParamError("must not start with '-': ip would read it as an option")
    return name


def _netns(raw: object) -> str:
    name = _text(raw)
    if name in {"", ".", ".."} or len(name.encode()) > 255 or not _NETNS.fullmatch(name):
        raise ParamError(
            "must be a namespace name of letters, digits, '.', '_' and '-' "
            "(it becomes a file under /run/netns)"
        )
    return name


def _docker_name(raw: object) -> str:
    name = _text(raw)
    if not _DOCKER_NAME.fullmatch(name):
        raise ParamError(
            "must match Docker's rule [a-zA-Z0-9][a-zA-Z0-9_.-]+ (two or more characters)"
        )
    return name


def _image(raw: object) -> str:
    name = _text(raw)
    if len(name) > 255 or not _IMAGE.fullmatch(name):
        raise ParamError("must be a Docker image reference such as busybox or centos:7")
    return name


def _lab_range(network: ipaddress.IPv4Network) -> None:
    """Labs live in private or documentation ranges: a public or loopback range would shadow
    real destinations on the host while the lab runs, and a huge one would swallow its routes."""
    if network.prefixlen < 8:
        raise ParamError("is too wide for a lab; use a prefix of /8 or longer")
    if network.is_loopback or network.is_multicast or network.is_link_local:
        raise ParamError("lies in a loopback, multicast or link-local range; use a private one")
    if network.is_unspecified or network.is_reserved or network.subnet_of(_THIS_NETWORK):
        raise ParamError(
            "lies in a reserved range (0.0.0.0/8 is 'this network', 240.0.0.0/4 is reserved); "
            "use a private one such as 10.0.0.0/24"
        )
    if not any(network.subnet_of(lab) for lab in _LAB_RANGES):
        raise ParamError(
            "lies in a public range; use a private (10/8, 172.16/12, 192.168/16) "
            "or documentation (192.0.2/24, 198.51.100/24, 203.0.113/24) range"
        )


_THIS_NETWORK = ipaddress.IPv4Network("0.0.0.0/8")


def _cidr(raw: object) -> ipaddress.IPv4Network:
    text = _text(raw).strip()
    try:
        network = ipaddress.IPv4Network(text, strict=True)
    except ipaddress.NetmaskValueError as exc:
        raise ParamError(f"has a bad prefix length: {exc}") from None
    except ValueError as exc:
        if "host bits set" in str(exc):
            net = ipaddress.IPv4Network(text, strict=False)
            raise ParamError(f"has host bits set; did you mean {net}?") from None
        raise ParamError(
            f"must be an IPv4 network such as 10.0.0.0/24, got {shown(text)}"
        ) from None
    _lab_range(network)
    return network


def _address(raw: object) -> ipaddress.IPv4Address:
    text = _text(raw).strip()
    try:
        address = ipaddress.IPv4Address(text)
    except ValueError:
        raise ParamError(
            f"must be an IPv4 address such as 192.168.88.1, got {shown(text)}"
        ) from None
    _lab_range(ipaddress.IPv4Network(address))
    return address


def _interface(raw: object) -> ipaddress.IPv4Interface:
    text = _text(raw).strip()
    if "/" not in text:
        raise ParamError(
            f"must be an address with a prefix such as 192.168.88.1/24, got {shown(text)}"
        )
    try:
        iface = ipaddress.IPv4Interface(text)
    except ValueError:
        raise ParamError(
            f"must be an address with a prefix such as 192.168.88.1/24, got {shown(text)}"
        ) from None
    net = iface.network
    _lab_range(net)
    if net.prefixlen < 31 and iface.ip in {net.network_address, net.broadcast_address}:
        raise ParamError(f"is the network or broadcast address of {net}; pick a host address")
    return iface


def _port(raw: object) -> int:
    port = _integer(raw)
    if not 1 <= port <= 65535:
        raise ParamError(f"must be a TCP port between 1 and 65535, got {port}")
    return port


PARSERS: dict[str, Callable[[object], ParamValue]] = {
    "str": _string,
    "int": _integer,
    "bool": _boolean,
    "ifname": _ifname,
    "netns": _netns,
    "container": _docker_name,
    "network": _docker_name,
    "image": _image,
    "cidr": _cidr,
    "ip": _address,
    "ipif": _interface,
    "port": _port,
}


@dataclass(frozen=True)
class ParamSpec:
    """One parameter as a recipe declares it."""

    name: str
    type: str
    default: ParamValue
    help: str
    min: int | None = None
    max: int | None = None
    within: str | None = None  # name of a cidr parameter this address must lie in
    choices: tuple[str, ...] = ()

    def parse(self, raw: object) -> ParamValue:
        """Return the typed value or raise ParamError naming the rule that failed."""
        value = PARSERS[self.type](raw)
        if self.type == "int" and self.min is None and value < 0:
            # `head -5`: a negative number in a command's arguments reads as an option.
            raise ParamError(f"must not be negative (got {value}) unless the recipe sets a min")
        if self.type == "int" and self.min is not None and value < self.min:
            raise ParamError(f"must be at least {self.min}, got {value}")
        if self.type == "int" and self.max is not None and value > self.max:
            raise ParamError(f"must be at most {self.max}, got {value}")
        if self.choices and str(value) not in self.choices:
            raise ParamError(f"must be one of {', '.join(self.choices)}, got {shown(value)}")
        return value


def display(value: ParamValue) -> str:
    """How a value is written back in `--set key=value` form."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def host_address(value: ParamValue) -> ipaddress.IPv4Address | None:
    """The host address a value names, for the uniqueness and subnet checks."""
    if isinstance(value, ipaddress.IPv4Interface):
        return value.ip
    if isinstance(value, ipaddress.IPv4Address):
        return value
    return None
