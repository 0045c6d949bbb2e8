"""Kept importable: every AWS name of a service is built in :mod:`infra.names`."""

from ..names import (  # noqa: F401
    APP_LOG,
    HEALTH_LOG,
    LIVE_TAG_PREFIX,
    LOG_GROUP_ROOT,
    Names,
    Target,
    cdk_id,
)
