#!/usr/bin/env bash
# Storage worker upload benchmark against davix-put, same SE, same parallelism, same run (run by hand):
#   bench/worker/run.sh [PARALLEL]        (default 4; ROUNDS=n env for repeated rounds)
# 1. 1000 objects of 1 MiB: davix-put -r PARALLEL <dir> vs the worker's DavsBackend with PARALLEL puts
#    (keep-alive, each put verified by HEAD + Want-Digest: adler32).
# 2. One 2 GiB object: davix-put vs one worker put; the worker process's peak RSS (VmHWM).
# Results: bench/results/worker-<time>.json and the "Storage worker (bench/worker)" section of docs/benchmarks.md.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
P="${1:-4}"
ROUNDS="${ROUNDS:-1}"
work="$repo/.medgrid/bench-worker"
mkdir -p "$work" "$repo/bench/results"
cd "$repo"

"$repo/scripts/grid-se.sh" start "$work/se" >/dev/null
# shellcheck disable=SC1091
. "$work/se/se.env"
export MEDGRID_ROBOT_CERT MEDGRID_ROBOT_KEY MEDGRID_SE_CAPATH

if [ ! -f "$work/big.bin" ] || [ "$(stat -c %s "$work/big.bin")" -ne 2147483648 ]; then
  head -c 2147483648 /dev/urandom >"$work/big.bin"
fi
if [ "$(find "$work/small" -type f 2>/dev/null | wc -l)" -ne 1000 ]; then
  rm -rf "$work/small" && mkdir -p "$work/small"
  python3 -c "
import os,sys
for i in range(1000): open(os.path.join(sys.argv[1],'obj%04d'%i),'wb').write(os.urandom(1<<20))" "$work/small"
fi

pnpm --filter @medgrid/worker run build >/dev/null
bench_js="$repo/packages/worker/dist/bench/upload.bench.js"
davix_auth=(--capath "$MEDGRID_SE_CAPATH" --cert "$MEDGRID_ROBOT_CERT" --key "$MEDGRID_ROBOT_KEY")
# A fresh SE for every measurement: XRootD 5.5.3 sometimes wedges or crashes after heavy concurrent writes,
# and nothing left over from one client should slow the next.
clean() {
  "$repo/scripts/grid-se.sh" stop "$work/se"
  rm -rf "${MEDGRID_SE1_DATA:?}"/*
  "$repo/scripts/grid-se.sh" start "$work/se" >/dev/null
}
now() { date +%s.%N; }
rate() { python3 -c "import sys; b,s,e=map(float,sys.argv[1:]); print('%.1f %.2f' % (b/1e6/(e-s), e-s))" "$@"; }

results=()
for round in $(seq 1 "$ROUNDS"); do
  clean
  s=$(now)
  # davix-put -r exits 255 even when every file arrived (davix 0.8): judge it by what is on the SE.
  davix-put "${davix_auth[@]}" -r "$P" "$work/small" "$MEDGRID_SE1_HTTPS_URL/davix-small/" >/dev/null 2>&1 || true
  e=$(now)
  read -r d_small_mbps d_small_s < <(rate 1048576000 "$s" "$e")
  [ "$(du -sb "$MEDGRID_SE1_DATA/davix-small" | cut -f1)" -ge 1048576000 ] &&
    [ "$(find "$MEDGRID_SE1_DATA/davix-small" -type f | wc -l)" -eq 1000 ] || { echo "davix-put lost files" >&2; exit 1; }
  clean
  w_small="$(pnpm exec node "$bench_js" small "$work/small" "$MEDGRID_SE1_URL/worker-small" "$P" | tail -1)"
  clean
  s=$(now)
  davix-put "${davix_auth[@]}" "$work/big.bin" "$MEDGRID_SE1_HTTPS_URL/davix-big" >/dev/null
  e=$(now)
  read -r d_big_mbps d_big_s < <(rate 2147483648 "$s" "$e")
  clean
  w_big="$(pnpm exec node "$bench_js" large "$work/big.bin" "$MEDGRID_SE1_URL/worker-big" | tail -1)"
  clean
  results+=("{\"round\":$round,\"parallel\":$P,\"davixSmall\":{\"MBps\":$d_small_mbps,\"seconds\":$d_small_s},\"workerSmall\":$w_small,\"davixLarge\":{\"MBps\":$d_big_mbps,\"seconds\":$d_big_s},\"workerLarge\":$w_big}")
done

stamp="$(date -u +%Y%m%dT%H%M%SZ)"
out="$repo/bench/results/worker-$stamp.json"
printf '[%s]\n' "$(IFS=,; echo "${results[*]}")" >"$out"
echo "results: $out"

# Rewrite only this benchmark's section of docs/benchmarks.md (others own the rest of the file).
flock /tmp/medgrid-docs-benchmarks.lock python3 - "$out" "$repo/docs/benchmarks.md" "$P" <<'PY'
import json, os, re, subprocess, sys
res_path, doc, par = sys.argv[1], sys.argv[2], sys.argv[3]
rounds = json.load(open(res_path))
def v(cmd):
    try: return subprocess.run(cmd, capture_output=True, text=True, shell=True).stdout.strip().splitlines()[0]
    except Exception: return '?'
lines = ["## Storage worker (bench/worker)", "",
  f"Command: `bench/worker/run.sh {par}` (as root; starts `scripts/grid-se.sh`), "
  f"{os.cpu_count()} cores (shared with other work), XRootD {v('xrootd -v 2>&1')}, davix {v('davix-put -V 2>&1').split()[-1]}, node {rounds[0]['workerLarge'].get('node', '?')}, "
  "loopback, same SE for both clients, run one after the other. "
  "The worker's puts include its verification (`HEAD` + `Want-Digest: adler32`, size and ADLER32 compared).", "",
  f"| round | 1000 × 1 MiB, davix-put -r {par} | worker, {par} parallel | ratio | 2 GiB, davix-put | worker | ratio | worker peak RSS (2 GiB) |",
  "|---|---|---|---|---|---|---|---|"]
for r in rounds:
    ds, ws, dl, wl = r['davixSmall']['MBps'], r['workerSmall']['MBps'], r['davixLarge']['MBps'], r['workerLarge']['MBps']
    lines.append(f"| {r['round']} | {ds:.1f} MB/s | {ws:.1f} MB/s | {ws/ds:.2f} | {dl:.1f} MB/s | {wl:.1f} MB/s | {wl/dl:.2f} | {r['workerLarge']['processPeakRssMB']:.0f} MB |")
lines += ["", "Targets: ratio ≥ 0.9, peak RSS < 200 MB. Raw results: `bench/results/` (not committed).", ""]
section = "\n".join(lines)
text = open(doc).read() if os.path.exists(doc) else "# Benchmarks\n\n"
pat = re.compile(r"^## Storage worker \(bench/worker\)\n.*?(?=^## |\Z)", re.S | re.M)
text = pat.sub(lambda m: section + "\n", text) if pat.search(text) else text.rstrip("\n") + "\n\n" + section + "\n"
open(doc, "w").write(text)
print(section)
PY
