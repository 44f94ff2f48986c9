# PostgreSQL for docker-compose.postgres.yml: Debian's own `postgresql` package on the same Debian
# base as the app image (`python:3.11-slim-bookworm`, here a local stand-in; nothing else is pulled).
# No password or cluster is baked in: the entrypoint makes the cluster on the first start, with the
# password it is given then (POSTGRES_PASSWORD), on the named volume at /var/lib/postgresql/data.
ARG BASE_IMAGE=python:3.11-slim-bookworm
FROM ${BASE_IMAGE}
# Every image of ours carries the label, so what a rebuild leaves untagged can be pruned by it.
LABEL com.shopqueue.image=postgres
# Debian's package would create a cluster of its own at install time; ours is made at first start.
RUN mkdir -p /etc/postgresql-common/createcluster.d \
 && echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.d/shopqueue.conf \
 && apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql \
 && rm -rf /var/lib/apt/lists/* \
 && ln -s "/usr/lib/postgresql/$(ls /usr/lib/postgresql)/bin" /usr/lib/postgresql/bin \
 && install -d -o postgres -g postgres -m 700 /var/lib/postgresql/data \
 && install -d -o postgres -g postgres -m 2775 /var/run/postgresql
COPY postgres-entrypoint.sh /usr/local/bin/shopqueue-postgres
ENV PATH=/usr/lib/postgresql/bin:$PATH \
    PGDATA=/var/lib/postgresql/data/pgdata
USER postgres
EXPOSE 5432
# SIGINT is PostgreSQL's fast shutdown (SIGTERM would wait for every client to disconnect).
STOPSIGNAL SIGINT
ENTRYPOINT ["shopqueue-postgres"]
CMD []
