#!/usr/bin/env bash
# Install recipe and everything its labs need on a Debian or Ubuntu machine, as root:
#   bash scripts/install.sh            # the tool, the lab tools, Docker, the busybox image
#   bash scripts/install.sh --tests    # the same, plus what the test suite needs
#   bash scripts/install.sh --bench    # the same, plus Debian's mininet for bench/reach_all_pairs.py
#
# --bench adds mininet (2.3) only: the benchmark runs `mn --switch lxbr --controller none`, a
# Linux bridge and no controller, which needs no Open vSwitch, so openvswitch-switch (only a
# Recommends of mininet) is not installed, nor is its daemon started.
#
# Safe to run again: each step checks first and does only what is missing.
# Environment:
#   RECIPE_VENV      where the Python environment goes (default: .venv in this checkout)
#   RECIPE_BIN_DIR   where the `recipe` command is linked (default: /usr/local/bin)
#   RECIPE_PYTHON    the Python 3.11+ to build the environment with (default: python3)
#   EXTRA_PACKAGES   more Debian packages to install, separated by spaces
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${RECIPE_VENV:-$repo/.venv}
bin_dir=${RECIPE_BIN_DIR:-/usr/local/bin}
python=${RECIPE_PYTHON:-python3}
with_tests=false
with_bench=false
for arg in "$@"; do
  case $arg in
    --tests) with_tests=true ;;
    --bench) with_bench=true ;;
    *) echo "install.sh: unknown option $arg (use --tests or --bench)" >&2; exit 2 ;;
  esac
done

say() { printf 'install: %s\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
  echo "install.sh: run me as root (sudo bash scripts/install.sh): I install packages and start Docker" >&2
  exit 2
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install.sh: this script knows Debian and Ubuntu (apt-get); install the packages it lists by hand" >&2
  exit 2
fi

# The lab tools: ip and bridge (iproute2), ping, brctl, iptables, the static busybox that
# becomes the offline image, tcpdump for captures, shellcheck for rendered scripts, sshd and
# dnsmasq for the virtual Docker nodes and the local resolver, mmdebstrap that builds a stack's
# root (generator/hosts/stack_root.py), and Python's venv.
packages=(
  iproute2 iputils-ping bridge-utils iptables busybox-static tcpdump shellcheck
  openssh-server openssh-client dnsmasq-base util-linux procps mmdebstrap
  python3 python3-venv ca-certificates git
)
# What only the test suite needs, each with the test that needs it:
#   graphviz   tests/pages/test_diagram.py draws DOT with `dot`; docs/labs/*.svg are made with it
#   chromium   tests/cdp_browser.py renders the generated lab pages headless
#   asciinema  tests/transcript/test_docs_cast.py plays exported casts
#   vagrant    tests/hosts/test_vagrant.py runs `vagrant validate --ignore-provider` (offline)
#   sudo       tests/shell/test_ssh_sudo.py: a non-root SSH user gets root through `sudo -n`
# scripts/install-docs-tools.sh adds mermaid from npm (and Debian's npm where none is installed).
if $with_tests; then
  packages+=(graphviz chromium asciinema vagrant sudo)
fi
# bench/reach_all_pairs.py compares recipe reach with Mininet's pingall on the same topology.
if $with_bench; then
  packages+=(mininet)
fi
# A Docker engine only where none is installed; an existing docker-ce is left alone.
if ! command -v dockerd >/dev/null 2>&1 && ! docker info >/dev/null 2>&1; then
  packages+=(docker.io)
fi
# shellcheck disable=SC2206  # EXTRA_PACKAGES is a space-separated list on purpose
packages+=(${EXTRA_PACKAGES:-})

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f '${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  say "system packages already installed"
fi

# mmdebstrap checks Debian 13's Release file with this machine's apt keys. Debian 12's keyring
# before 2023.3+deb12u2 lacks trixie's keys, and the debian-13 stack would then fail to build.
if dpkg-query -W -f '${Status}' debian-archive-keyring 2>/dev/null | grep -q 'install ok installed' &&
  [ ! -e /etc/apt/trusted.gpg.d/debian-archive-trixie-stable.asc ]; then
  say "updating debian-archive-keyring (Debian 13's keys, for the debian-13 stack)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --only-upgrade debian-archive-keyring >/dev/null
fi

# recipe needs Python 3.11 or newer; Ubuntu 22.04's python3 is 3.10, but it offers python3.11.
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  say "$python is older than 3.11; installing python3.11"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3.11 python3.11-venv >/dev/null
  python=python3.11
fi

# The Python package goes into its own environment: Debian 12's system pip refuses to
# install next to the distribution's packages (PEP 668). Editable, so the checkout's
# recipes/ folder is the one the tool reads.
if [ ! -x "$venv/bin/python" ]; then
  say "creating the Python environment $venv"
  "$python" -m venv "$venv"
fi
extras=""
if $with_tests; then
  extras="[test]"
fi
say "installing recipe$extras into $venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check -e "$repo$extras"
# An editable install leaves the package uncompiled; a user who cannot write to this checkout
# would then compile every module on every run. Compile it once here.
"$venv/bin/python" -m compileall -q "$repo/generator" >/dev/null
mkdir -p "$bin_dir"
ln -sf "$venv/bin/recipe" "$bin_dir/recipe"
say "recipe is $bin_dir/recipe"

if $with_tests; then
  bash "$repo/scripts/install-docs-tools.sh"
fi

bash "$repo/scripts/start-docker.sh"
"$venv/bin/recipe" image build busybox

say "done. Try: recipe render custom-bridge > lab.sh && bash lab.sh"
