#!/usr/bin/env bash
# container-netns: Each container has its own network namespace
#
# Docker gives every container a network namespace of its own. This lab starts
# the busybox containers test1 and test2, each running an endless sleep loop,
# and lists the interfaces inside test1 next to the host's: the container sees
# only lo and one eth0. It then reads each container's address from docker
# inspect and pings from one container to the other, which works because both
# hang off the same bridge, docker0.
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
#@ recipe container-netns
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
  # Removing a container also removes its namespace and its veth pair.
  docker rm -f test1 test2 >/dev/null 2>&1
  true
}
trap teardown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
#@ end-teardown

#@ steps
# Start a container that stays up: its only job is an endless sleep loop, so that we can
# step inside it with docker exec. Offline, build the busybox image first:
# recipe image build busybox
docker run -d --name test1 busybox /bin/sh -c "while true; do sleep 3000; done"

docker run -d --name test2 busybox /bin/sh -c "while true; do sleep 3000; done"

# Inside the container there are just two interfaces: loopback and eth0. This is the
# container's own network namespace; eth0@ifN names the index N of its peer on the host.
#@ expect-output eth0@if
docker exec test1 ip a

# The host has its own interfaces: its real NICs (`ip a` lists them all), docker0, and one
# veth per running container, plugged into docker0. Neither side sees the other's
# interfaces; namespaces keep them apart.
#@ expect-output docker0
ip addr show docker0

#@ expect-output "master docker0"
ip link show master docker0

# The second container is isolated the same way, with its own lo and eth0.
#@ expect-output eth0@if
docker exec test2 ip a

# Ask Docker for each container's address. The {{...}} part is Docker's Go template; the
# shell keeps the answers in variables for the next steps.
ip1=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' test1)

ip2=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' test2)

echo test1 has "$ip1", test2 has "$ip2"

# Two separate namespaces can still talk: both containers are plugged into docker0, so a
# ping by IP works in both directions.
#@ expect-output " 0% packet loss"
docker exec test1 ping -c 3 -W 2 "$ip2"

#@ expect-output " 0% packet loss"
docker exec test2 ping -c 3 -W 2 "$ip1"
