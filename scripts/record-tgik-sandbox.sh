#!/usr/bin/env bash
# Records the TGIK-002 lab's shipped recording (labs/tgik-002-networking-and-services/recordings/sandbox/) from a
# real run against a fresh `labdeck sandbox` (root, Linux): up, `lab run --skip-setup --record`, down (always,
# also on failure or Ctrl-C). The recorder redacts tokens, keys and certificate data; this script then refuses
# to keep a recording that still contains key or certificate material.
#
#   sudo scripts/record-tgik-sandbox.sh
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
lab=labs/tgik-002-networking-and-services
out="$lab/recordings/sandbox"
name="tgikrec$(($$ % 1000))"
base="$(mktemp -d "${TMPDIR:-/tmp}/labdeck-record-XXXXXX")"
labdeck=(npx tsx src/cli/run.ts)

cleanup() {
  "${labdeck[@]}" sandbox down --name "$name" --dir "$base" >/dev/null || true
  rm -rf "$base"
}
trap cleanup EXIT

"${labdeck[@]}" sandbox up --name "$name" --dir "$base" >/dev/null
tmp_out="$base/sandbox"
# The recording says where it ran: name the environment for a reader, not after this throwaway instance.
sed -i "s/^environment: .*/environment: labdeck-sandbox/" \
  "$base/$name/inventory.yaml"
"${labdeck[@]}" lab run "$lab" --inventory "$base/$name/inventory.yaml" --skip-setup \
  --data-dir "$base/data" --record "$tmp_out"

# Nothing secret may remain: private keys, certificates, kubeconfig credentials, bearer tokens.
if grep -R -n -E 'PRIVATE KEY|BEGIN CERTIFICATE|client-key-data: [A-Za-z0-9+/]|client-certificate-data: [A-Za-z0-9+/]|certificate-authority-data: [A-Za-z0-9+/]|token: [A-Za-z0-9]' "$tmp_out"; then
  echo "record-tgik-sandbox: the recording above still contains secrets; not kept" >&2
  exit 1
fi

rm -rf "$out"
mkdir -p "$(dirname "$out")"
cp -r "$tmp_out" "$out"
echo "recorded $out"
