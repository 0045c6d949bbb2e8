"""gunicorn settings for the pymacaron image (CMD: gunicorn -c this-file server:app).

Every value can be changed per environment without rebuilding (Beanstalk environment
properties, `pym image run -e`), through the variables named below.
"""

import os

from pymacaron.run.serve import cpu_count, env_int

# the same readers of the environment as pymacaron.serve (granian's settings)
_int, _cpus = env_int, cpu_count


# Listen on $PORT on every interface (Beanstalk's nginx / the load balancer connects from
# outside the container).
bind = [f"0.0.0.0:{_int('PORT', 8080)}"]

# Threaded workers: one process per vCPU (2 at least, so one busy or recycled process never
# takes the instance down), 4 threads each. On a t3.small (2 vCPU, 2 GiB) that is 2 x 4 = 8
# concurrent requests for I/O-bound API handlers, and ~2 copies of the app in memory.
# Unlike sync workers, gthread keeps client connections alive (see keepalive).
worker_class = "gthread"
workers = _int("GUNICORN_WORKERS", _int("WEB_CONCURRENCY", max(2, _cpus())))
threads = _int("GUNICORN_THREADS", 4)

# A request taking longer than this gets its worker killed and restarted.
timeout = _int("GUNICORN_TIMEOUT", 60)
# On SIGTERM (docker stop, Beanstalk deploys) stop accepting, let in-flight requests finish
# for up to this long, then exit. Keep it below the stop timeout of the platform (docker
# stop's 10 s default is raised by pym image run; Beanstalk waits 30 s+).
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 25)
# Longer than the load balancer's idle timeout (ALB default 60 s): the balancer, not
# gunicorn, must close idle connections, else it may send a request on a connection
# gunicorn is closing and answer 502.
keepalive = _int("GUNICORN_KEEPALIVE", 75)

# Load the app once in the master: a startup error (a missing env secret, a broken spec)
# stops the container at once with its message instead of looping worker boots, and the
# workers share the loaded code's memory.
preload_app = os.environ.get("GUNICORN_PRELOAD", "1") not in ("0", "false", "no")

# Recycle workers now and then (a slow leak never takes an instance down); jitter
# spreads the restarts. 0 disables.
max_requests = _int("GUNICORN_MAX_REQUESTS", 10000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 1000)

# Logs to stdout/stderr, collected by Docker / Beanstalk / CloudWatch.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# The request id is the one the service returned (kept from the request or generated).
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s" request_id=%({x-request-id}o)s'
# gunicorn writes the access log: the runtime's own access line would double every request.
os.environ.setdefault("PYM_ACCESS_LOG", "0")


def post_worker_init(worker):
    """Errors gunicorn answers itself (request line too long...) get the JSON error body."""
    from pymacaron.run.gunicorn_hooks import install_json_errors

    install_json_errors()


# The heartbeat file on tmpfs, not on the container's overlay filesystem.
worker_tmp_dir = "/dev/shm"
# Only the platform's proxy reaches the container: trust its X-Forwarded-* headers.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "*")
# The app module (tests wrap the service with a test-only WSGI middleware).
wsgi_app = os.environ.get("PYM_WSGI_APP", "server:app")
# gunicorn >= 25's control socket (gunicornc) is off: nothing in a container uses it, and
# stopping its server thread added ~3 s to every shutdown (measured, gunicorn 27).
# GUNICORN_CONTROL_SOCKET=/tmp/gunicorn.ctl turns it on (the app user cannot write $HOME=/app).
control_socket_disable = not os.environ.get("GUNICORN_CONTROL_SOCKET")
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET") or "/tmp/gunicorn.ctl"
