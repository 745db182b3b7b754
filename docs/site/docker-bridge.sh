#!/usr/bin/env bash
# docker-bridge: Containers on docker0, the default bridge
#
# Docker's default network, bridge, is the Linux bridge docker0 on the host.
# Every container on it gets a veth pair: one end is eth0 inside the
# container, the other end is a vethXXXX interface on the host, enslaved to
# docker0. This lab starts test1 and test2, removes test2, lists the networks,
# inspects bridge, follows test1's eth0 to its host end by interface index and
# shows that end as a port of docker0 with brctl. Then it creates test2 again
# and finds the new veth that Docker plugged into docker0 for it.
#
# Rendered by recipe 0.1.0. Parameters:
#   image=busybox
#   c1=test1
#   c2=test2
#
# Run it:        sudo bash lab.sh   (as root: bash lab.sh)
# Step by step:  recipe run lab.sh   (checks each step and always tears down)
#
#@ recipe docker-bridge
#@ param image=busybox
#@ param c1=test1
#@ param c2=test2
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
  # Removing a container also removes its namespace and its veth pair.
  docker rm -f test1 test2 >/dev/null 2>&1
  true
}
trap teardown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
#@ end-teardown

#@ steps
# Two containers on the default network, each kept alive by an endless sleep loop.
# Offline, build the busybox image first: recipe image build busybox
docker run -d --name test1 busybox /bin/sh -c "while true; do sleep 3000; done"

docker run -d --name test2 busybox /bin/sh -c "while true; do sleep 3000; done"

# Remove the second container for now, so that we can watch what Docker adds when it
# comes back.
docker rm -f test2

# Docker's networks. "bridge" is the default one; every container joins it unless told
# otherwise. "host" and "none" are the other two built-in networks.
#@ expect-output bridge
docker network ls

# The bridge network's metadata: its subnet and gateway (docker0's address) and, under
# "Containers", the containers attached to it with their addresses.
#@ expect-output test1
docker network inspect bridge

# Inside the container, eth0 is one end of a veth pair. "eth0@ifN" says that its peer is
# interface number N, and that peer lives in another namespace: the host's.
#@ expect-output eth0@if
docker exec test1 ip a

# The kernel keeps the peer's index in /sys/class/net/eth0/iflink. Read it, and look that
# index up among the host's interfaces: it is a vethXXXX whose own "@ifM" points back at
# the container's eth0.
peer1=$(docker exec test1 cat /sys/class/net/eth0/iflink)

host_if1=$(ip -o link | awk -F': ' -v i="$peer1" '$1 == i { sub(/@.*/, "", $2); print $2 }')

echo test1:eth0 is paired with host interface "$peer1: $host_if1"

# The host end is enslaved to docker0 ("master docker0"): the cable runs from the
# container into the bridge.
#@ expect-output "master docker0"
ip link show "$host_if1"

# brctl lists docker0 with its ports; the veth we just found is one of them.
#@ expect-output docker0
brctl show

#@ expect-output veth
brctl show docker0 | grep -w "$host_if1"

# Create the second container again. Docker makes a new veth pair for it and plugs the host
# end into docker0.
docker run -d --name test2 busybox /bin/sh -c "while true; do sleep 3000; done"

# The bridge network now lists both containers.
#@ expect-output test2
docker network inspect bridge

# Follow the new container's eth0 to its host end, as before.
peer2=$(docker exec test2 cat /sys/class/net/eth0/iflink)

host_if2=$(ip -o link | awk -F': ' -v i="$peer2" '$1 == i { sub(/@.*/, "", $2); print $2 }')

echo test2:eth0 is paired with host interface "$peer2: $host_if2"

#@ expect-output "master docker0"
ip link show "$host_if2"

# docker0 now has one more port: the new veth. Two containers on one bridge are like two
# machines plugged into the same switch.
#@ expect-output veth
brctl show docker0 | grep -w -e "$host_if1" -e "$host_if2"
