# One image per service, all built from this file:
#   docker build --build-arg SERVICE=routing -t routing:dev .
#   docker build --build-arg SERVICE=all     -t dialog:dev .   # the single process (small site)
# SERVICE is a folder under services/ (= its package name), or `all` for every service.

# Both stages must use the same Python: the virtualenv is copied across and points at it.
# Exact tags, so a rebuild gets the same system; to move to a newer patch release, change them
# here (and pin by digest, `python:3.11.14-slim-bookworm@sha256:…`, where the registry is known).
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ghcr.io/astral-sh/uv:0.13.9 AS uv

FROM ${PYTHON_IMAGE} AS build
ARG SERVICE=all
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=0 \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src

# Dependencies first, from the lock alone, so that a code change does not reinstall them.
RUN --mount=type=cache,target=/root/.cache/uv \
    --mount=type=bind,source=uv.lock,target=uv.lock \
    --mount=type=bind,source=pyproject.toml,target=pyproject.toml \
    if [ "$SERVICE" = all ]; then packages=--all-packages; else packages="--package=$SERVICE"; fi \
    && uv sync --frozen --no-dev --no-install-workspace $packages

# Then the code: the service and the two libraries, installed as wheels (not editable), so the
# virtualenv alone is the application.
COPY pyproject.toml uv.lock ./
COPY libs libs
COPY services services
RUN --mount=type=cache,target=/root/.cache/uv \
    if [ "$SERVICE" = all ]; then packages=--all-packages; else packages="--package=$SERVICE"; fi \
    && uv sync --frozen --no-dev --no-editable $packages


FROM ${PYTHON_IMAGE} AS runtime
ARG SERVICE=all

# The receipt needs a font with the Kazakh letters, and USB printers need libusb: only the
# images that print get them; the booth's spoken prompts need espeak-ng: only the images that
# serve the booth. Their versions follow the pinned base image's Debian release (bookworm's
# security updates), so they are not pinned one by one.
# hadolint ignore=DL3008
RUN case "$SERVICE" in \
      printer-agent|all) \
        apt-get update \
        && apt-get install -y --no-install-recommends fonts-dejavu-core libusb-1.0-0 \
        && if [ "$SERVICE" = all ]; then apt-get install -y --no-install-recommends espeak-ng; fi \
        && rm -rf /var/lib/apt/lists/* ;; \
      kiosk-gateway) \
        apt-get update \
        && apt-get install -y --no-install-recommends espeak-ng \
        && rm -rf /var/lib/apt/lists/* ;; \
    esac

RUN groupadd --system --gid 10001 dialog \
    && useradd --system --uid 10001 --gid dialog --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin dialog \
    && mkdir -p /data \
    && chown dialog:dialog /data

COPY --from=build /app/.venv /app/.venv
WORKDIR /app

# `dialog run` reads its target from DIALOG_TARGET and the address from DIALOG_HOST/DIALOG_PORT,
# so the build argument reaches the exec-form CMD (which expands no variables), and
# `dialog healthcheck` asks the same port the server listens on.
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DIALOG_TARGET=${SERVICE} \
    DIALOG_HOST=0.0.0.0 \
    DIALOG_PORT=8080 \
    DIALOG_DATA_DIR=/data

USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=6s --start-period=30s --retries=3 CMD ["dialog", "healthcheck"]

# ENTRYPOINT is the program, so the other commands work too:
#   docker compose run --rm kiosk-gateway kiosk add booth-1 --location "..."
ENTRYPOINT ["dialog"]
CMD ["run"]
