#!/usr/bin/env bash
# Installs the Debian packages rackstrap's tests and benchmarks need: iproute2 for namespaces,
# the real DHCP peers (servers and clients) the integration tests run against, avahi for mDNS
# interop, tcpdump for capture proofs, user-mode Linux for bonds and VLANs, perfdhcp/hyperfine for
# bench/, and for the Debian package: dpkg-dev (dpkg-shlibdeps), systemd (systemd-analyze
# verify/security), man-db.
# Idempotent: packages already present are skipped quickly. Needs root (apt-get).
set -euo pipefail

PACKAGES=(
  iproute2 iputils-ping iputils-arping kmod procps psmisc
  isc-dhcp-server kea-dhcp4-server kea-admin dnsmasq-base
  isc-dhcp-client udhcpc dhcpcd-base
  avahi-daemon avahi-utils dbus
  user-mode-linux busybox gcc libc6-dev
  hyperfine
  iptables
  tcpdump
  dpkg-dev systemd man-db
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup-system: all Debian packages present"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "setup-system: need root to install: ${missing[*]}" >&2
  exit 1
fi
# Installing DHCP servers must not start them as system services on this host: the tests run
# them in their own namespaces. policy-rc.d answering 101 tells invoke-rc.d "don't start".
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; created_policy=1
fi
trap '[ $created_policy = 1 ] && rm -f "$policy"' EXIT
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "setup-system: installed ${missing[*]}"
