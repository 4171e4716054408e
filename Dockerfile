# syntax=docker/dockerfile:1
#
# One image for every service; the command chooses which one runs:
#   docker run IMAGE                                    -> the api (default CMD)
#   docker run IMAGE node services/worker/dist/main.js
#   docker run IMAGE node services/gateway/dist/main.js
# Configuration comes only from the environment (see docker-compose.yml). Health checks are defined
# in docker-compose.yml, where each service's port is known.
#
# The `edge` target is the nginx edge with the built web page in it (docker-compose.yml builds it
# with `target: edge`). `runtime` stays the last stage, so a build without a target is the services'.

ARG NODE_IMAGE=node:20-bookworm-slim
# >= 1.27.3 for `resolve` on upstream server lines in open-source nginx.
ARG NGINX_IMAGE=nginx:1.28-alpine

# ---- manifests: package.json files only, laid out as in the repository ----
# This stage reruns whenever any file changes, but its output changes only when a manifest does,
# so the `npm ci` layers below stay cached across code-only changes. (COPY globs would flatten
# packages/*/package.json into one directory; COPY --parents is still a labs feature.)
FROM ${NODE_IMAGE} AS manifests
WORKDIR /src
COPY . .
RUN mkdir /manifests \
    && cp package.json package-lock.json /manifests/ \
    && for manifest in packages/*/package.json services/*/package.json web/package.json bench/package.json; do \
         mkdir -p "/manifests/$(dirname "$manifest")" && cp "$manifest" "/manifests/$manifest"; \
       done

# ---- build: every dependency, then `tsc -b` over all project references ----
FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
COPY --from=manifests /manifests/ ./
RUN --mount=type=cache,target=/root/.npm npm ci
COPY tsconfig.base.json tsconfig.json ./
COPY packages/ packages/
COPY services/ services/
# Collect only the dist/ folders, keeping their paths, for the runtime stage, and the store's Lua
# scripts, which its dist/ reads from ../lua at start-up (packages/store/src/load-lua-script.ts).
RUN npx tsc -b \
    && mkdir /out \
    && for dir in packages/* services/*; do \
         if [ -d "$dir/dist" ]; then mkdir -p "/out/$dir" && cp -R "$dir/dist" "/out/$dir/dist"; fi; \
       done \
    && cp -R packages/store/lua /out/packages/store/lua \
    && find /out -name '*.tsbuildinfo' -delete

# ---- prod-deps: runtime dependencies of every workspace, no compiler, no test tools ----
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
ENV npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
COPY --from=manifests /manifests/ ./
# Workspaces are installed too: node_modules/@chat/* become links to packages/* and services/*,
# which the runtime stage fills with their dist/ folders.
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev

# ---- web: the chat page, bundled by esbuild (web/build.mjs) from web/src and @chat/client's dist ----
FROM build AS web
COPY web/ web/
# tsc -b only type-checks the SDK; its own build bundles packages/client/dist/index.js.
RUN node packages/client/scripts/build.mjs && node web/build.mjs

# ---- edge: nginx with the page; the config comes from deploy/nginx/nginx.conf.template (compose) ----
FROM ${NGINX_IMAGE} AS edge
# EDGE_WEB_ROOT in docker-compose.yml points here. Only the page's files: no sources, no map.
COPY --from=web /app/web/public/index.html /app/web/public/styles.css /app/web/public/app.js /srv/chat-web/

# ---- runtime ----
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=prod-deps /app/ ./
COPY --from=build /out/ ./
# Everything stays owned by root and read-only to the service: it writes nothing to disk.
USER node
# api, worker (health/metrics only), gateway
EXPOSE 3000 3001 8081
CMD ["node", "services/api/dist/main.js"]
