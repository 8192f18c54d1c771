#!/usr/bin/env bash
# The demo: a cluster of three testbed hosts (network namespaces on this machine, each
# with its own sshd, podman and containerd), registered with `clusterctl add-node`.
#   bash scripts/demo.sh        set up what is missing, bring the hosts up, register them
#   bash scripts/demo.sh down   remove the demo nodes and tear the hosts down
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-up}" = down ]; then
  for n in demo-1 demo-2 demo-3; do clusterctl node rm "$n" >/dev/null 2>&1 || true; done
  npm run -s testbed -- down
  exit 0
fi

bash scripts/setup.sh

echo "== testbed: 3 hosts"
npm run -s testbed -- up 3
key=${CLUSTERCTL_TESTBED_DIR:-/tmp/clusterctl-testbed}/client/id_ed25519

echo "== clusterctl add-node"
for n in demo-1 demo-2 demo-3; do clusterctl node rm "$n" >/dev/null 2>&1 || true; done
hosts=$(mktemp)
trap 'rm -f "$hosts"' EXIT
for i in 1 2 3; do echo "root@192.168.240.1$i demo-$i"; done > "$hosts"
clusterctl add-node --from-file "$hosts" --key "$key" --label zone=lab
echo
clusterctl nodes
echo
echo "The demo cluster is up (state: $(clusterctl nodes --json >/dev/null && echo "${CLUSTERCTL_DB:-~/.local/share/clusterctl/state.db}"))."
echo "Try: clusterctl node inspect demo-1 | clusterctl node inventory --all | clusterctl nodes --json"
echo "Tear down: bash scripts/demo.sh down"
