#!/bin/sh
# Start (or stop) the whole layout on loopback: Redis with AOF, two webhook workers, the web chat,
# the reminder dispatcher and, when WECHAT_* are set, the WeChat worker. See deploy/local.py;
# e.g. `deploy/local.sh run --fake-api`.
cd "$(dirname "$0")/.." || exit 1
exec "${PYTHON:-.venv/bin/python}" -m deploy.local "$@"
