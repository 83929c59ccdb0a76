# syntax=docker/dockerfile:1
# Stand-in for prom/prometheus where no image registry is reachable
# (deploy/docker/compose.offline.yml): Debian's prometheus (2.42), entrypoint and data
# directory as in the official image, so the compose file's command and volumes apply as
# they are.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends prometheus \
 && rm -rf /var/lib/apt/lists/* \
 && install -d -o nobody -g nogroup /prometheus
USER 65534:65534
EXPOSE 9090
ENTRYPOINT ["/usr/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]
