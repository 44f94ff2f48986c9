# One image for the API, the worker and the migrations (compose picks the command).
# Builds with plain `docker build` and with `docker compose build`: no syntax directive, no cache
# mounts, nothing pulled but the base image.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: a venv with the runtime dependencies, exactly as locked -------------------------------
# requirements/runtime.lock (scripts/lock.sh) pins every package, dependencies of dependencies
# included, with the sha256 of each file: pip refuses anything else (--require-hashes), and
# --no-deps makes sure nothing outside the lock comes along. The install layer is keyed on the
# lock's content, so it is reused after any change that leaves the dependencies alone.
FROM ${PYTHON_IMAGE} AS build
# Every stage carries the label, so what a rebuild leaves untagged can be pruned by it.
LABEL com.shopqueue.image=build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
COPY requirements/runtime.lock /opt/runtime.lock
# pip and setuptools are only needed to build the venv; the runtime image does without them.
RUN /opt/venv/bin/pip install --no-cache-dir --require-hashes --no-deps -r /opt/runtime.lock \
 && /opt/venv/bin/pip uninstall --yes pip setuptools

# --- runtime --------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
LABEL com.shopqueue.image=runtime
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app \
 && mkdir -p /data \
 && chown app:app /data
COPY --from=build /opt/venv /opt/venv
# The console scripts of [project.scripts] (`shopqueue`, the operator's CLI), as pip would write them:
# the project itself is not installed here (PYTHONPATH=/app), and the venv has no pip.
RUN printf '#!/opt/venv/bin/python\nimport sys\nfrom shared.cli import main\nsys.exit(main())\n' > /opt/venv/bin/shopqueue \
 && chmod 755 /opt/venv/bin/shopqueue
WORKDIR /app
COPY alembic.ini pyproject.toml ./
COPY migrations ./migrations
COPY shared ./shared
COPY api ./api
COPY worker ./worker
# PYTHONPATH: `python -m api|worker` and alembic's env.py import the code from /app, whatever the cwd.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DATABASE_URL=sqlite:////data/shop.db \
    DATA_DIR=/data
USER app
EXPOSE 8000
STOPSIGNAL SIGTERM
CMD ["python", "-m", "api"]
