#!/usr/bin/env bash
# bridge-nat: How a container reaches the outside: docker0 and NAT
#
# A container's address on docker0 (172.17.0.0/16) is private: nobody outside
# the host could answer it. Docker therefore adds a MASQUERADE rule to the nat
# table. Packets from the container that leave through any other interface get
# that interface's address as their source, and the host translates the
# replies back. This lab shows the rule, builds an "outside" host of its own
# (a namespace behind a veth uplink, with a TEST-NET address), checks that the
# outside address routes through that uplink and nowhere else, pings it from a
# busybox container on the default bridge, and captures the echo requests
# where they arrive: their source is the uplink's address, not the
# container's. No packet leaves the machine.
#
# Rendered by recipe 0.1.0. Parameters:
#   container=test1
#   image=busybox
#   outside=outside
#   uplink=veth-uplink
#   outside_if=eth0
#   uplink_subnet=203.0.113.0/24
#   uplink_addr=203.0.113.1/24
#   outside_addr=203.0.113.10/24
#   count=3
#
# Run it:        sudo bash lab.sh   (as root: bash lab.sh)
# Step by step:  recipe run lab.sh   (checks each step and always tears down)
#
#@ recipe bridge-nat
#@ param container=test1
#@ param image=busybox
#@ param outside=outside
#@ param uplink=veth-uplink
#@ param outside_if=eth0
#@ param uplink_subnet=203.0.113.0/24
#@ param uplink_addr=203.0.113.1/24
#@ param outside_addr=203.0.113.10/24
#@ param count=3
#@ timeout 30
# A step that must fail is written `! cmd` (docs/script-format.md), which shellcheck flags.
# shellcheck disable=SC2251
set -euo pipefail

#@ guard
# Stop before anything changes if a name this lab creates is taken: the teardown would remove it.
taken() { echo "lab.sh: $1" >&2; exit 2; }
! docker container inspect test1 >/dev/null 2>&1 || taken 'container test1 already exists; remove it or choose another name with --set'
#@ end-guard

#@ guard
# Stop before anything changes if a name this lab creates is taken: the teardown would remove it.
taken() { echo "lab.sh: $1" >&2; exit 2; }
[ ! -e /run/netns/outside ] || taken 'network namespace outside already exists; remove it or choose another name with --set'
! ip link show dev veth-uplink >/dev/null 2>&1 || taken 'interface veth-uplink already exists; remove it or choose another name with --set'
#@ end-guard

#@ teardown
# Teardown: runs when this script exits, also after a failed step or Ctrl-C.
# Each command tolerates a lab that is already gone, so it is safe to run twice.
teardown() {
  set +e
  docker rm -f test1 >/dev/null 2>&1
  # Kill anything still running in the outside namespace (a capture cut short by Ctrl-C).
  ip netns pids outside 2>/dev/null | xargs -r kill 2>/dev/null
  # Deleting the uplink deletes its peer and the route to the outside subnet.
  ip link delete veth-uplink 2>/dev/null
  ip netns delete outside 2>/dev/null
  true
}
trap teardown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
#@ end-teardown

#@ steps
# Docker's NAT rule. Packets from the default bridge's subnet that leave through any interface
# other than docker0 are masqueraded: their source becomes that interface's address.
#@ expect-output MASQUERADE
iptables -w -t nat -S POSTROUTING

# The "outside" host: a namespace of its own, reached from the host through a veth pair,
# the uplink. Its end is created straight inside the namespace.
ip netns add outside

ip link add veth-uplink type veth peer name eth0 netns outside

# The host's end of the uplink gets an address from a TEST-NET range (reserved for
# documentation, never routed on the Internet). Adding it also adds the route to that subnet.
ip addr add 203.0.113.1/24 dev veth-uplink

ip link set veth-uplink up

ip netns exec outside ip addr add 203.0.113.10/24 dev eth0

ip netns exec outside ip link set eth0 up

ip netns exec outside ip link set lo up

# Safety check before any packet is sent: the outside address must route through our own
# uplink. If it went anywhere else (out of the machine), grep fails and the script stops here.
#@ expect-output "dev veth-uplink "
ip -o route get 203.0.113.10 | grep -F -e 'dev veth-uplink '

# A container on the default bridge, as in the walkthrough.
docker run -d --name test1 busybox /bin/sh -c "while true; do sleep 3000; done"

# Check the route once more, the way the container's packets will meet it: arriving on docker0
# with the container's address as their source (a policy rule could route those elsewhere).
cip=$(docker inspect -f '{{.NetworkSettings.IPAddress}}' test1)

#@ expect-output "dev veth-uplink "
ip -o route get 203.0.113.10 from "$cip" iif docker0 | grep -F -e 'dev veth-uplink '

# Its address is private, on docker0's subnet, and its default route points at docker0.
#@ expect-output "default via"
docker exec test1 ip route

# The container reaches the outside host: docker0 hands the packet to the host, the host
# routes it out of the uplink, and MASQUERADE rewrites the source on the way.
# The matrix after it: the container reaches the outside host (its default route, then NAT),
# and the outside host has no route back to the container's private address.
#@ reach
#@ expect-output " 0% packet loss"
docker exec test1 ping -c 3 -W 2 203.0.113.10

# Now watch the packets arrive. Start a second ping in the background (docker exec -d), six
# requests half a second apart, so it is still sending when the capture starts.
docker exec -d test1 ping -c 6 -i 0.5 203.0.113.10

# Capture two echo requests on the outside host (at most 10 s). Their source is the uplink's
# address: the outside host never sees the container's private address.
#@ expect-output "IP 203.0.113.1 > 203.0.113.10: ICMP echo request"
ip netns exec outside timeout 10 tcpdump -n -l -c 2 -i eth0 'icmp[icmptype] == icmp-echo'

# The MASQUERADE rule's counters went up: it translated the pings' connections.
#@ expect-output MASQUERADE
iptables -w -t nat -L POSTROUTING -n -v
