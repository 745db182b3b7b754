#!/usr/bin/env bash
# veth-pair: Two namespaces joined by a veth pair
#
# A veth pair is a virtual cable: what goes in one end comes out of the other.
# This lab creates the namespaces test1 and test2, moves one end of a veth
# pair into each, gives both ends an address in 192.168.88.0/24, brings them
# up and pings in both directions. It is the same plumbing Docker uses to wire
# a container to docker0.
#
# Rendered by recipe 0.1.0. Parameters:
#   ns1=test1
#   ns2=test2
#   if1=veth-test1
#   if2=veth-test2
#   subnet=192.168.88.0/24
#   addr1=192.168.88.1/24
#   addr2=192.168.88.2/24
#   count=3
#
# Run it:        sudo bash lab.sh   (as root: bash lab.sh)
# Step by step:  recipe run lab.sh   (checks each step and always tears down)
#
#@ recipe veth-pair
#@ param ns1=test1
#@ param ns2=test2
#@ param if1=veth-test1
#@ param if2=veth-test2
#@ param subnet=192.168.88.0/24
#@ param addr1=192.168.88.1/24
#@ param addr2=192.168.88.2/24
#@ param count=3
#@ timeout 30
# A step that must fail is written `! cmd` (docs/script-format.md), which shellcheck flags.
# shellcheck disable=SC2251
set -euo pipefail

#@ guard
# Stop before anything changes if a name this lab creates is taken: the teardown would remove it.
taken() { echo "lab.sh: $1" >&2; exit 2; }
[ ! -e /run/netns/test1 ] || taken 'network namespace test1 already exists; remove it or choose another name with --set'
[ ! -e /run/netns/test2 ] || taken 'network namespace test2 already exists; remove it or choose another name with --set'
! ip link show dev veth-test1 >/dev/null 2>&1 || taken 'interface veth-test1 already exists; remove it or choose another name with --set'
! ip link show dev veth-test2 >/dev/null 2>&1 || taken 'interface veth-test2 already exists; remove it or choose another name with --set'
#@ end-guard

#@ teardown
# Teardown: runs when this script exits, also after a failed step or Ctrl-C.
# Each command tolerates a lab that is already gone, so it is safe to run twice.
teardown() {
  set +e
  # Deleting a namespace destroys the veth end inside it, and with it the peer.
  ip netns delete test1 2>/dev/null
  ip netns delete test2 2>/dev/null
  ip link delete veth-test1 2>/dev/null
  true
}
trap teardown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
#@ end-teardown

#@ steps
# Create two empty network namespaces. Each has its own interfaces, routes and firewall.
ip netns add test1

ip netns add test2

# A new namespace holds only a loopback interface, and it is DOWN.
#@ expect-output lo:
ip netns exec test1 ip link

# Bring loopback up. On its own it shows UNKNOWN: a lone interface has no peer to report carrier.
ip netns exec test1 ip link set dev lo up

# Create a veth pair: two interfaces joined like the ends of a cable. Both start in the host namespace.
ip link add veth-test1 type veth peer name veth-test2

#@ expect-output veth-test1
ip link show type veth

# Move one end into each namespace. They disappear from the host's `ip link`.
ip link set veth-test1 netns test1

ip link set veth-test2 netns test2

# Both ends are DOWN and have no address yet.
ip netns exec test1 ip link

ip netns exec test2 ip link

# Give each end an address in the same subnet.
ip netns exec test1 ip addr add 192.168.88.1/24 dev veth-test1

ip netns exec test2 ip addr add 192.168.88.2/24 dev veth-test2

# Bring both ends up. A veth end reports carrier only when its peer is up too.
ip netns exec test1 ip link set dev veth-test1 up

ip netns exec test2 ip link set dev veth-test2 up

# Each namespace now shows its end UP, with the address we gave it.
#@ expect-output 192.168.88.1/24
ip netns exec test1 ip a

#@ expect-output 192.168.88.2/24
ip netns exec test2 ip a

# Ping across the cable, in both directions.
#@ expect-output " 0% packet loss"
ip netns exec test1 ping -c 3 -i 0.2 -W 1 192.168.88.2

#@ expect-output " 0% packet loss"
ip netns exec test2 ping -c 3 -i 0.2 -W 1 192.168.88.1
