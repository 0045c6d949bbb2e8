"""``beanstalk_options:`` in pym-config: Beanstalk option settings the kit does not model.

Each entry is ``{namespace, option, value}``, checked against the namespaces Elastic
Beanstalk documents ("General options for all environments" and the Docker platform's):
a misspelt namespace fails synthesis naming the file and entry, not the deploy an hour
later. An option the kit already sets from a pym-config key (``aws:autoscaling:asg``
``MaxSize`` from ``aws_hosts_max``...) is refused with the key to use instead, so each
setting keeps one home; environment variables and secrets have theirs (``env:``,
``secrets:``). In code, :meth:`PymService.add_option_setting` may replace any option.

This module holds Beanstalk's side (its namespaces, what the kit models); the rule on the
entries is config_rules.py's, and the typed config holds them checked
(``StageConfig.beanstalk_options``).
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from pymacaron.exceptions import StartupError

from .config_model import BeanstalkOption

__all__ = ["BeanstalkOption", "beanstalk_options", "check_option", "known_namespace"]

# https://docs.aws.amazon.com/elasticbeanstalk/latest/dg/command-options-general.html and
# command-options-specific.html (Docker): the namespaces an environment accepts.
NAMESPACES = frozenset(
    {
        "aws:autoscaling:asg",
        "aws:autoscaling:launchconfiguration",
        "aws:autoscaling:scheduledaction",
        "aws:autoscaling:trigger",
        "aws:autoscaling:updatepolicy:rollingupdate",
        "aws:ec2:instances",
        "aws:ec2:vpc",
        "aws:elasticbeanstalk:application",
        "aws:elasticbeanstalk:application:environment",
        "aws:elasticbeanstalk:application:environmentsecrets",
        "aws:elasticbeanstalk:cloudwatch:logs",
        "aws:elasticbeanstalk:cloudwatch:logs:health",
        "aws:elasticbeanstalk:command",
        "aws:elasticbeanstalk:environment",
        "aws:elasticbeanstalk:environment:proxy",
        "aws:elasticbeanstalk:environment:proxy:staticfiles",
        "aws:elasticbeanstalk:healthreporting:system",
        "aws:elasticbeanstalk:hostmanager",
        "aws:elasticbeanstalk:managedactions",
        "aws:elasticbeanstalk:managedactions:platformupdate",
        "aws:elasticbeanstalk:monitoring",
        "aws:elasticbeanstalk:sns:topics",
        "aws:elasticbeanstalk:sqsd",
        "aws:elasticbeanstalk:trafficsplitting",
        "aws:elasticbeanstalk:xray",
        "aws:elb:healthcheck",
        "aws:elb:loadbalancer",
        "aws:elb:listener",
        "aws:elb:policies",
        "aws:elbv2:listener:default",
        "aws:elbv2:loadbalancer",
        "aws:rds:dbinstance",
    }
)
# Namespaces that end with a name of the user's: a process, a listener port, a rule, a policy.
NAMED_NAMESPACES = (
    re.compile(r"^aws:elasticbeanstalk:environment:process:[A-Za-z0-9_-]+$"),
    re.compile(r"^aws:elb:listener:\d{1,5}$"),
    re.compile(r"^aws:elb:policies:[A-Za-z0-9_-]+$"),
    re.compile(r"^aws:elbv2:listener:\d{1,5}$"),
    re.compile(r"^aws:elbv2:listenerrule:[A-Za-z0-9_-]+$"),
)
# The one home of what pym-config already models (namespace -> the key that sets it).
MODELLED = {
    "aws:elasticbeanstalk:application:environment": "env",
    "aws:elasticbeanstalk:application:environmentsecrets": "secrets",
}
MODELLED_OPTIONS = {
    ("aws:autoscaling:asg", "MinSize"): "aws_hosts_min",
    ("aws:autoscaling:asg", "MaxSize"): "aws_hosts_max",
    ("aws:ec2:instances", "InstanceTypes"): "aws_instance_type",
    ("aws:elbv2:listener:443", "SSLCertificateArns"): "aws_cert_arn",
    ("aws:elasticbeanstalk:command", "DeploymentPolicy"): "deployment_policy",
    ("aws:elasticbeanstalk:cloudwatch:logs", "RetentionInDays"): "log_retention_days",
    ("aws:ec2:vpc", "VPCId"): "vpc",
    ("aws:ec2:vpc", "Subnets"): "vpc",
    ("aws:ec2:vpc", "ELBSubnets"): "vpc",
}


def known_namespace(namespace: str) -> bool:
    return namespace in NAMESPACES or any(p.match(namespace) for p in NAMED_NAMESPACES)


def check_option(namespace: str, option: str, where: str = "") -> None:
    """Raise StartupError when ``namespace`` is not one Beanstalk documents."""
    if known_namespace(namespace):
        return
    close = difflib.get_close_matches(namespace, sorted(NAMESPACES), n=1, cutoff=0.8)
    hint = f": did you mean '{close[0]}'?" if close else " (see the Beanstalk docs' namespaces)"
    raise StartupError(
        f"unknown Beanstalk namespace {namespace!r} for option {option!r}{hint}", location=where
    )


def beanstalk_options(
    config: str | dict[str, Any], stage: str, config_path: str | None = None
) -> tuple[BeanstalkOption, ...]:
    """The stage's ``beanstalk_options``, checked by the rules home (config_rules.py): read
    from the typed config (``StageConfig.beanstalk_options``) when ``config`` is a path; a
    stage's values (``StageConfig.data``) are checked as they are, naming ``config_path``."""
    if isinstance(config, str):
        from .config import load_service_config

        return load_service_config(config).stages[stage].beanstalk_options
    from .config_rules import beanstalk_options_of

    return beanstalk_options_of(config_path or "pym-config.yaml", config)
