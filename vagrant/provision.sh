#!/usr/bin/env bash
# Provision one Docker node for the labs: Docker from the distribution, the lab tools, and the
# vagrant user in the docker group. Runs as root on first `vagrant up`; safe to run again.
set -euo pipefail

node=${1:-$(hostname)}

if command -v apt-get >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  # docker.io is Debian's own Docker engine: no third-party repository or key to trust.
  apt-get install -y -q docker.io iproute2 iputils-ping bridge-utils tcpdump busybox-static \
    procps iptables telnet
elif command -v yum >/dev/null 2>&1; then
  # CentOS 7 (end-of-life): its own repositories only carry an old Docker (1.13); good enough for
  # the walkthrough, which predates Swarm mode's overlay tricks. Prefer the Debian box.
  if grep -q 'release 7' /etc/centos-release 2>/dev/null; then
    sed -i -e 's/^mirrorlist=/#mirrorlist=/' \
      -e 's|^#baseurl=http://mirror.centos.org|baseurl=http://vault.centos.org|' \
      /etc/yum.repos.d/CentOS-*.repo
  fi
  yum install -y -q docker iproute bridge-utils tcpdump telnet procps-ng iptables
else
  echo "provision: no apt-get or yum on ${node}; install Docker by hand" >&2
  exit 1
fi

if command -v systemctl >/dev/null 2>&1; then
  systemctl enable --now docker
fi
getent group docker >/dev/null || groupadd docker
usermod -aG docker vagrant

# recipe runs root steps with `sudo -n`: the Vagrant boxes already give vagrant passwordless sudo.
sudo -n -u vagrant sudo -n true

docker version --format "provision: ${node} runs Docker {{.Server.Version}}"
