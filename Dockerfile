# One image for every Conveyor service (compose.yaml picks the process with `command`), plus an
# `office` stage for docrender with LibreOffice and its system-Python UNO bridge.
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# The slides service draws Chinese text: a CJK font (the same one scripts/setup.sh installs).
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*

# Dependencies first: this layer is reused until requirements.lock changes.
COPY requirements.lock ./
RUN pip install -r requirements.lock

COPY . .
RUN pip install --no-deps -e . \
    && useradd --system --create-home --uid 10001 conveyor

USER conveyor
CMD ["python", "-m", "services.gateway"]

FROM base AS office
USER root
RUN apt-get update \
    && apt-get install -y --no-install-recommends libreoffice-writer-nogui python3-uno \
    && rm -rf /var/lib/apt/lists/*
USER conveyor
CMD ["python", "-m", "services.docrender"]
