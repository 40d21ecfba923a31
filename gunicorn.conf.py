"""gunicorn settings, read from this folder by default: `gunicorn config.wsgi`.

Environment: GUNICORN_BIND (default 127.0.0.1:8000), WEB_CONCURRENCY (workers, default
2 per core + 1), GUNICORN_THREADS (per worker, default 4), GUNICORN_TIMEOUT (seconds, default
30), GUNICORN_MAX_REQUESTS (a worker is replaced after about that many requests; default
20000, 0: never), GUNICORN_ACCESS_LOG (a path or "-"; default none: the load balancer logs
requests), GUNICORN_REUSE_PORT (a socket per worker; default false, see below).
"""

import gc
import multiprocessing
import os

import environ

wsgi_app = "config.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
# Threads: most requests take milliseconds, but the full feed (feed/) streams the whole
# catalogue for minutes. A sync worker is killed once one request outlives ``timeout`` (the
# feed of 100,000 products was cut off after 30 s); a gthread worker keeps telling the arbiter
# it is alive while its threads work, so ``timeout`` only catches a worker that hangs.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
# Load the application once before forking: the workers share its code pages.
preload_app = True
# GUNICORN_REUSE_PORT=true: each worker listens on a socket of its own (SO_REUSEPORT) and the
# kernel spreads new connections over them. On the one shared socket, the first worker to wake
# accepts a burst of connections: wrk's eight all went to one worker in a quarter of the
# benchmark's measurements, which then measured one worker (/healthz at 1,300 requests a
# second instead of 3,600); a proxy's pool of kept-alive connections can land so too. Off by
# default: when a worker is replaced (max_requests), the connections waiting in its own
# socket are reset instead of going to another worker (Linux >= 5.14 can hand them over:
# sysctl net.ipv4.tcp_migrate_req=1).
# Read as config/settings.py reads its switches (django-environ), so "on" means the same.
reuse_port = environ.Env().bool("GUNICORN_REUSE_PORT", default=False)


def pre_fork(server, worker):
    """The application the master loaded lives as long as each worker: frozen, the cyclic
    garbage collector no longer walks its 165,000 objects in a worker's full collections, and
    the pages holding them stay shared with the master, as Python's documentation of
    ``gc.freeze`` advises for a fork without exec. Measured with callgrind at 10,000 products,
    it saves 15 % of an uncached product detail's instructions and 8 % of a match's."""
    gc.freeze()


# Recycle workers now and then so that memory cannot creep upwards over weeks (0: never; the
# benchmark's thousands of requests a second would otherwise restart a worker mid-measurement).
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "20000"))
max_requests_jitter = max_requests // 10
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
