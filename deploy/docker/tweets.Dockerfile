# syntax=docker/dockerfile:1
# Tizza tweets -- short posts (API v2). Build from the repository root:
#   docker build -f deploy/docker/tweets.Dockerfile -t tizza/tweets .
# Stage "build" compiles the binary and the MongoDB store plugin on debian:bookworm with the
# -dev packages; the runtime stage is debian:bookworm-slim with only the shared libraries
# they load (tests/static checks this list against `readelf -d` of the real binaries).
# Nothing secret is in the image: every setting comes from the environment at run time.

FROM debian:bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential pkg-config \
      libevent-dev libcjson-dev libsodium-dev libsqlite3-dev libmongoc-dev libbson-dev \
      librabbitmq-dev libcurl4-openssl-dev libmimalloc-dev libhttp-parser-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile ./
COPY tools/embed.sh tools/
COPY libcommon/ libcommon/
COPY proto-docs/ proto-docs/
COPY services/tweets/ services/tweets/
RUN make -j"$(nproc)" build/bin/tizza-tweets build/lib/tizza-store-mongo.so \
 && strip --strip-unneeded build/bin/tizza-tweets build/lib/tizza-store-mongo.so

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libevent-2.1-7 libevent-pthreads-2.1-7 libcjson1 libsodium23 libsqlite3-0 \
      libbson-1.0-0 librabbitmq4 libcurl4 libmongoc-1.0-0 libmimalloc2.0 libhttp-parser2.9 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 tizza \
 && useradd --system --uid 10001 --gid tizza --home-dir /var/lib/tizza --shell /usr/sbin/nologin tizza \
 && install -d -o tizza -g tizza -m 0750 /var/lib/tizza /var/lib/tizza/var
COPY --from=build /src/build/bin/tizza-tweets /usr/local/bin/tizza-tweets
COPY --from=build /src/build/lib/tizza-store-mongo.so /usr/local/lib/tizza-store-mongo.so
COPY --chmod=0755 deploy/docker/healthcheck.sh /usr/local/bin/tizza-healthcheck
ENV PORT=8004 \
    HOST=0.0.0.0 \
    TIZZA_LIB_DIR=/usr/local/lib \
    LOG_FORMAT=json
WORKDIR /var/lib/tizza
USER 10001:10001
EXPOSE 8004
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 CMD ["/usr/local/bin/tizza-healthcheck", "/health"]
ENTRYPOINT ["/usr/local/bin/tizza-tweets"]
CMD ["serve"]
