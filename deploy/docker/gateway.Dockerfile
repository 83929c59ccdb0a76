# syntax=docker/dockerfile:1
# Tizza gateway -- nginx serving the web frontend and routing /api to the services.
# Build from the repository root:
#   docker build -f deploy/docker/gateway.Dockerfile -t tizza/gateway .
# Stage "web" builds the frontend (services/web, `npm run build` -> dist/; its prebuild
# copies proto-docs/events.asyncapi.yaml into it). The runtime stage is debian:bookworm-slim
# with Debian's nginx-light -- the nginx `make run` and the tests use -- running as an
# unprivileged user on :8080 with deploy/nginx's configuration (see gateway-nginx.conf),
# started by gateway-entrypoint.sh, which keeps the upstream groups on the live replicas.

FROM node:20-bookworm-slim AS web
# A registry reached through a TLS-intercepting proxy: `make images` mounts the machine's CA
# bundle into the build and names it here (an ARG: nothing of it stays in any image).
ARG NODE_EXTRA_CA_CERTS
WORKDIR /src/services/web
COPY services/web/package.json services/web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY services/web/ ./
COPY proto-docs/events.asyncapi.yaml /src/proto-docs/events.asyncapi.yaml
RUN npm run build

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends nginx-light \
 && rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled /etc/nginx/conf.d/* /var/www/html \
 && groupadd --system --gid 10001 tizza \
 && useradd --system --uid 10001 --gid tizza --home-dir /nonexistent --shell /usr/sbin/nologin tizza
COPY deploy/docker/gateway-nginx.conf /etc/nginx/nginx.conf
COPY deploy/nginx/upstreams.compose.conf /etc/nginx/upstreams.template.conf
COPY deploy/nginx/gateway.conf /etc/nginx/conf.d/default.conf
COPY --from=web /src/services/web/dist/ /usr/share/nginx/html/
COPY --chmod=0755 deploy/docker/healthcheck.sh /usr/local/bin/tizza-healthcheck
COPY --chmod=0755 deploy/docker/gateway-entrypoint.sh /usr/local/bin/tizza-gateway
# PORT is read by tizza-healthcheck only; nginx listens where gateway.conf says (8080).
ENV PORT=8080
USER 10001:10001
EXPOSE 8080
STOPSIGNAL SIGQUIT
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 CMD ["/usr/local/bin/tizza-healthcheck", "/"]
# nginx, with the upstream groups re-resolved as replicas come and go (the script's header)
ENTRYPOINT ["/usr/local/bin/tizza-gateway"]
