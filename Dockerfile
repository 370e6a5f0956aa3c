# syntax=docker/dockerfile:1
#
# Production image of the credential registry portal: web (gunicorn), Celery worker and beat all
# run from this one image; docker-compose.yml chooses the command. See docs/deploy.md.
#
# Written for deployment, not built on the development machines (they have no Docker engine).

# --- base: Python plus the runtime Debian libraries, shared by both stages below ---------------
FROM python:3.11-slim-bookworm AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=portal.settings \
    STATIC_ROOT=/app/staticfiles \
    PORTAL_MEDIA_ROOT=/srv/portal/media

RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libmagic1 \
        fonts-noto-cjk \
        libpango-1.0-0 \
        libpangoft2-1.0-0 \
        libharfbuzz-subset0 \
    && rm -rf /var/lib/apt/lists/*

# Unprivileged account that runs every process. Its home is writable (fontconfig cache etc.);
# the application code in /app stays owned by root and read-only for it.
RUN groupadd --system --gid 10001 portal \
    && useradd --system --uid 10001 --gid portal --create-home --home-dir /home/portal \
        --shell /usr/sbin/nologin portal

# --- build: dependencies, translations and static files --------------------------------------
FROM base AS build

RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*

RUN python -m venv /opt/venv

WORKDIR /app

# Dependencies first, so that this layer is reused while only the code changes.
# The project declares `packages = []`: installing "." installs just its dependencies.
COPY pyproject.toml requirements.lock ./
RUN pip install --no-cache-dir -c requirements.lock . \
    && rm -rf build ./*.egg-info

COPY . .

# The settings refuse to load with DEBUG off unless they get real-looking secrets. These values
# are throwaway, build-only placeholders: they are exported inside this single RUN and never
# reach the final image's environment. Nothing here connects to the database.
RUN export DEBUG=false \
        SECRET_KEY="build-only-placeholder-not-a-secret-0123456789abcdefghijklmnop" \
        DATABASE_URL="postgres://x@localhost/x" \
        FIELD_ENCRYPTION_SALTS="build-only-placeholder-salt" \
        ID_HASH_KEY="build-only-placeholder-id-hash-key" \
    && mkdir -p locale \
    && python manage.py compilemessages --ignore=.venv --ignore=var \
    && python manage.py collectstatic --noinput \
    && find /app -name '__pycache__' -type d -prune -exec rm -rf {} +

# --- runtime ---------------------------------------------------------------------------------
FROM base AS runtime

COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app

# Mount points of the named volumes. Docker copies this ownership into a fresh named volume,
# so the unprivileged user can write uploads and the beat schedule.
RUN mkdir -p /srv/portal/media /var/lib/portal \
    && chown portal:portal /srv/portal/media /var/lib/portal \
    && chmod 0750 /srv/portal/media /var/lib/portal

WORKDIR /app
USER portal

EXPOSE 8000

# With DEBUG off, Django redirects plain HTTP to HTTPS (SECURE_SSL_REDIRECT) and rejects Host
# headers outside ALLOWED_HOSTS. The probe therefore says it came through the TLS proxy
# (X-Forwarded-Proto: https, trusted through SECURE_PROXY_SSL_HEADER) and uses the first entry
# of ALLOWED_HOSTS as Host. /healthz answers 200 only when PostgreSQL and Redis are up.
# Worker, beat and migrate containers override or disable this check (see docker-compose.yml).
HEALTHCHECK --interval=30s --timeout=10s --start-period=40s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request as u; h = (os.environ.get('ALLOWED_HOSTS') or 'localhost').split(',')[0].strip().lstrip('.'); h = 'localhost' if h in ('', '*') else h; r = u.Request('http://127.0.0.1:8000/healthz', headers={'Host': h, 'X-Forwarded-Proto': 'https'}); sys.exit(0 if u.urlopen(r, timeout=8).status == 200 else 1)"]

CMD ["gunicorn", "portal.wsgi:application", \
     "--bind", "0.0.0.0:8000", \
     "--workers", "3", \
     "--timeout", "60", \
     "--graceful-timeout", "30", \
     "--keep-alive", "5", \
     "--max-requests", "1000", \
     "--max-requests-jitter", "100", \
     "--worker-tmp-dir", "/dev/shm", \
     "--access-logfile", "-", \
     "--error-logfile", "-"]
