#!/usr/bin/env bash
# Tools the documentation tests use, all from package registries:
#   chromium   opens the HTML pages (tests/test_docs_browser.py)
#   graphviz   draws the topology SVGs (`dot`); docs/labs/*.svg are made with it
#   asciinema  plays the casts (`asciinema cat`)
#   mermaid    (npm) the library GitHub renders ```mermaid blocks with; the browser test loads
#              its mermaid.min.js from disk to parse and draw every diagram we emit
# Idempotent: safe to run on every CI run.
set -euo pipefail
need=()
for pair in chromium:chromium dot:graphviz asciinema:asciinema; do
  command -v "${pair%%:*}" >/dev/null || need+=("${pair##*:}")
done
if ((${#need[@]})); then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
prefix=${RECIPE_NODE_PREFIX:-/opt/recipe-node}
if [[ ! -f $prefix/node_modules/mermaid/dist/mermaid.min.js ]] && command -v npm >/dev/null; then
  mkdir -p "$prefix"
  npm install --prefix "$prefix" --no-audit --no-fund --silent mermaid@11 >/dev/null
fi
