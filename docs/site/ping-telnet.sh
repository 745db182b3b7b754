#!/usr/bin/env bash
# ping-telnet: Reachability (ping) versus service availability (nc)
#
# Two questions that people often mix up. ping asks whether an address answers
# at all: the server's address answers with 0% packet loss, an unused address
# in the same subnet gives 100% loss. A TCP connection (telnet in the
# walkthrough, busybox nc here, since it needs no terminal) asks whether a
# service listens on a port: the same reachable server accepts on its open
# port and refuses on a closed one. Both tests run between two namespaces,
# client and server, joined by a veth pair; the server runs a tiny TCP service
# that greets each connection with a banner.
#
# Rendered by recipe 0.1.0. Parameters:
#   client=client
#   server=server
#   client_if=veth-client
#   server_if=veth-server
#   subnet=192.168.90.0/24
#   client_addr=192.168.90.1/24
#   server_addr=192.168.90.2/24
#   silent=192.168.90.99
#   port=8080
#   closed_port=8081
#   banner=hello from the server
#   count=3
#
# Run it:        sudo bash lab.sh   (as root: bash lab.sh)
# Step by step:  recipe run lab.sh   (checks each step and always tears down)
#
#@ recipe ping-telnet
#@ param client=client
#@ param server=server
#@ param client_if=veth-client
#@ param server_if=veth-server
#@ param subnet=192.168.90.0/24
#@ param client_addr=192.168.90.1/24
#@ param server_addr=192.168.90.2/24
#@ param silent=192.168.90.99
#@ param port=8080
#@ param closed_port=8081
#@ param banner=hello from the server
#@ param count=3
#@ timeout 30
# A step that must fail is written `! cmd` (docs/script-format.md), which shellcheck flags.
# shellcheck disable=SC2251
set -euo pipefail

#@ guard
# Stop before anything changes if a name this lab creates is taken: the teardown would remove it.
taken() { echo "lab.sh: $1" >&2; exit 2; }
[ ! -e /run/netns/client ] || taken 'network namespace client already exists; remove it or choose another name with --set'
[ ! -e /run/netns/server ] || taken 'network namespace server already exists; remove it or choose another name with --set'
! ip link show dev veth-client >/dev/null 2>&1 || taken 'interface veth-client already exists; remove it or choose another name with --set'
! ip link show dev veth-server >/dev/null 2>&1 || taken 'interface veth-server already exists; remove it or choose another name with --set'
#@ end-guard

#@ teardown
# Teardown: runs when this script exits, also after a failed step or Ctrl-C.
# Each command tolerates a lab that is already gone, so it is safe to run twice.
teardown() {
  set +e
  # Kill the service first: a namespace with a live process outlives `ip netns delete`.
  ip netns pids server 2>/dev/null | xargs -r kill 2>/dev/null
  ip netns delete server 2>/dev/null
  ip netns delete client 2>/dev/null
  ip link delete veth-client 2>/dev/null
  true
}
trap teardown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
#@ end-teardown

#@ steps
# Two namespaces stand in for two machines: a client and a server.
ip netns add client

ip netns add server

# A veth pair is the cable between them; one end goes into each namespace.
ip link add veth-client type veth peer name veth-server

ip link set veth-client netns client

ip link set veth-server netns server

ip netns exec client ip addr add 192.168.90.1/24 dev veth-client

ip netns exec server ip addr add 192.168.90.2/24 dev veth-server

ip netns exec client ip link set dev veth-client up

ip netns exec server ip link set dev veth-server up

# Start the service: busybox nc listens on the port (-ll: keep listening after each client)
# and runs `busybox echo BANNER` for every connection. It runs in the background inside the
# server namespace; the teardown kills every process in that namespace.
ip netns exec server busybox nc -ll -p 8080 -e busybox echo 'hello from the server' >/dev/null 2>&1 &

# ping checks reachability: does the address answer ICMP echo? The server does.
#@ expect-output " 0% packet loss"
ip netns exec client ping -c 3 -i 0.2 -W 1 192.168.90.2

# An address in the same subnet that nobody holds: the ARP question goes unanswered, no
# request leaves, and ping reports 100% packet loss and exits non-zero.
#@ expect-fail
#@ expect-output "100% packet loss"
! ip netns exec client ping -c 3 -i 0.2 -W 1 192.168.90.99

# The server's listening sockets: the service waits on its port.
#@ expect-output ":8080"
ip netns exec server ss -ltn

# Service availability is a different question: can we open a TCP connection to a port?
# The walkthrough uses telnet; nc does the same without an interactive terminal. On the open
# port the connection succeeds and the service sends its banner.
#@ expect-output "hello from the server"
ip netns exec client busybox nc -w 2 192.168.90.2 8080 </dev/null

# The same reachable host refuses a port where nothing listens: its kernel answers the SYN
# with a reset, and nc fails with "Connection refused". Reachable is not the same as available.
#@ expect-fail
#@ expect-output "Connection refused"
! ip netns exec client busybox nc -w 2 192.168.90.2 8081 </dev/null
