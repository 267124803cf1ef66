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
COPY pyproject.toml constraints.txt ./
COPY services services
COPY gateway gateway
COPY ops ops
RUN /venv/bin/pip install --no-cache-dir -c constraints.txt .

FROM python:3.11-slim
RUN useradd --system --uid 10001 --home-dir /app palace
WORKDIR /app
COPY --from=build /venv /venv
COPY --from=web /web/dist web/dist
COPY config.yaml ./
COPY services services
COPY gateway gateway
COPY ops ops
ENV PATH=/venv/bin:$PATH PYTHONUNBUFFERED=1
USER palace
