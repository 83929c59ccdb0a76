# syntax=docker/dockerfile:1
# A Tizza service (auth, pizza, likes or tweets): one Dockerfile for all four. Build from the
# repository root, naming the service:
#   docker build -f deploy/docker/service.Dockerfile --build-arg SERVICE=likes -t tizza/likes .
# (`make images` builds all four and the gateway.)
# Stage "build" compiles every service binary and the MongoDB store plugin on debian:bookworm
# with the -dev packages. It does not depend on SERVICE, so the four builds share it (built
# once, cached). Stage "rootfs" gathers the one binary SERVICE names, the plugin, bash and
# tizza-healthcheck with the shared libraries they load (deploy/docker/rootfs.sh), and the
# runtime image is that and nothing else, on an empty base: no package manager, no
# package list to keep in step with what the binaries link.
# Nothing secret is in the image: every setting comes from the environment at run time.

FROM debian:bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential pkg-config \
      libevent-dev libcjson-dev libsodium-dev libsqlite3-dev libmongoc-dev libbson-dev \
      librabbitmq-dev libcurl4-openssl-dev libmimalloc-dev libhttp-parser-dev libyaml-dev \
      libwebp-dev libturbojpeg0-dev libpng-dev libexif-dev libutf8proc-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile ./
COPY tools/embed.sh tools/
COPY libcommon/ libcommon/
COPY proto-docs/ proto-docs/
COPY services/ services/
RUN make -j"$(nproc)" services plugin \
 && strip --strip-unneeded build/bin/tizza-* build/lib/tizza-store-mongo.so

FROM build AS rootfs
ARG SERVICE
COPY --chmod=0755 deploy/docker/healthcheck.sh /usr/local/bin/tizza-healthcheck
COPY deploy/docker/rootfs.sh /usr/local/bin/
RUN test -n "$SERVICE" && test -x "build/bin/tizza-$SERVICE" \
 && install -D -m 0755 "build/bin/tizza-$SERVICE" "/usr/local/bin/tizza-$SERVICE" \
 && ln -s "tizza-$SERVICE" /usr/local/bin/tizza-service \
 && install -D -m 0644 build/lib/tizza-store-mongo.so /usr/local/lib/tizza-store-mongo.so \
 && sh /usr/local/bin/rootfs.sh /rootfs "/usr/local/bin/tizza-$SERVICE" \
      /usr/local/lib/tizza-store-mongo.so /usr/local/bin/tizza-healthcheck /bin/bash \
 && cp -P /usr/local/bin/tizza-service /rootfs/usr/local/bin/

FROM scratch
COPY --from=rootfs /rootfs/ /
# PORT is the service's port in SPEC §2 (`make images` reads it from services/<name>/main.c),
# which tizza-healthcheck asks and compose and the manifests set too.
ARG SERVICE
ARG PORT
ENV PATH=/usr/local/bin:/usr/bin:/bin \
    HOST=0.0.0.0 \
    PORT=${PORT} \
    TIZZA_LIB_DIR=/usr/local/lib \
    LOG_FORMAT=json
LABEL org.opencontainers.image.title="tizza-${SERVICE}"
WORKDIR /var/lib/tizza
USER 10001:10001
EXPOSE ${PORT}
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 CMD ["/usr/local/bin/tizza-healthcheck", "/health"]
ENTRYPOINT ["/usr/local/bin/tizza-service"]
CMD ["serve"]
