#!/usr/bin/env bash
# netns-basics: Create, inspect and delete network namespaces
#
# A network namespace is a private copy of the network stack: its own
# interfaces, routes, firewall rules and sockets. Every Docker container gets
# one. This lab lists the namespaces on the host, adds test1 and deletes it
# again, then creates test1 and test2 and looks inside with `ip a` and `ip
# link`: a fresh namespace holds a single loopback interface, and it is DOWN.
# Bringing lo up shows the state UNKNOWN, because a loopback has no carrier to
# report.
#
# Rendered by recipe 0.1.0. Parameters:
#   ns1=test1
#   ns2=test2
#
# Run it:        sudo bash lab.sh   (as root: bash lab.sh)
# Step by step:  recipe run lab.sh   (checks each step and always tears down)
#
#@ recipe netns-basics
#@ param ns1=test1
#@ param ns2=test2
#@ timeout 30
# A step that must fail is written `! cmd` (docs/script-format.md), which shellcheck flags.
# shellcheck disable=SC2251
set -euo pipefail

#@ guard
# Stop before anything changes if a name this lab creates is taken: the teardown would remove it.
taken() { echo "lab.sh: $1" >&2; exit 2; }
[ ! -e /run/netns/test1 ] || taken 'network namespace test1 already exists; remove it or choose another name with --set'
[ ! -e /run/netns/test2 ] || taken 'network namespace test2 already exists; remove it or choose another name with --set'
#@ end-guard

#@ teardown
# Teardown: runs when this script exits, also after a failed step or Ctrl-C.
# Each command tolerates a lab that is already gone, so it is safe to run twice.
teardown() {
  set +e
  ip netns delete test1 2>/dev/null
  ip netns delete test2 2>/dev/null
  true
}
trap teardown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
#@ end-teardown

#@ steps
# The named network namespaces on this host. `ip netns` keeps them as files under
# /run/netns; Docker's own namespaces do not appear here.
ip netns list

# Create a namespace: a new, empty network stack.
ip netns add test1

#@ expect-output test1
ip netns list

# Delete it again. Anything inside it, such as interfaces, goes with it.
ip netns delete test1

# Now create two namespaces to look inside.
ip netns add test1

ip netns add test2

# `ip netns exec NAME CMD` runs a command inside the namespace. A fresh namespace holds only
# the loopback interface lo, and it is DOWN: no address, no other interface.
#@ expect-match ^1: lo: <LOOPBACK> .*state DOWN
#@ expect-no-output "2: "
ip netns exec test1 ip a

#@ expect-match ^1: lo: <LOOPBACK> .*state DOWN
#@ expect-no-output "2: "
ip netns exec test2 ip a

# `ip link` shows the same single interface at the link layer.
#@ expect-match ^1: lo: <LOOPBACK> .*state DOWN
ip netns exec test1 ip link

#@ expect-match ^1: lo: <LOOPBACK> .*state DOWN
ip netns exec test2 ip link

# Bring loopback up in the first namespace.
ip netns exec test1 ip link set dev lo up

# lo is up now, yet its state reads UNKNOWN: a loopback has no cable, so the kernel has no
# carrier to report. A lone interface cannot talk to anything else; that takes a pair
# (see the veth-pair recipe).
#@ expect-match ^1: lo: <LOOPBACK,UP,LOWER_UP> .*state UNKNOWN
ip netns exec test1 ip link
