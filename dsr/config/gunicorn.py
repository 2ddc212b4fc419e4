"""gunicorn's settings for the served register: `gunicorn -c dsr/config/gunicorn.py`
(`make serve`). Read from the environment, with the defaults docs/deploy.md explains.

- Workers from the cores: sync workers, (2 x cores) + 1 unless WEB_CONCURRENCY says.
- Timeouts: a worker silent for GUNICORN_TIMEOUT seconds (longer than the database's
  statement timeout) is replaced; on a restart workers get GUNICORN_GRACEFUL_TIMEOUT to
  finish what they are serving.
- Graceful restarts: `kill -HUP <master>` (or `gunicornc -s <socket> -c reload`) starts new
  workers with new code and lets old ones finish; `max_requests` recycles each worker now
  and then, with jitter, so they never restart together.
- A control socket per instance (GUNICORN_CONTROL_SOCKET, by default var/gunicorn-<port>.ctl),
  so two instances on one host never answer for each other.
- Forwarded headers: gunicorn believes none of its own accord; the app believes them only
  from TRUSTED_PROXIES (dsr/core/proxy.py), one rule in one place.
- Logs: errors to standard error; requests are logged by the app itself as JSON, with the
  request id and no query string (dsr/core/logs.py), so gunicorn's access log is off.
"""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

_port = os.environ.get("PORT", "8000")
_var = Path(__file__).resolve().parents[2] / "var"

wsgi_app = "dsr.config.wsgi:application"
bind = os.environ.get("BIND", f"127.0.0.1:{_port}").split(",")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 45))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", 30))
keepalive = 5
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 2000))
max_requests_jitter = max_requests // 10
preload_app = False  # a HUP reloads the code; each worker opens its own connections
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET") or str(_var / f"gunicorn-{_port}.ctl")
control_socket_mode = 0o600
forwarded_allow_ips = ""
secure_scheme_headers: dict[str, str] = {}
proc_name = os.environ.get("GUNICORN_NAME", f"dsr-{_port}")
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
worker_tmp_dir = "/dev/shm" if Path("/dev/shm").is_dir() else None  # noqa: S108 - heartbeat files
