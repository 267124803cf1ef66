# One image for every part of the palace; compose picks the command.

# The web apps (web/): the pinned npm packages, then the build (which fails when the typed API client is
# stale against the committed API document); the runtime stage keeps only the built files.
FROM node:20.20-bookworm-slim AS web
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
COPY web ./
RUN npm run build

FROM python:3.11-slim AS build
WORKDIR /app
RUN python -m venv /venv
# the locked dependencies first, every file checked against its hash (scripts/lock makes the lock)
COPY requirements.lock ./
RUN /venv/bin/pip install --no-cache-dir --require-hashes -r requirements.lock
COPY pyproject.toml constraints.txt ./
COPY services services
COPY gateway gateway
COPY ops ops
# then palace itself, built by the locked setuptools: nothing more is downloaded
RUN /venv/bin/pip install --no-cache-dir --no-deps --no-build-isolation .

FROM python:3.11-slim
# pg_dump and pg_restore of the server's major version, for palace backup and palace restore
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-client-15 \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --home-dir /app palace
WORKDIR /app
COPY --from=build /venv /venv
COPY --from=web /web/dist web/dist
COPY services services
COPY gateway gateway
COPY ops ops
ENV PATH=/venv/bin:$PATH PYTHONUNBUFFERED=1
USER palace
