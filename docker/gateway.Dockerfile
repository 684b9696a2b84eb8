# syntax=docker/dockerfile:1
# MedGrid DICOM gateway (DIMSE SCP, de-identification, PHI vault). Build from the repo root:
#   docker build -f docker/gateway.Dockerfile -t medgrid/gateway .
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
RUN pnpm install --frozen-lockfile --filter "@medgrid/gateway..."
COPY tsconfig.base.json ./
COPY packages/dicom packages/dicom
COPY packages/gateway packages/gateway
RUN pnpm --filter "@medgrid/gateway..." --workspace-concurrency=1 run build

FROM manifests AS prod-deps
RUN pnpm install --frozen-lockfile --prod --filter "@medgrid/gateway..."

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    MEDGRID_DATA_DIR=/var/lib/medgrid \
    MEDGRID_GATEWAY_HOST=0.0.0.0 \
    MEDGRID_GATEWAY_PORT=11112 \
    MEDGRID_GATEWAY_HTTP_PORT=8081
WORKDIR /app
COPY --from=prod-deps /app/node_modules node_modules
COPY --from=prod-deps /app/packages/dicom/node_modules packages/dicom/node_modules
COPY --from=prod-deps /app/packages/gateway/node_modules packages/gateway/node_modules
COPY --from=build /app/package.json ./
COPY --from=build /app/packages/dicom/package.json packages/dicom/
COPY --from=build /app/packages/dicom/dist packages/dicom/dist
COPY --from=build /app/packages/gateway/package.json packages/gateway/
COPY --from=build /app/packages/gateway/dist packages/gateway/dist
RUN mkdir -p /var/lib/medgrid /etc/medgrid/gateway-tls && chown node:node /var/lib/medgrid /etc/medgrid/gateway-tls
USER node
VOLUME ["/var/lib/medgrid"]
EXPOSE 11112
# The gateway's status port (loopback inside the container) answers /healthz and /metrics.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.MEDGRID_GATEWAY_HTTP_PORT||8081)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "packages/gateway/dist/main.js"]
