"""Where and how a client calls: target, timeouts, retries, per-API settings.

First match wins: ``PYM_CLIENT_<API>_URL``, then ``ApiPool.add(name, host=..., ...)``, then
pym-config ``clients.<api>``, then the spec's ``host``/``schemes``/``basePath``. Timeouts and
retries default to pym-config's ``client_*`` keys (or :data:`pymacaron.config.DEFAULTS`).
Resolved at each call, so a changed environment or ``ApiPool.add`` takes effect at once.
"""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit

from ..config import DEFAULTS, config_path, find_service_dir, get_config
from ..exceptions import StartupError
from ..spec.yamlfile import display_path

__all__ = ["ClientConfigError", "base_url", "client_settings", "env_url_name"]

_SETTING_KEYS = (
    "host",
    "port",
    "proto",
    "verify_ssl",
    "connect_timeout",
    "read_timeout",
    "retries",
    "retry_backoff",
    "raise_on_error",
    "base_path",
)
# ApiPool.add() keywords of pymacaron-core kept for compatibility: timeout is the read
# timeout; the others no longer mean anything for a client and are ignored.
_COMPAT_KEYS = {"timeout": "read_timeout"}
_IGNORED_KEYS = frozenset({"error_callback", "formats", "do_persist"})


class ClientConfigError(ValueError):
    """A client cannot be used as configured (no host, bad URL...)."""


# -- settings ---------------------------------------------------------------------------
def _config():
    """The service's config, or None when there is no pym-config (a standalone script)."""
    try:
        return get_config()
    except StartupError:
        if not os.path.isfile(config_path(find_service_dir())):
            return None
        raise


def env_url_name(api_name: str) -> str:
    """``PYM_CLIENT_<API>_URL`` for an API name."""
    return "PYM_CLIENT_" + re.sub(r"[^A-Z0-9]", "_", api_name.upper()) + "_URL"


def _split_host(value: str, where: str) -> dict:
    """``host``, ``host:port`` or ``proto://host[:port][/path]`` -> settings."""
    text = value.strip()
    out: dict = {}
    if "://" not in text:
        text = "//" + text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as e:
        raise ClientConfigError(f"{where}: {value!r} is not a valid host or URL ({e})") from None
    if not parts.hostname:
        raise ClientConfigError(f"{where}: {value!r} has no host name")
    if parts.scheme:
        if parts.scheme not in ("http", "https"):
            raise ClientConfigError(f"{where}: {value!r}: the scheme must be http or https")
        out["proto"] = parts.scheme
    host = parts.hostname
    out["host"] = f"[{host}]" if ":" in host else host
    if port:
        out["port"] = port
    if parts.path and parts.path != "/":
        out["base_path"] = parts.path.rstrip("/")
    return out


def client_settings(api) -> dict:
    """Where and how ``api``'s client calls right now (resolved at each call)."""
    spec = api.spec
    schemes = spec.schemes
    settings: dict = {
        "proto": "https" if "https" in schemes else schemes[0],
        "host": None,
        "port": None,
        "base_path": spec.base_path,
        "verify_ssl": True,
        "raise_on_error": False,
    }
    if spec.host:
        settings.update(_split_host(spec.host, f"{display_path(spec.path)}: host"))
    conf = _config()
    get = (lambda key: conf.get(key)) if conf is not None else (lambda key: None)

    def default(key):
        value = get(key)
        return DEFAULTS[key] if value is None else value

    settings["connect_timeout"] = default("client_connect_timeout")
    settings["read_timeout"] = default("client_read_timeout")
    settings["retries"] = default("client_retries")
    settings["retry_backoff"] = default("client_retry_backoff")
    layers = []
    per_api = ((get("clients") or {}).get(api.name)) or {}
    layers.append((per_api, f"pym-config clients.{api.name}"))
    layers.append((api.client_settings, f"ApiPool.add({api.name!r})"))
    env_name = env_url_name(api.name)
    env_url = os.environ.get(env_name)
    if env_url:
        layers.append((_split_host(env_url, env_name), env_name))
    for layer, where in layers:
        layer = {_COMPAT_KEYS.get(k, k): v for k, v in layer.items() if k not in _IGNORED_KEYS}
        unknown = set(layer) - set(_SETTING_KEYS)
        if unknown:
            raise ClientConfigError(
                f"{where}: unknown client setting(s) {', '.join(sorted(unknown))} "
                f"(known: {', '.join(_SETTING_KEYS)})"
            )
        if layer.get("host"):
            host_parts = _split_host(str(layer["host"]), where)
            if "port" not in host_parts:
                # a new host without a port does not keep the old host's port
                settings["port"] = None
            settings.update(host_parts)
        settings.update({k: v for k, v in layer.items() if k != "host" and v is not None})
    return settings


def base_url(api, settings: dict | None = None) -> str:
    """``proto://host[:port]basePath`` for ``api`` (raises ClientConfigError without a host)."""
    settings = settings or client_settings(api)
    host = settings.get("host")
    if not host:
        raise ClientConfigError(
            f"ApiPool.{api.name}.client: no host to call ({display_path(api.spec.path)} has no "
            f"'host'): set clients.{api.name}.host in pym-config, call "
            f"ApiPool.add({api.name!r}, host=..., port=...) or export {env_url_name(api.name)}"
        )
    proto = settings.get("proto") or "http"
    if proto not in ("http", "https"):
        raise ClientConfigError(f"ApiPool.{api.name}.client: proto must be http or https")
    port = settings.get("port")
    netloc = host if not port else f"{host}:{int(port)}"
    return f"{proto}://{netloc}{settings.get('base_path') or ''}"
