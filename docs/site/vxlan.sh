#!/usr/bin/env bash
# vxlan: Two hosts joined by a VXLAN tunnel
#
# VXLAN carries Ethernet frames inside UDP packets, so two machines that only
# share an IP network can share a layer-2 segment. Docker's overlay networks
# are built on it. This lab makes a namespace on each node, gives each a VXLAN
# device with the same network identifier (VNI) that sends to the other node's
# address, and pings across the tunnel from both sides. A capture on the
# second node shows the pings travelling as UDP on port 4789 with the VNI in
# the header. Run it on two hosts: recipe run vxlan --host docker-node1 --host
# docker-node2.
#
# Rendered by recipe 0.1.0. Parameters:
#   ns=vx-ns
#   vx=vx0
#   vni=42
#   port=4789
#   underlay1=192.168.205.10
#   underlay2=192.168.205.11
#   subnet=10.42.0.0/24
#   addr1=10.42.0.1/24
#   addr2=10.42.0.2/24
#   count=3
#
# Hosts:         docker-node1, docker-node2; each step names its host (#@ on HOST).
# Run it:        recipe run lab.sh --host docker-node1 --host docker-node2
#                (`recipe hosts up` makes docker-node1/2 on this machine)
# By hand:       type each step, in order, in a root shell on the host it names.
# Plain `bash lab.sh` refuses: it would run every step on one machine.
#
#@ recipe vxlan
#@ param ns=vx-ns
#@ param vx=vx0
#@ param vni=42
#@ param port=4789
#@ param underlay1=192.168.205.10
#@ param underlay2=192.168.205.11
#@ param subnet=10.42.0.0/24
#@ param addr1=10.42.0.1/24
#@ param addr2=10.42.0.2/24
#@ param count=3
#@ timeout 30
#@ hosts docker-node1 docker-node2
# A step that must fail is written `! cmd` (docs/script-format.md), which shellcheck flags.
# shellcheck disable=SC2251
set -euo pipefail
# One bash runs on one machine, and this lab's steps belong to several hosts.
if :; then
  echo 'this lab runs on 2 hosts; run it with: recipe run lab.sh --host docker-node1 --host docker-node2' >&2
  exit 2
fi

#@ guard on docker-node1
# Stop before anything changes if a name this lab creates is taken: the teardown would remove it.
taken() { echo "lab.sh: $1" >&2; exit 2; }
[ ! -e /run/netns/vx-ns ] || taken 'network namespace vx-ns already exists; remove it or choose another name with --set'
! ip link show dev vx0 >/dev/null 2>&1 || taken 'interface vx0 already exists; remove it or choose another name with --set'
#@ end-guard

#@ guard on docker-node2
# Stop before anything changes if a name this lab creates is taken: the teardown would remove it.
taken() { echo "lab.sh: $1" >&2; exit 2; }
[ ! -e /run/netns/vx-ns ] || taken 'network namespace vx-ns already exists; remove it or choose another name with --set'
! ip link show dev vx0 >/dev/null 2>&1 || taken 'interface vx0 already exists; remove it or choose another name with --set'
#@ end-guard

#@ teardown
# Teardown: runs when this script exits, also after a failed step or Ctrl-C.
# Each command tolerates a lab that is already gone, so it is safe to run twice.
teardown() {
  set +e
  # Deleting a namespace deletes the VXLAN device inside it.
  #@ on docker-node1
  ip netns delete vx-ns 2>/dev/null
  #@ on docker-node2
  ip netns delete vx-ns 2>/dev/null
  # A device that never moved into the namespace is still on the host.
  #@ on docker-node1
  ip link delete vx0 2>/dev/null
  #@ on docker-node2
  ip link delete vx0 2>/dev/null
  # The capture file, if the run got as far as making it.
  #@ on docker-node2
  [ -z "${capture:-}" ] || rm -f "$capture"
}
trap teardown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
#@ end-teardown

#@ steps
# On each host, a namespace stands in for a container that needs a network spanning both hosts.
#@ on docker-node1
ip netns add vx-ns

#@ on docker-node2
ip netns add vx-ns

# Create the VXLAN device in the host's own namespace: its UDP socket stays there, on the node
# network, even after the device moves into the lab namespace. Frames entering it are wrapped in
# UDP and sent to the other host.
#@ on docker-node1
ip link add vx0 type vxlan id 42 local 192.168.205.10 remote 192.168.205.11 dstport 4789

#@ on docker-node2
ip link add vx0 type vxlan id 42 local 192.168.205.11 remote 192.168.205.10 dstport 4789

#@ on docker-node1
ip link set vx0 netns vx-ns

#@ on docker-node2
ip link set vx0 netns vx-ns

# Address each end on the overlay subnet and bring it up.
#@ on docker-node1
ip netns exec vx-ns ip addr add 10.42.0.1/24 dev vx0

#@ on docker-node2
ip netns exec vx-ns ip addr add 10.42.0.2/24 dev vx0

#@ on docker-node1
ip netns exec vx-ns ip link set vx0 up

#@ on docker-node2
ip netns exec vx-ns ip link set vx0 up

# The details show the tunnel: its VNI, the remote end and the UDP port.
#@ on docker-node1
#@ expect-output "vxlan id 42"
#@ expect-output "remote 192.168.205.11"
ip netns exec vx-ns ip -d link show vx0

# Watch the node network on the second host while the first one pings: each echo request and
# reply crosses it as a UDP packet to port 4789 carrying the VNI. The capture goes to a
# private file: mktemp makes a new one with an unguessable name that only root can read.
#@ on docker-node2
capture=$(mktemp)

# The filter keeps the tunnel's packets that carry ICMP: past the 8-byte UDP and 8-byte VXLAN
# headers, the inner frame's Ethernet type (udp[28:2]) is IPv4 and its IP protocol (udp[39]) is 1.
# ARP and IPv6 neighbour discovery cross the tunnel too, at moments that vary from run to run.
#@ on docker-node2
timeout 15 tcpdump -l -n -c 2 -i any "udp port 4789 and udp[28:2] = 0x0800 and udp[39] = 1" >"$capture" 2>&1 &

# tcpdump prints "listening on" once it captures: wait for that, so the first ping is seen.
#@ on docker-node2
#@ timeout 10
until grep -q '^listening on' "$capture"; do sleep 0.1; done

#@ on docker-node1
#@ expect-output " 0% packet loss"
ip netns exec vx-ns ping -c 3 -i 0.2 -W 1 10.42.0.2

#@ on docker-node2
#@ expect-output "vni 42"
wait; cat "$capture"

# And back the other way.
#@ on docker-node2
#@ expect-output " 0% packet loss"
ip netns exec vx-ns ping -c 3 -i 0.2 -W 1 10.42.0.1

# The overlay's frames never touch the hosts' own routing tables: only the namespaces know 10.42.
# Then one matrix across both nodes: each namespace reaches the other through the tunnel.
#@ reach
#@ on docker-node1
#@ expect-no-output "10.42.0.0/24"
ip route show
