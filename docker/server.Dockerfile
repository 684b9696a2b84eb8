# syntax=docker/dockerfile:1
# MedGrid server (HTTP, GraphQL, DICOMweb) with both built SPAs. Build from the repo root:
#   docker build -f docker/server.Dockerfile -t medgrid/server .
ARG NODE_IMAGE=node:22-slim

FROM ${NODE_IMAGE} AS base
# pnpm 12 is a native executable; the npm package installs it without corepack.
RUN npm install -g pnpm@12.21.0 && pnpm --version
WORKDIR /app

# Manifests first so the dependency layer is cached until a manifest or the lockfile changes.
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
COPY packages/web-common/package.json packages/web-common/
COPY e2e/package.json e2e/
COPY bench/package.json bench/

FROM manifests AS build
RUN pnpm install --frozen-lockfile
COPY tsconfig.base.json ./
COPY packages/dicom packages/dicom
COPY packages/worker packages/worker
COPY packages/gateway packages/gateway
COPY packages/server packages/server
COPY packages/doctor-app packages/doctor-app
COPY packages/admin-app packages/admin-app
COPY packages/web-common packages/web-common
RUN pnpm --filter "@medgrid/server..." --filter @medgrid/doctor-app --filter @medgrid/admin-app \
      --workspace-concurrency=1 run build

# Production dependencies only, for the server and the workspace packages it imports (dicom, worker, gateway).
FROM manifests AS prod-deps
RUN pnpm install --frozen-lockfile --prod --filter "@medgrid/server..."

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    MEDGRID_ENV=production \
    MEDGRID_DATA_DIR=/var/lib/medgrid \
    MEDGRID_HOST=0.0.0.0 \
    MEDGRID_PORT=8080
WORKDIR /app
# Keep the monorepo layout so the server finds packages/*-app/dist where it does in development.
COPY --from=prod-deps /app/node_modules node_modules
COPY --from=prod-deps /app/packages/dicom/node_modules packages/dicom/node_modules
COPY --from=prod-deps /app/packages/worker/node_modules packages/worker/node_modules
COPY --from=prod-deps /app/packages/gateway/node_modules packages/gateway/node_modules
COPY --from=prod-deps /app/packages/server/node_modules packages/server/node_modules
COPY --from=build /app/package.json ./
COPY --from=build /app/packages/dicom/package.json packages/dicom/
COPY --from=build /app/packages/dicom/dist packages/dicom/dist
COPY --from=build /app/packages/worker/package.json packages/worker/
COPY --from=build /app/packages/worker/dist packages/worker/dist
COPY --from=build /app/packages/gateway/package.json packages/gateway/
COPY --from=build /app/packages/gateway/dist packages/gateway/dist
COPY --from=build /app/packages/server/package.json packages/server/
COPY --from=build /app/packages/server/dist packages/server/dist
COPY --from=build /app/packages/doctor-app/dist packages/doctor-app/dist
COPY --from=build /app/packages/admin-app/dist packages/admin-app/dist
# /var/lib/medgrid-gateway-tls: where `admin service-credentials` writes the gateway's PEM files (compose gateway-credentials).
RUN mkdir -p /var/lib/medgrid /var/lib/medgrid-gateway-tls && chown node:node /var/lib/medgrid /var/lib/medgrid-gateway-tls
USER node
VOLUME ["/var/lib/medgrid"]
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.MEDGRID_PORT||8080)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Migrations first (idempotent), then `serve`: the HTTP server only; the worker and gateway have their own images.
CMD ["sh", "-c", "node packages/server/dist/cli/medgrid.js db migrate && exec node packages/server/dist/cli/medgrid.js serve"]
