# The kpledger API: `docker compose up` (docker-compose.yml) runs it on PostgreSQL.
# Build stage: node/npm for the browser files (ui/package-lock.json), then kpledger and its
# pinned dependencies into a virtual environment. Final stage: that environment, non-root.
FROM python:3.11.13-slim-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends nodejs npm \
        pkg-config libicu-dev g++ \
    && rm -rf /var/lib/apt/lists/*
# (ICU: PyICU, which rigour's name matching needs, is built against it)
WORKDIR /src
COPY ui/package.json ui/package-lock.json ui/
RUN cd ui && npm ci --no-audit --no-fund --loglevel=error
COPY pyproject.toml README.md ./
COPY api api
COPY ledger ledger
COPY projections projections
COPY worlds worlds
COPY witness witness
COPY scripts/copy-assets scripts/docker-entrypoint scripts/
RUN scripts/copy-assets \
    && python -m venv /opt/kpledger \
    && /opt/kpledger/bin/pip install --no-cache-dir /src

FROM python:3.11.13-slim-bookworm
RUN apt-get update \
    && apt-get install -y --no-install-recommends libicu72 \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --create-home --home-dir /var/lib/kpledger kpledger
COPY --from=build /opt/kpledger /opt/kpledger
COPY --from=build /src/scripts/docker-entrypoint /usr/local/bin/kpledger-entrypoint
ENV PATH=/opt/kpledger/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    KPLEDGER_SIGNING_KEY=/run/secrets/kpledger_signing_key
USER kpledger
WORKDIR /var/lib/kpledger
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health/ready', timeout=2).status != 200)"]
ENTRYPOINT ["kpledger-entrypoint"]
CMD ["kpledger", "serve", "--host", "0.0.0.0", "--port", "8000"]
