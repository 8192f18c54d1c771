#!/usr/bin/env bash
# The demo: a cluster of three testbed hosts (network namespaces on this machine, each
# with its own sshd, podman and containerd), registered with `clusterctl add-node`.
#   bash scripts/demo.sh        set up what is missing, bring the hosts up, register them
#   bash scripts/demo.sh down   remove the demo nodes and tear the hosts down
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-up}" = down ]; then
  clusterctl rm hello >/dev/null 2>&1 || true
  for n in demo-1 demo-2 demo-3; do clusterctl node rm "$n" >/dev/null 2>&1 || true; done
  npm run -s testbed -- down
  exit 0
fi

bash scripts/setup.sh

echo "== testbed: 3 hosts"
npm run -s testbed -- up 3
key=${CLUSTERCTL_TESTBED_DIR:-/tmp/clusterctl-testbed}/client/id_ed25519

echo "== clusterctl add-node"
clusterctl rm hello >/dev/null 2>&1 || true
for n in demo-1 demo-2 demo-3; do clusterctl node rm "$n" >/dev/null 2>&1 || true; done
hosts=$(mktemp)
trap 'rm -f "$hosts"' EXIT
for i in 1 2 3; do echo "root@192.168.240.1$i demo-$i"; done > "$hosts"
clusterctl add-node --from-file "$hosts" --key "$key" --label zone=lab
echo
clusterctl nodes

echo
echo "== clusterctl run: a 3-instance web service, one instance per node"
clusterctl run hello --image localhost/clusterctl-test:latest --instances 3 -p 0 --constraint hostname:UNIQUE \
  --cpus 0.1 --mem 32Mi -- sh -c 'echo "hello from instance $CLUSTERCTL_INSTANCE" > /index.html && exec httpd -f -p $PORT0 -h /'
echo
clusterctl ps hello
echo
for endpoint in $(clusterctl ps hello --json | node -e 'for (const t of JSON.parse(require("fs").readFileSync(0))) for (const p of t.ports) console.log(p.endpoint)'); do
  for _ in 1 2 3 4 5 6 7 8 9 10; do out=$(curl -s -m 2 "http://$endpoint/") && break; sleep 0.3; done
  echo "curl http://$endpoint/ -> ${out:-no answer}"
done
echo
echo "The demo cluster is up (state: ${CLUSTERCTL_DB:-${XDG_DATA_HOME:-$HOME/.local/share}/clusterctl/state.db})."
echo "Try, one command at a time:"
echo "  clusterctl node inspect demo-1"
echo "  clusterctl node inventory --all"
echo "  clusterctl scale hello 2        # hostname:UNIQUE: at most one instance per node, so at most 3 here"
echo "  clusterctl schedule --dry-run"
echo "Tear down: bash scripts/demo.sh down"
