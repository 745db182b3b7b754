#!/usr/bin/env bash
# custom-bridge: A user-defined bridge network, where names resolve
#
# A network you create yourself with docker network create -d bridge is a new
# Linux bridge (br-<network id>) with one feature docker0 lacks: Docker's
# embedded DNS server answers container names on it. This lab creates my-
# bridge, starts test3 on it, connects test2 (which stays on the default
# bridge too), and pings by name between test2 and test3 from a shell in each.
# Then it connects test1, and all three reach each other by name. The
# walkthrough found that busybox could not resolve these names and switched to
# centos; with busybox 1.35 and Docker 20.10 the names resolve, and the tests
# record that. Choose another image with --set image=NAME.
#
# Rendered by recipe 0.1.0. Parameters:
#   image=busybox
#   network=my-bridge
#   c1=test1
#   c2=test2
#   c3=test3
#   count=2
#
# Run it:        sudo bash lab.sh   (as root: bash lab.sh)
# Step by step:  recipe run lab.sh   (checks each step and always tears down)
#
#@ recipe custom-bridge
#@ param image=busybox
#@ param network=my-bridge
#@ param c1=test1
#@ param c2=test2
#@ param c3=test3
#@ param count=2
#@ timeout 60
# A step that must fail is written `! cmd` (docs/script-format.md), which shellcheck flags.
# shellcheck disable=SC2251
set -euo pipefail

#@ guard
# Stop before anything changes if a name this lab creates is taken: the teardown would remove it.
taken() { echo "lab.sh: $1" >&2; exit 2; }
! docker container inspect test1 >/dev/null 2>&1 || taken 'container test1 already exists; remove it or choose another name with --set'
! docker container inspect test2 >/dev/null 2>&1 || taken 'container test2 already exists; remove it or choose another name with --set'
! docker container inspect test3 >/dev/null 2>&1 || taken 'container test3 already exists; remove it or choose another name with --set'
! docker network inspect my-bridge >/dev/null 2>&1 || taken 'Docker network my-bridge already exists; remove it or choose another name with --set'
#@ end-guard

#@ teardown
# Teardown: runs when this script exits, also after a failed step or Ctrl-C.
# Each command tolerates a lab that is already gone, so it is safe to run twice.
teardown() {
  set +e
  # Containers first: a network with containers attached cannot be removed.
  docker rm -f test3 test2 test1 >/dev/null 2>&1
  docker network rm my-bridge >/dev/null 2>&1
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

# The networks before: bridge, host and none.
docker network ls

# Create a network of our own with the bridge driver.
docker network create -d bridge my-bridge

#@ expect-output my-bridge
docker network ls

# On the host, the new network is a new Linux bridge named br- plus the first 12
# characters of the network's id. It has no interfaces yet: no container uses it.
bridge=br-$(docker network inspect -f '{{.Id}}' my-bridge | cut -c1-12)

#@ expect-output br-
brctl show

# Start a third container on the new network instead of the default bridge.
docker run -d --name test3 --network my-bridge busybox /bin/sh -c "while true; do sleep 3000; done"

# Its veth's host end is now a port of the new bridge.
# And the isolation: test1 and test2 reach each other on the default bridge; test3, on
# another Docker network, reaches neither and neither reaches it.
#@ reach by-name
#@ expect-output veth
brctl show "$bridge"

#@ expect-output test3
docker network inspect my-bridge

# A running container can join another network: docker network connect gives test2 a
# second interface, eth1, on the new bridge.
docker network connect my-bridge test2

#@ expect-output test2
docker network inspect my-bridge

# test2 still belongs to the default bridge as well: one container, two networks.
#@ expect-output test2
docker network inspect bridge

# On a user-defined network a container asks Docker's embedded DNS server, 127.0.0.11,
# and that server knows every container on the network by name.
#@ expect-output 127.0.0.11
docker exec test3 cat /etc/resolv.conf

# Open a shell in test3 and ping test2 by name; then the other way round. The walkthrough
# saw busybox fail here and switched to centos; with busybox 1.35 the names resolve.
# (Without a terminal, as under bash, the typed lines go to the shell on its stdin.)
#@ interactive docker exec -it test3 /bin/sh
#@ expect-output " 0% packet loss"
docker exec -i test3 /bin/sh <<'EOF'
ping -c 2 -W 2 test2
EOF

#@ interactive docker exec -it test2 /bin/sh
#@ expect-output " 0% packet loss"
docker exec -i test2 /bin/sh <<'EOF'
ping -c 2 -W 2 test3
EOF

# Connect test1 too. Now all three share the network and reach each other by name.
# The matrix after it: each reaches the others on the new network; the default bridge's
# addresses stay out of test3's reach.
#@ reach by-name
docker network connect my-bridge test1

# Each shell pings the other two. Under bash, `sh -e` stops at the first ping that fails,
# so a failure cannot hide behind a later success.
#@ interactive docker exec -it test1 /bin/sh
#@ expect-output " 0% packet loss"
#@ expect-no-output "100% packet loss"
#@ expect-no-output "bad address"
docker exec -i test1 /bin/sh -e <<'EOF'
ping -c 2 -W 2 test2
ping -c 2 -W 2 test3
EOF

#@ interactive docker exec -it test2 /bin/sh
#@ expect-output " 0% packet loss"
#@ expect-no-output "100% packet loss"
#@ expect-no-output "bad address"
docker exec -i test2 /bin/sh -e <<'EOF'
ping -c 2 -W 2 test1
ping -c 2 -W 2 test3
EOF

#@ interactive docker exec -it test3 /bin/sh
#@ expect-output " 0% packet loss"
#@ expect-no-output "100% packet loss"
#@ expect-no-output "bad address"
docker exec -i test3 /bin/sh -e <<'EOF'
ping -c 2 -W 2 test1
ping -c 2 -W 2 test2
EOF
