# LDN Diary: migrates the database, then serves on port 8000.
#   docker build -t ldn-diary . && docker run -p 8000:8000 -e SECRET_KEY=... -v ldn-data:/app/data ldn-diary
# Behind a proxy or load balancer, set FORWARDED_ALLOW_IPS to its address (uvicorn reads it) so
# the client's address and HTTPS come from its X-Forwarded-* headers, and only from it. With
# several containers on one PostgreSQL, set MIGRATE_ON_START=0 and migrate once per release
# (`docker run --rm ... ldn-diary alembic upgrade head`).
# Reminders: each container starts one sender beside the web server (REMINDERS=1, the default;
# several senders on one PostgreSQL still send each reminder once). Or set REMINDERS=0 on the
# web containers and run the sender in its own: `docker run ... ldn-diary python -m app.reminders run`.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    ENVIRONMENT=production \
    PORT=8000 \
    FORWARDED_ALLOW_IPS=127.0.0.1 \
    MIGRATE_ON_START=1 \
    REMINDERS=1

# WeasyPrint (the doctor's PDF) renders text with Pango and HarfBuzz; DejaVu is the PDF's font.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 1000 diary
WORKDIR /app
COPY pyproject.toml README.md ./
COPY app ./app
RUN pip install --no-cache-dir .
COPY alembic.ini ./
COPY migrations ./migrations
COPY templates ./templates
COPY static ./static
RUN mkdir -p /app/data && chown diary:diary /app/data
USER diary
VOLUME ["/app/data"]
EXPOSE 8000

CMD ["sh", "-c", "if [ \"$MIGRATE_ON_START\" = 1 ]; then alembic upgrade head || exit 1; fi; if [ \"$REMINDERS\" = 1 ]; then python -m app.reminders run & fi; exec uvicorn app.main:app --host 0.0.0.0 --port ${PORT} --proxy-headers"]
