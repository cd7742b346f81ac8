# Local stand-in for the official postgres:15 image, for machines that cannot pull it: Debian's
# postgresql-15 on the local base (infra/docker/base-rootfs.sh) with a short entrypoint that
# honours POSTGRES_USER, POSTGRES_PASSWORD and /docker-entrypoint-initdb.d.
ARG BASE_IMAGE=local/debian-py:bookworm
FROM ${BASE_IMAGE}
# No cluster from the package's post-install: the entrypoint makes one in PGDATA on first start.
RUN mkdir -p /etc/postgresql-common \
    && echo 'create_main_cluster = false' >/etc/postgresql-common/createcluster.conf \
    && apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-15 \
    && rm -rf /var/lib/apt/lists/*
COPY postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENV PGDATA=/var/lib/postgresql/data
STOPSIGNAL SIGINT
EXPOSE 5432
ENTRYPOINT ["docker-entrypoint.sh"]
