# readq's application image: the `readq` command, the Celery workers and Flower.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN useradd --create-home --uid 10001 readq
WORKDIR /app

COPY pyproject.toml README.md ./
COPY readq ./readq
COPY config ./config
COPY tasks ./tasks
COPY workers ./workers
RUN pip install . && python -c "import readq, config.celery"

RUN mkdir /data && chown readq /data
USER readq
ENTRYPOINT ["readq"]
CMD ["--help"]
