# syntax=docker/dockerfile:1
# Stand-in for rabbitmq:3.13-management where no image registry is reachable
# (deploy/docker/compose.offline.yml): Debian's rabbitmq-server (3.10) with the same
# interface the compose file uses -- RABBITMQ_DEFAULT_USER/RABBITMQ_DEFAULT_PASS, plugins
# from /etc/rabbitmq/enabled_plugins, data in /var/lib/rabbitmq, AMQP on 5672, management on
# 15672, Prometheus metrics on 15692, rabbitmq-diagnostics for the health check.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends rabbitmq-server \
 && rm -rf /var/lib/apt/lists/*
COPY --chmod=0755 deploy/docker/offline/rabbitmq-entrypoint.sh /usr/local/bin/tizza-rabbitmq
EXPOSE 5672 15672 15692
ENTRYPOINT ["/usr/local/bin/tizza-rabbitmq"]
