#!/usr/bin/env bash
# Mermaid, from the npm registry: the library GitHub renders ```mermaid blocks with.
# tests/pages/test_docs_browser.py loads its mermaid.min.js from disk to parse and draw every diagram
# we emit. scripts/install.sh --tests runs this; the Debian packages come from there.
# Idempotent: safe to run on every test run.
set -euo pipefail
prefix=${RECIPE_NODE_PREFIX:-/opt/recipe-node}
[[ -f $prefix/node_modules/mermaid/dist/mermaid.min.js ]] && exit 0
# A Node.js from elsewhere (NodeSource) brings its own npm; Debian's npm would conflict with it.
if ! command -v npm >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm >/dev/null
fi
mkdir -p "$prefix"
npm install --prefix "$prefix" --no-audit --no-fund --silent mermaid@11 >/dev/null
echo "install: mermaid is in $prefix"
