#!/usr/bin/env bash
# README command 1: install, build and start MedGrid on embedded defaults (no configuration needed).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
install_workspace
"${PNPM[@]}" --silent run build >/dev/null
exec "${PNPM[@]}" --silent exec node packages/server/dist/cli/medgrid.js start
