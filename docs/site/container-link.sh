#!/usr/bin/env bash
# container-link: Reach a container by name with --link
#
# On the default bridge, containers reach each other by IP address but not by
# name: nothing tells test2 which address "test1" stands for. The legacy
# --link option fills that gap. This lab starts test1 and test2, shows from a
# shell in test2 that ping by IP works while ping by name fails, then
# recreates test2 with --link test1. Docker writes test1's address into
# test2's /etc/hosts, and ping test1 now works. The link is one-way: test1
# still cannot resolve test2.
#
# Rendered by recipe 0.1.0. Parameters:
#   image=busybox
#   c1=test1
#   c2=test2
#   count=3
#
# Run it:        sudo bash lab.sh   (as root: bash lab.sh)
# Step by step:  recipe run lab.sh   (checks each step and always tears down)
#
#@ recipe container-link
#@ param image=busybox
#@ param c1=test1
#@ param c2=test2
#@ param count=3
#@ timeout 60
# A step that must fail is written `! cmd` (docs/script-format.md), which shellcheck flags.
# shellcheck disable=SC2251
set -euo pipefail

#@ guard
# Stop before anything changes if a name this lab creates is taken: the teardown would remove it.
taken() { echo "lab.sh: $1" >&2; exit 2; }
! docker container inspect test1 >/dev/null 2>&1 || taken 'container test1 already exists; remove it or choose another name with --set'
! docker container inspect test2 >/dev/null 2>&1 || taken 'container test2 already exists; remove it or choose another name with --set'
#@ end-guard

#@ teardown
# Teardown: runs when this script exits, also after a failed step or Ctrl-C.
# Each command tolerates a lab that is already gone, so it is safe to run twice.
teardown() {
  set +e
  # Removing a container also removes its namespace, its veth pair and its links.
  docker rm -f test2 test1 >/dev/null 2>&1
  true
}
trap teardown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
#@ end-teardown

#@ steps
# Two containers on the default bridge, each kept alive by an endless sleep loop.
# Offline, build the busybox image first: recipe image build busybox
docker run -d --name test1 busybox /bin/sh -c "while true; do sleep 3000; done"

docker run -d --name test2 busybox /bin/sh -c "while true; do sleep 3000; done"

# Think of test1 as a database and test2 as the application that uses it. The application
# could be handed test1's address, but that address is only known once test1 runs.
ip1=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' test1)

echo test1 has address "$ip1"

# By address, test2 reaches test1: both sit on docker0.
#@ expect-output " 0% packet loss"
docker exec test2 ping -c 3 -W 2 "$ip1"

# By name, it does not: on the default bridge nothing tells test2 what "test1" means, so
# the name lookup fails ("bad address"). Open a shell in test2 and type the ping there.
# (Without a terminal, as under bash, the same lines go to the shell on its stdin.)
#@ interactive docker exec -it test2 /bin/sh
#@ expect-fail
#@ expect-no-output " 0% packet loss"
# (Then the matrix, by address and by name: each reaches the other's address, and neither
# knows the other's name.)
#@ reach by-name
! docker exec -i test2 /bin/sh <<'EOF'
ping -c 1 -W 2 test1
EOF

# Recreate test2 with --link test1. Docker writes test1's name and address into test2.
docker rm -f test2

docker run -d --name test2 --link test1 busybox /bin/sh -c "while true; do sleep 3000; done"

# The link is a line in test2's /etc/hosts: test1's address, its name and its id.
#@ expect-match ^[0-9.]+\s+test1\b
docker exec test2 cat /etc/hosts

# Now the name works. In a shell in test2, ping test1 by name, as the walkthrough does.
#@ interactive docker exec -it test2 /bin/sh
#@ expect-output " 0% packet loss"
docker exec -i test2 /bin/sh <<'EOF'
ping -c 3 -W 2 test1
EOF

# A link points one way only: test1's /etc/hosts knows nothing of test2, so test1 still
# cannot reach test2 by name.
# The matrix again: now test2 reaches test1 by name, and test1 still not test2.
#@ reach by-name
#@ expect-fail
! docker exec test1 ping -c 1 -W 2 test2
