# syntax=docker/dockerfile:1
#
# The minzheng gateway: core registry plus every installed plugin.
#
#   docker build -t minzheng-graph .
#   docker run -p 8000:8000 -e MINZHENG_JWT_SECRET=... minzheng-graph
#
# On start the container migrates the database, then serves GraphQL on port 8000.
# Configure it with MINZHENG_* variables (MINZHENG_DATABASE_URL, MINZHENG_PLUGINS, ...).
# Without MINZHENG_DATABASE_URL it uses SQLite in /var/lib/minzheng (mount a volume
# there to keep it); docker-compose.yml runs it against PostgreSQL.

# --- build: a wheel of the package ----------------------------------------------------
FROM python:3.11-slim AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

WORKDIR /src
COPY . .
RUN pip wheel --no-deps --wheel-dir /wheels .

# --- runtime ------------------------------------------------------------------------------
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    TZ=Asia/Shanghai \
    MINZHENG_DATABASE_URL=sqlite+aiosqlite:////var/lib/minzheng/minzheng.db

COPY --from=build /wheels /wheels
RUN pip install /wheels/*.whl \
    && rm -rf /wheels \
    && useradd --system --uid 10001 --user-group --create-home \
        --home-dir /var/lib/minzheng --shell /usr/sbin/nologin minzheng

USER minzheng
WORKDIR /var/lib/minzheng

EXPOSE 8000

# The slim image has no curl: probe /healthz with the standard library.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"]

# Migrate, then replace the shell with the server so it receives signals directly.
CMD ["sh", "-c", "minzheng migrate && exec minzheng serve --host 0.0.0.0 --port 8000"]
