# eport-guide container image: docker build -t eport-guide . (see docs/operations.md).
# Python matches requirements.lock (generated with 3.11); the runtime dependencies are
# installed at exactly the locked versions, the package itself from the wheel built here.
# The base image: pin it by digest for reproducible builds, e.g.
#   docker build --build-arg PYTHON_IMAGE=python:3.11-slim-bookworm@sha256:<digest> .
# (the digest: `docker buildx imagetools inspect python:3.11-slim-bookworm`; docs/operations.md).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
# every package directory of pyproject.toml ([tool.setuptools] packages), with its data files
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY dialogs ./dialogs
COPY knowledge ./knowledge
COPY web ./web
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM ${PYTHON_IMAGE}
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/eport-guide/venv/bin:$PATH \
    EPORT_GUIDE_DB=/data/eport-guide.db
# The locked dependencies in a layer of their own, before any code: a code change does not
# reinstall them (the layer is rebuilt only when requirements.lock or the base image changes).
COPY requirements.lock /tmp/requirements.lock
RUN python -m venv /opt/eport-guide/venv \
 && /opt/eport-guide/venv/bin/pip install --no-cache-dir -r /tmp/requirements.lock \
 && rm /tmp/requirements.lock \
 && useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin eport \
 && mkdir -p /data \
 && chown eport:eport /data
# The package itself, from the wheel of the build stage.
COPY --from=build /wheels /tmp/wheels
RUN /opt/eport-guide/venv/bin/pip install --no-cache-dir --no-deps /tmp/wheels/*.whl \
 && /opt/eport-guide/venv/bin/pip check \
 && rm -rf /tmp/wheels
USER eport
WORKDIR /data
VOLUME ["/data"]
# only used in webhook mode (EPORT_GUIDE_WEBHOOK_URL, EPORT_GUIDE_LISTEN=0.0.0.0) and by `eport-guide web`
EXPOSE 8443 8080
HEALTHCHECK --interval=60s --timeout=20s --start-period=60s --retries=3 CMD ["eport-guide", "health"]
STOPSIGNAL SIGTERM
CMD ["eport-guide", "run"]
