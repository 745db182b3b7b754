#!/usr/bin/env bash
# Replay every golden on each stack and check the walkthrough's claims on each, as root:
#   bash scripts/replay-stacks.sh [more recipe replay options, e.g. -j 2]
#
# The single-host goldens replay on nodes of debian-12 (this machine's userland) and debian-13
# (a Debian 13 root, built once with mmdebstrap and cached under /var/cache/recipe/stacks),
# four at a time; the nodes are made for the run and removed after. Exit 0 when every lab holds
# on every stack and every claim that should hold does.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
recipe=${RECIPE_VENV:-$repo/.venv}/bin/recipe
cd "$repo"
"$recipe" replay transcripts/ --stack debian-12 --stack debian-13 -j 4 "$@"
"$recipe" claims transcripts/ >/dev/null
echo "replay-stacks: every golden holds on debian-12 and debian-13, and so do the claims"
