"""Handlers of the built-in API (builtin/ping.yaml)."""

from __future__ import annotations

import os

from ..apipool import ApiPool
from ..config import find_service_dir, get_config


def do_ping():
    """Liveness: the process serves requests."""
    return {}


def container_version() -> str:
    """The image version baked in at build time ('dev' outside an image)."""
    path = os.environ.get("PYM_CONTAINER_VERSION_FILE") or os.path.join(
        find_service_dir(), ".container-version"
    )
    try:
        with open(path) as f:
            return f.read().strip() or "unknown"
    except OSError:
        return os.environ.get("PYM_CONTAINER_VERSION", "dev")


def version_info() -> dict:
    """The serving app's service (app.py), else the process-wide views."""
    from ..app import current_service

    service = current_service()
    if service is not None:
        conf, served = service.config, service.served
        api = service.apis.get(served[0]) if served else None
    else:
        conf, served, api = get_config(), ApiPool.served, ApiPool.current_server_api
    info = {
        "name": conf.name,
        "version": api.spec.version if api is not None else "",
        "container": container_version(),
        "pym_env": conf.pym_env,
        "apis": list(served),
    }
    from . import imds

    if imds.enabled():  # on AWS only (the deploy kit sets it): builtin/imds.py
        info["instance_credentials"] = imds.instance_credentials()
    return info


def do_version():
    """What runs here: service name, API version, container version, stage, served APIs."""
    return version_info()
