# One image per app, from one Dockerfile:
#   docker build --build-arg APP=config-api -t nephele/config-api .
# APP is any directory of apps/ with a src/main.ts. Works with the classic builder and BuildKit
# (docker-compose 1.x builds without BuildKit), so no RUN --mount and no COPY --parents.
ARG NODE_IMAGE=node:20-slim

# Only what `npm ci` reads (root and workspace package.json files, the lock, .npmrc), so the
# dependency layers below are rebuilt when a manifest changes, not when any source file does.
FROM ${NODE_IMAGE} AS manifests
WORKDIR /src
COPY . .
RUN find . -type f ! -name package.json ! -name package-lock.json ! -name .npmrc -delete \
 && find . -mindepth 1 -type d -empty -delete

# Every dependency, dev ones included: the build needs esbuild and @swc/core.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
ENV npm_config_update_notifier=false
COPY --from=manifests /src/ ./
RUN npm ci --no-audit --no-fund

# Production node_modules, shared by every app's image. The workspace links (@nephele/*) go:
# the bundles inline the workspace's own code, so nothing at runtime may resolve them.
FROM deps AS prod-deps
RUN npm prune --omit=dev --no-audit --no-fund \
 && rm -rf node_modules/@nephele


FROM deps AS build
COPY . .
ARG APP
# Companion bundles a process starts by path: the CPE forks dist/apps/dpe-worker/main.js
# (CPE_RUNTIME=process), the all-in-one and the local driver run dist/apps/agent/main.js.
RUN set -eu; \
    if [ -z "${APP:-}" ] || [ ! -f "apps/${APP}/src/main.ts" ]; then \
      echo "--build-arg APP=<app> is required, one of:" $(ls apps); exit 2; \
    fi; \
    case "$APP" in \
      cloud-policy-engine) companions="dpe-worker" ;; \
      nephele|iaas-gateway) companions="agent" ;; \
      *) companions="" ;; \
    esac; \
    for a in "$APP" $companions; do node tools/build.mjs "$a"; done

FROM ${NODE_IMAGE} AS runtime
ARG APP
LABEL org.opencontainers.image.title="nephele-${APP}" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production \
    NEPHELE_APP=${APP} \
    NEPHELE_MAIN=dist/apps/${APP}/main.js
WORKDIR /app
COPY --from=prod-deps /app/package.json ./package.json
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist/apps ./dist/apps
COPY deploy/docker/healthcheck.js /usr/local/lib/nephele/healthcheck.js
# Code and dependencies stay root-owned (read-only to the app); only the data directory
# (embedded database, local driver state: NEPHELE_DATA_DIR defaults to ./.nephele) is writable.
RUN mkdir -p /app/.nephele && chown node:node /app/.nephele
USER node
# Liveness, like the Kubernetes probe: /healthz on $PORT (or the app's default port); a pass for
# apps without HTTP (agent) or with a random port (dpe-worker without PORT).
HEALTHCHECK --interval=15s --timeout=4s --start-period=60s --retries=3 \
  CMD ["node", "/usr/local/lib/nephele/healthcheck.js", "/healthz"]
# Exec form cannot expand $NEPHELE_MAIN; `exec` keeps node as PID 1 so it receives SIGTERM.
# Pods and containers that give their own command (DPE pods: `node dist/apps/dpe-worker/main.js`)
# replace this CMD; the WORKDIR makes those relative paths work.
CMD ["/bin/sh", "-c", "exec node --enable-source-maps \"$NEPHELE_MAIN\""]
