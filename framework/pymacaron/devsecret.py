"""The development JWT secret: ``.pym/dev-secret`` in the service directory.

``pym new`` writes it (random, mode 0600; ``.pym/`` is git-ignored and never reaches the
image), and any ``pym`` command run in a service directory creates it when missing, so
``make run``, ``pym token``, ``pym check`` and ``pym acceptance`` agree on one secret in a
plain shell. It is read only when ``JWT_SECRET`` is unset, the service lists it in
``env_secrets`` and ``PYM_ENV`` is unset, ``dev`` or ``test``: never for staging or live,
whose secret comes from AWS (pym-config ``secrets:``).
"""

from __future__ import annotations

import os
import secrets

__all__ = ["DEV_ENVS", "SECRET_NAME", "dev_secret_path", "read_dev_secret", "ensure_dev_secret"]

DEV_ENVS = frozenset({"dev", "test"})
SECRET_NAME = "JWT_SECRET"
_FILE = os.path.join(".pym", "dev-secret")


def dev_secret_path(service_dir: str) -> str:
    return os.path.join(os.path.abspath(service_dir), _FILE)


def read_dev_secret(service_dir: str, env: str | None) -> str | None:
    """The development secret of ``service_dir`` for PYM_ENV ``env``, or None."""
    if (env or "dev") not in DEV_ENVS:
        return None
    try:
        with open(dev_secret_path(service_dir)) as f:
            value = f.read().strip()
    except OSError:
        return None
    return value or None


def ensure_dev_secret(service_dir: str) -> str:
    """The path of ``service_dir``'s development secret, written (0600) when missing."""
    path = dev_secret_path(service_dir)
    if not os.path.isfile(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48) + "\n")
    return path
