# Shared by scripts/start.sh and scripts/test.sh: make pnpm 12.21.0 available and install the workspace.
PNPM_VERSION=12.21.0
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export npm_config_nodedir=${npm_config_nodedir:-/usr}

ensure_pnpm() {
  if [ "$(pnpm --version 2>/dev/null)" = "$PNPM_VERSION" ]; then PNPM=(pnpm); return; fi
  if npm install -g "pnpm@$PNPM_VERSION" >/dev/null 2>&1 && [ "$(pnpm --version 2>/dev/null)" = "$PNPM_VERSION" ]; then
    PNPM=(pnpm); return
  fi
  # No global install rights: run it through npx instead.
  PNPM=(npx -y "pnpm@$PNPM_VERSION")
}

install_workspace() {
  ensure_pnpm
  (cd "$ROOT" && "${PNPM[@]}" install --frozen-lockfile --reporter=append-only 2>&1 | grep -v "Unsupported engine" | tail -n 3)
}
