# One image for every watchfloor process; docker-compose.yml picks the command
# (topics create, worker, connect, web). All configuration comes from WATCHFLOOR_* environment
# variables (core/settings.py); nothing secret is baked in.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Only what the package needs, so that editing tests or deploy/ does not invalidate this layer.
# README* is a pattern: the package metadata uses it when present, the build does not need it.
# setup.py declares the optional C loops (the rule engine's, the timestamps'): a compiler is installed
# for the build and removed after it, so the image runs them rather than their slower Python twins.
WORKDIR /src
COPY pyproject.toml setup.py README* ./
COPY watchfloor ./watchfloor
COPY schemas ./schemas
COPY connectors ./connectors
COPY streams ./streams
COPY desk ./desk
COPY core ./core
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && pip install . \
    && apt-get purge -y --auto-remove gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/* \
    && cd / && rm -rf /src

# A fixed non-root uid, so that volume ownership is predictable across rebuilds.
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /var/lib/watchfloor \
        --shell /usr/sbin/nologin watchfloor \
    && mkdir -p /var/lib/watchfloor/data \
    && chown -R watchfloor:watchfloor /var/lib/watchfloor

USER watchfloor
WORKDIR /var/lib/watchfloor
ENV WATCHFLOOR_DATA_DIR=/var/lib/watchfloor/data \
    WATCHFLOOR_WEB_HOST=0.0.0.0
# The lemma dictionaries' tries, built once into the image (~/.cache/simplemma) rather than by the
# first worker of every container (streams/rules/lemmas.py).
RUN python -c "from streams.rules.lemmas import lemma; [lemma('x', lang) for lang in ('en', 'ru', 'uk')]"

# 6066 desk web server (and its /metrics), 9108 worker /metrics, 9109 connector /metrics.
EXPOSE 6066 9108 9109
ENTRYPOINT ["watchfloor"]
CMD ["run"]
