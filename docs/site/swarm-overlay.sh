#!/usr/bin/env bash
# swarm-overlay: Containers on two hosts on one Swarm overlay network
#
# A user-defined bridge network stops at the edge of its host. When a lab
# outgrows one host, Docker's answer is an overlay network: Swarm mode joins
# the engines of several hosts, and an overlay network spans them, carrying
# container traffic between hosts in VXLAN. This lab makes the first host a
# Swarm manager and the second a worker, creates an attachable overlay
# network, starts a busybox container on each host attached to it, and pings
# each container from the other by name: Docker's embedded DNS knows the
# containers of the whole overlay. The worker's join token travels from the
# manager over the node network, served once by a container. Run it on two
# hosts: recipe run swarm-overlay --host docker-node1 --host docker-node2.
#
# Rendered by recipe 0.1.0. Parameters:
#   manager=192.168.205.10
#   network=my-overlay
#   c1=test1
#   c2=test2
#   image=busybox
#   handoff=swarm-token
#   handoff_port=7000
#   count=3
#
# Hosts:         docker-node1, docker-node2; each step names its host (#@ on HOST).
# Run it:        recipe run lab.sh --host docker-node1 --host docker-node2
#                (`recipe hosts up` makes docker-node1/2 on this machine)
# By hand:       type each step, in order, in a root shell on the host it names.
# Plain `bash lab.sh` refuses: it would run every step on one machine.
#
#@ recipe swarm-overlay
#@ param manager=192.168.205.10
#@ param network=my-overlay
#@ param c1=test1
#@ param c2=test2
#@ param image=busybox
#@ param handoff=swarm-token
#@ param handoff_port=7000
#@ param count=3
#@ timeout 60
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
! docker container inspect test1 >/dev/null 2>&1 || taken 'container test1 already exists; remove it or choose another name with --set'
! docker container inspect swarm-token >/dev/null 2>&1 || taken 'container swarm-token already exists; remove it or choose another name with --set'
! docker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null | grep -qxE 'active|pending|locked|error' || taken 'this host is in a Docker Swarm already, which the teardown would leave; run docker swarm leave there first, or use another host'
! docker network inspect docker_gwbridge >/dev/null 2>&1 || taken 'Docker network docker_gwbridge already exists; remove it or choose another name with --set'
#@ end-guard

#@ guard on docker-node2
# Stop before anything changes if a name this lab creates is taken: the teardown would remove it.
taken() { echo "lab.sh: $1" >&2; exit 2; }
! docker container inspect test2 >/dev/null 2>&1 || taken 'container test2 already exists; remove it or choose another name with --set'
! docker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null | grep -qxE 'active|pending|locked|error' || taken 'this host is in a Docker Swarm already, which the teardown would leave; run docker swarm leave there first, or use another host'
! docker network inspect docker_gwbridge >/dev/null 2>&1 || taken 'Docker network docker_gwbridge already exists; remove it or choose another name with --set'
#@ end-guard

#@ guard
# Stop before anything changes if a name this lab creates is taken: the teardown would remove it.
taken() { echo "lab.sh: $1" >&2; exit 2; }
! docker network inspect my-overlay >/dev/null 2>&1 || taken 'Docker network my-overlay already exists; remove it or choose another name with --set'
#@ end-guard

#@ teardown
# Teardown: runs when this script exits, also after a failed step or Ctrl-C.
# Each command tolerates a lab that is already gone, so it is safe to run twice.
teardown() {
  set +e
  #@ on docker-node1
  docker rm -f test1 swarm-token 2>/dev/null
  #@ on docker-node2
  docker rm -f test2 2>/dev/null
  #@ on docker-node2
  docker swarm leave --force 2>/dev/null
  #@ on docker-node1
  docker network rm my-overlay 2>/dev/null
  #@ on docker-node1
  docker swarm leave --force 2>/dev/null
  # Swarm mode left a bridge behind on each host for the overlay containers' outside traffic.
  #@ on docker-node1
  docker network rm docker_gwbridge 2>/dev/null
  #@ on docker-node2
  docker network rm docker_gwbridge 2>/dev/null
}
trap teardown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
#@ end-teardown

#@ steps
# Swarm mode turns the first host's engine into a manager. It advertises the node-network address,
# the one the other host can reach.
#@ on docker-node1
#@ expect-output "Swarm initialized"
docker swarm init --advertise-addr 192.168.205.10

# A worker needs the join token, a secret of the manager. Hand it over the node network once: a
# container on the manager serves it to the first connection, then exits.
#@ on docker-node1
docker run -d --name swarm-token -p 192.168.205.10:7000:7000 -e TOKEN="$(docker swarm join-token -q worker)" busybox sh -c 'echo "$TOKEN" | nc -l -p 7000'

#@ on docker-node2
#@ expect-match "^SWMTKN-"
token=$(docker run --rm busybox nc 192.168.205.10 7000) && echo "${token%%-*}-..."

#@ on docker-node2
#@ expect-output "joined a swarm as a worker"
docker swarm join --token "$token" 192.168.205.10:2377

# Both engines are now nodes of one Swarm. The manager lists them, and both are Ready.
#@ on docker-node1
#@ expect-match docker-node2\s+Ready
docker node ls

# An overlay network is created on the manager and spans every node. --attachable lets plain
# `docker run` containers join it, not only Swarm services.
#@ on docker-node1
docker network create -d overlay --attachable my-overlay

#@ on docker-node1
docker run -d --name test1 --network my-overlay busybox sh -c 'while true; do sleep 3600; done'

# The worker learns about the network from the manager when a container asks to join it.
#@ on docker-node2
docker run -d --name test2 --network my-overlay busybox sh -c 'while true; do sleep 3600; done'

#@ on docker-node2
#@ expect-output "overlay"
docker network inspect --format '{{.Name}} {{.Driver}} {{.Scope}}' my-overlay

# Each container reaches the other, on the other host, by name: the embedded DNS answers for the
# whole overlay, and the packets cross between the hosts in VXLAN.
#@ on docker-node2
#@ expect-output " 0% packet loss"
docker exec test2 ping -c 3 test1

# Then one matrix across both hosts: each container reaches the other over the overlay.
#@ reach
#@ on docker-node1
#@ expect-output " 0% packet loss"
docker exec test1 ping -c 3 test2
