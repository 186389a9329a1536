# promobot: slim runtime image (mlflow-skinny, not the full mlflow), running as a non-root user.
# The install lines below are the README's "Installing on a server" steps, word for word;
# tests/test_packaging.py fails when the two drift apart (no Docker engine runs in CI).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATABASE_URL=sqlite:////data/promobot.db \
    MLFLOW_TRACKING_URI=sqlite:////data/mlflow.db \
    PORT=3000

RUN useradd --create-home --uid 10001 promobot && mkdir /data && chown promobot /data
WORKDIR /app

# Dependency layer first, from pyproject.toml alone, so source changes do not reinstall it.
COPY pyproject.toml ./
COPY scripts/runtime_requirements.py ./scripts/
RUN python scripts/runtime_requirements.py --extra postgres > /tmp/promobot-requirements.txt \
    && pip install -r /tmp/promobot-requirements.txt

COPY README.md ./
COPY bot ./bot
COPY storage ./storage
RUN pip install --no-deps .

USER promobot
WORKDIR /data
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os,urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\",\"3000\")}/healthz', timeout=4)"
ENTRYPOINT ["promobot", "serve"]
