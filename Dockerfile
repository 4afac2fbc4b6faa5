# eport-guide container image: docker build -t eport-guide . (see docs/operations.md).
# Python matches requirements.lock (generated with 3.11); the runtime dependencies are
# installed at exactly the locked versions, the package itself from the wheel built here.
FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY dialogs ./dialogs
COPY knowledge ./knowledge
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/eport-guide/venv/bin:$PATH \
    EPORT_GUIDE_DB=/data/eport-guide.db
COPY requirements.lock /tmp/requirements.lock
COPY --from=build /wheels /tmp/wheels
RUN python -m venv /opt/eport-guide/venv \
 && /opt/eport-guide/venv/bin/pip install --no-cache-dir -r /tmp/requirements.lock \
 && /opt/eport-guide/venv/bin/pip install --no-cache-dir --no-deps /tmp/wheels/*.whl \
 && /opt/eport-guide/venv/bin/pip check \
 && rm -rf /tmp/wheels /tmp/requirements.lock \
 && useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin eport \
 && mkdir -p /data \
 && chown eport:eport /data
USER eport
WORKDIR /data
VOLUME ["/data"]
# only used in webhook mode (EPORT_GUIDE_WEBHOOK_URL, EPORT_GUIDE_LISTEN=0.0.0.0)
EXPOSE 8443 8080
HEALTHCHECK --interval=60s --timeout=20s --start-period=60s --retries=3 CMD ["eport-guide", "health"]
STOPSIGNAL SIGTERM
CMD ["eport-guide", "run"]
