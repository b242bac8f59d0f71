# The bus worker: consumes commands from RabbitMQ, keeps its inbox/outbox in PostgreSQL.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# A fixed, unprivileged user; it owns /app so the embedded-SQLite fallback (.data/) could be
# created, although in compose DATABASE_URL points at PostgreSQL.
RUN groupadd --system --gid 10001 worker \
    && useradd --system --uid 10001 --gid worker --home-dir /app --shell /usr/sbin/nologin worker

WORKDIR /app

COPY pyproject.toml README.md ./
COPY domain/ ./domain/
COPY worker/ ./worker/
COPY workflows/ ./workflows/

# Installed as root into the system site-packages; setuptools' build leftovers are removed
# and the source tree is handed to the runtime user.
RUN pip install --no-cache-dir . \
    && rm -rf build *.egg-info \
    && chown -R worker:worker /app

USER worker

# SIGTERM (docker stop) makes the worker finish in-flight messages for SHUTDOWN_GRACE seconds
# and flush the outbox; compose's stop_grace_period must leave room for that.
STOPSIGNAL SIGTERM
# The HTTP API and console, when the container runs `python -m worker http`.
EXPOSE 8000
CMD ["python", "-m", "worker", "run", "--migrate"]
