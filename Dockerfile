# Context Recall: one image for the migrate, worker, beat and flower services.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    RECALL_HOME=/var/lib/contextrecall

RUN useradd --system --create-home --home-dir /var/lib/contextrecall recall

WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY contextrecall ./contextrecall
COPY migrations ./migrations
RUN pip install --no-cache-dir .

USER recall
ENTRYPOINT ["recall"]
CMD ["status"]
