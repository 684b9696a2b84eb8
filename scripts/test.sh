#!/usr/bin/env bash
# README command 2: the full test suite (every package, then the browser tests) on a fresh machine.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
bash scripts/system-deps.sh
install_workspace
echo "== build"; "${PNPM[@]}" run build
echo "== type-check"; "${PNPM[@]}" run check
echo "== lint"; "${PNPM[@]}" run lint
echo "== tests"; "${PNPM[@]}" test
