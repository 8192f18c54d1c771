#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine (as root) for clusterctl and its testbed:
# the system packages the testbed hosts need, the npm dependencies, the build,
# and `clusterctl` on PATH. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "scripts/setup.sh installs system packages and must run as root (try: sudo bash scripts/setup.sh)." >&2
  exit 1
fi

packages=(openssh-server openssh-client podman runc catatonit busybox-static containerd iproute2 iptables tmux procps util-linux curl sudo haproxy
  golang-github-containernetworking-plugin-dnsname)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The distribution's units are not wanted: the testbed starts its own sshd and containerd per host,
# and clusterctl runs the edge proxies itself (haproxy is here for `haproxy -c` in the unit tests
# and the testbed's edge image; docs/endpoints.md).
systemctl disable --now containerd >/dev/null 2>&1 || true
systemctl disable --now haproxy >/dev/null 2>&1 || true

# npm ci starts from scratch (and rebuilds better-sqlite3, about 80 s): skip it when
# node_modules already holds exactly what package-lock.json says.
if [ -f node_modules/.package-lock.json ] && [ ! package-lock.json -nt node_modules/.package-lock.json ] && [ -d node_modules/better-sqlite3/build ]; then
  echo "== npm ci: node_modules is up to date"
else
  echo "== npm ci"
  npm ci --no-audit --no-fund
fi

echo "== build"
npm run -s build

echo "== link clusterctl onto PATH"
npm link --no-audit --no-fund >/dev/null
command -v clusterctl >/dev/null && echo "clusterctl is $(command -v clusterctl)"
