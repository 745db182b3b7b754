#!/usr/bin/env bash
# Start the Docker engine if it is not answering, with a local DNS resolver that knows nothing.
# Why the resolver: containers forward unknown names to the host's resolver, which is off this
# machine. dnsmasq on docker0's address answers REFUSED at once and keeps every query local.
#
# With systemd, the docker service is started as installed (its own DNS settings). Without
# systemd (containers, CI VMs), dnsmasq and dockerd run in the background, logs in
# $RECIPE_LOG_DIR (default /var/log). Safe to run again: a running engine is left alone.
set -euo pipefail

log_dir=${RECIPE_LOG_DIR:-/var/log}
bridge_ip=${RECIPE_DOCKER_DNS:-172.17.0.1}
dns_pid=/run/recipe-dnsmasq.pid

if docker info >/dev/null 2>&1; then
  echo "docker: engine already running"
  exit 0
fi
if ! command -v dockerd >/dev/null 2>&1; then
  echo "docker: dockerd is not installed; run scripts/install.sh (or apt-get install docker.io)" >&2
  exit 1
fi

running() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  systemctl start docker
else
  mkdir -p "$log_dir"
  # Our own dnsmasq, found by its pid file: another resolver on the machine is not ours to use.
  if ! running "$dns_pid" && command -v dnsmasq >/dev/null 2>&1; then
    # --bind-dynamic: docker0 (and so its address) may appear only once dockerd is up.
    dnsmasq --no-resolv --no-hosts --listen-address="$bridge_ip" --bind-dynamic \
      --pid-file="$dns_pid" --log-facility="$log_dir/recipe-dnsmasq.log"
    # dnsmasq writes its pid file after it forks; wait for it before deciding on --dns.
    for _ in $(seq 1 20); do running "$dns_pid" && break; sleep 0.1; done
  fi
  dns_args=()
  if running "$dns_pid"; then
    dns_args=(--dns "$bridge_ip")
  else
    echo "docker: no dnsmasq (apt-get install dnsmasq-base); containers will ask the host's resolver" >&2
  fi
  # A dockerd that died leaves its pid file; a stale one keeps the next from starting.
  if [ -f /var/run/docker.pid ] && ! running /var/run/docker.pid; then
    rm -f /var/run/docker.pid
  fi
  nohup dockerd "${dns_args[@]}" >>"$log_dir/dockerd.log" 2>&1 &
fi

for _ in $(seq 1 120); do
  if docker info >/dev/null 2>&1; then
    echo "docker: engine ready"
    exit 0
  fi
  sleep 0.5
done
echo "docker: engine did not start within 60 s; see $log_dir/dockerd.log" >&2
exit 1
