#!/usr/bin/env bash
# Run the whole test suite as root, on a fresh machine or an installed one:
#   bash scripts/test.sh [pytest arguments]
#
# It installs what is missing (scripts/install.sh --tests, quick when all is there), makes sure
# the Docker engine and the offline busybox image are ready, then runs pytest from the
# project's environment. Tests that touch the network take a lock, so two runs on one machine
# wait for each other instead of colliding.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${RECIPE_VENV:-$repo/.venv}

if [ ! -x "$venv/bin/pytest" ] || [ "${RECIPE_SKIP_INSTALL:-0}" != 1 ]; then
  bash "$repo/scripts/install.sh" --tests
fi
bash "$repo/scripts/start-docker.sh"
"$venv/bin/recipe" image build busybox

cd "$repo"
# Everything the suite uses is installed above, so a test that skips for want of a tool fails.
export RECIPE_REQUIRE_TOOLS=1
exec "$venv/bin/python" -m pytest "$@"
