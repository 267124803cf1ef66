# One image for every part of the palace; compose picks the command.
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
COPY config.yaml ./
COPY services services
COPY gateway gateway
COPY ops ops
ENV PATH=/venv/bin:$PATH PYTHONUNBUFFERED=1
USER palace
