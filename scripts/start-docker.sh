#!/usr/bin/env bash
# Start the Docker engine if it is not answering, with a local DNS resolver that knows nothing.
# Why the resolver: containers forward unknown names to the host's resolver, which is off this
# machine. dnsmasq on docker0's address answers REFUSED at once and keeps every query local.
set -euo pipefail

log_dir=${RECIPE_LOG_DIR:-/var/log}
bridge_ip=${RECIPE_DOCKER_DNS:-172.17.0.1}

if docker info >/dev/null 2>&1; then
  echo "docker: engine already running"
  exit 0
fi

if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  systemctl start docker
else
  if ! pgrep -x dnsmasq >/dev/null 2>&1 && command -v dnsmasq >/dev/null 2>&1; then
    dnsmasq --no-resolv --no-hosts --listen-address="$bridge_ip" --bind-dynamic \
      --pid-file=/run/recipe-dnsmasq.pid --log-facility="$log_dir/recipe-dnsmasq.log"
  fi
  dns_args=()
  if pgrep -x dnsmasq >/dev/null 2>&1; then
    dns_args=(--dns "$bridge_ip")
  fi
  nohup dockerd "${dns_args[@]}" >"$log_dir/dockerd.log" 2>&1 &
fi

for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    echo "docker: engine ready"
    exit 0
  fi
  sleep 0.5
done
echo "docker: engine did not start; see $log_dir/dockerd.log" >&2
exit 1
