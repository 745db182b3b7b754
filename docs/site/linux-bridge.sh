#!/usr/bin/env bash
# linux-bridge: docker0 rebuilt by hand: a Linux bridge and N namespaces
#
# Docker's default network is a Linux bridge, docker0, with one veth pair per
# container: one end is the container's eth0, the other is a port of the
# bridge. This lab builds the same thing with iproute2 alone: a bridge with
# the gateway address, then N namespaces test1..testN, each wired to the
# bridge through a veth pair, with an address from the subnet and a default
# route via the bridge. Every namespace then pings the next one, across the
# bridge. With nat=true it adds the MASQUERADE rule Docker uses to let
# containers reach the outside. The number of namespaces is a parameter; at
# n=100 this lab is the scale benchmark.
#
# Rendered by recipe 0.1.0. Parameters:
#   n=2
#   bridge=br0
#   prefix=test
#   veth_prefix=veth-
#   ifname=eth0
#   subnet=172.30.0.0/24
#   nat=false
#   count=1
#
# Run it:        sudo bash lab.sh   (as root: bash lab.sh)
# Step by step:  recipe run lab.sh   (checks each step and always tears down)
#
#@ recipe linux-bridge
#@ param n=2
#@ param bridge=br0
#@ param prefix=test
#@ param veth_prefix=veth-
#@ param ifname=eth0
#@ param subnet=172.30.0.0/24
#@ param nat=false
#@ param count=1
#@ timeout 30
# A step that must fail is written `! cmd` (docs/script-format.md), which shellcheck flags.
# shellcheck disable=SC2251
set -euo pipefail

#@ guard
# Stop before anything changes if a name this lab creates is taken: the teardown would remove it.
taken() { echo "lab.sh: $1" >&2; exit 2; }
! ip link show dev br0 >/dev/null 2>&1 || taken 'interface br0 already exists; remove it or choose another name with --set'
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
  ip link delete veth-test1 2>/dev/null
  ip netns delete test1 2>/dev/null
  ip link delete veth-test2 2>/dev/null
  ip netns delete test2 2>/dev/null
  ip link delete br0 2>/dev/null
  # The rule may sit in DOCKER-USER or in FORWARD, depending on the host: try both.
  iptables -w -D DOCKER-USER -i br0 -o br0 -j ACCEPT 2>/dev/null
  iptables -w -D FORWARD -i br0 -o br0 -j ACCEPT 2>/dev/null
  true
}
trap teardown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
#@ end-teardown

#@ steps
# The bridge is a virtual switch, like docker0. It learns which MAC address sits behind which
# port and forwards frames between its ports.
ip link add br0 type bridge

# Like docker0, the bridge carries the subnet's first address: the namespaces' gateway.
ip addr add 172.30.0.1/24 dev br0

ip link set br0 up

# Docker sets the FORWARD policy to DROP, and with br_netfilter loaded
# (/proc/sys/net/bridge/bridge-nf-call-iptables = 1) frames switched between two ports of ANY
# Linux bridge pass through iptables' FORWARD chain too. Without an ACCEPT rule, the
# namespaces on our bridge could not reach each other. Docker leaves the chain DOCKER-USER for
# rules like ours; on a host without Docker, FORWARD takes the rule instead.
if iptables -w -n -L DOCKER-USER >/dev/null 2>&1; then chain=DOCKER-USER; else chain=FORWARD; fi

# Accept what enters and leaves through our bridge. The teardown removes this rule.
iptables -w -I "$chain" -i br0 -o br0 -j ACCEPT

# Namespace test1, our first "container": a namespace of its own.
ip netns add test1

# A veth pair: the end named eth0 is created straight inside the namespace (the host
# may have an eth0 of its own); the other end stays on the host.
ip link add veth-test1 type veth peer name eth0 netns test1

# Plug the host end into the bridge, like Docker's vethXXXX on docker0, and bring it up.
ip link set veth-test1 master br0
ip link set veth-test1 up

# Inside the namespace: an address from the subnet, the interfaces up, and a default route
# via the bridge, as Docker configures a container's eth0.
ip netns exec test1 ip addr add 172.30.0.2/24 dev eth0
ip netns exec test1 ip link set eth0 up
ip netns exec test1 ip link set lo up
ip netns exec test1 ip route add default via 172.30.0.1

# Namespace test2: wired like test1.
ip netns add test2
ip link add veth-test2 type veth peer name eth0 netns test2
ip link set veth-test2 master br0
ip link set veth-test2 up
ip netns exec test2 ip addr add 172.30.0.3/24 dev eth0
ip netns exec test2 ip link set eth0 up
ip netns exec test2 ip link set lo up
ip netns exec test2 ip route add default via 172.30.0.1

# The bridge's ports: one host-side veth end per namespace.
#@ expect-output "veth-test2"
ip link show master br0

# Each namespace pings the next one.
# The frames leave through its veth pair, cross the bridge and enter the other namespace's pair.
#@ expect-output " 0% packet loss"
ip netns exec test1 ping -c 1 -i 0.2 -W 2 172.30.0.3

#@ expect-output " 0% packet loss"
ip netns exec test2 ping -c 1 -i 0.2 -W 2 172.30.0.2

# What the bridge learned from those pings: each namespace's MAC address behind its port.
# Then every namespace against every other, all pairs at once: each reaches all the others.
# (Up to 20 namespaces: the kernel's one neighbour table, 1,024 entries by default, must hold
# an entry per pair; `recipe reach --raise-neigh-limit` probes a bigger lab kept with --keep.)
#@ reach
#@ expect-output "dev veth-test1 master br0"
bridge fdb show br br0 dynamic
