"""Deploy time: pym-config.yaml -> typed model (infra.config) -> CDK constructs -> stacks.

``infra.stacks.build_app`` is what ``app.py`` calls; the modules here are one construct
per logical unit (network, registry, iam, beanstalk, alarms, version) so later stacks
(pipeline, queues) compose them without touching the others.
"""

from .config import ServiceConfig, StageConfig, load_service_config

__all__ = ["ServiceConfig", "StageConfig", "load_service_config"]
