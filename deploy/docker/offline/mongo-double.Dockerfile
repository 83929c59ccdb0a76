# syntax=docker/dockerfile:1
# Stand-in for mongo:7.0 where no image registry is reachable (deploy/docker/compose.offline.yml):
# the project's MongoDB wire-protocol double (tests/mongo_double.py: python3-mockupdb for the
# protocol, python3-mongomock for queries, both from Debian), as the primary of the one-node
# replica set rs0 announced under the name the services' URLs use (mongo:27017). It keeps its
# data in memory only: a restart of this container loses it. A test double, never production.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-mockupdb python3-mongomock \
 && rm -rf /var/lib/apt/lists/*
COPY tests/mongo_double.py /usr/local/bin/mongo_double.py
COPY --chmod=0755 deploy/docker/offline/mongo-ping /usr/local/bin/mongo-ping
USER 65534:65534
EXPOSE 27017
HEALTHCHECK --interval=5s --timeout=3s --retries=10 CMD ["/usr/local/bin/mongo-ping"]
ENTRYPOINT ["python3", "/usr/local/bin/mongo_double.py", "--host", "0.0.0.0", "--port", "27017"]
CMD ["--advertise", "mongo:27017"]
