# syntax=docker/dockerfile:1
# MedGrid worker (store/verify/replicate/delete jobs against grid SEs). Build from the repo root:
#   docker build -f docker/worker.Dockerfile -t medgrid/worker .
ARG NODE_IMAGE=node:22-slim

FROM ${NODE_IMAGE} AS base
RUN npm install -g pnpm@12.21.0 && pnpm --version
WORKDIR /app

FROM base AS manifests
COPY package.json pnpm-workspace.yaml pnpm-lock.yaml .npmrc ./
# pnpm applies these (patchedDependencies) on every install, filtered or not.
COPY patches patches/
COPY packages/dicom/package.json packages/dicom/
COPY packages/worker/package.json packages/worker/
COPY packages/server/package.json packages/server/
COPY packages/gateway/package.json packages/gateway/
COPY packages/doctor-app/package.json packages/doctor-app/
COPY packages/admin-app/package.json packages/admin-app/
COPY e2e/package.json e2e/
COPY bench/package.json bench/

FROM manifests AS build
RUN pnpm install --frozen-lockfile --filter "@medgrid/worker..."
COPY tsconfig.base.json ./
COPY packages/worker packages/worker
RUN pnpm --filter "@medgrid/worker..." --workspace-concurrency=1 run build

FROM manifests AS prod-deps
RUN pnpm install --frozen-lockfile --prod --filter "@medgrid/worker..."

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    MEDGRID_DATA_DIR=/var/lib/medgrid
WORKDIR /app
COPY --from=prod-deps /app/node_modules node_modules
COPY --from=prod-deps /app/packages/worker/node_modules packages/worker/node_modules
COPY --from=build /app/package.json ./
COPY --from=build /app/packages/worker/package.json packages/worker/
COPY --from=build /app/packages/worker/dist packages/worker/dist
RUN mkdir -p /var/lib/medgrid && chown node:node /var/lib/medgrid
USER node
VOLUME ["/var/lib/medgrid"]
# No HTTP port yet: healthy while the worker process runs.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD grep -qs worker/dist/main.js /proc/[0-9]*/cmdline
CMD ["node", "packages/worker/dist/main.js"]
