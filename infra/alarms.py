"""What wakes someone up: an SNS topic (email) and alarms on a stage's environment.

Both alarms read the enhanced-health metrics Beanstalk publishes per environment
(``AWS/ElasticBeanstalk``, dimension ``EnvironmentName``), so they need no load balancer
name, which Beanstalk generates.
"""

from __future__ import annotations

from aws_cdk import Aws, Duration
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subs
from constructs import Construct

NAMESPACE = "AWS/ElasticBeanstalk"
ERROR_RATE_PERCENT = 5
PERIOD = Duration.minutes(1)
# both alarms look at 5 periods; no data (no traffic) is not an alarm
ALARM_WINDOW = {"evaluation_periods": 5, "treat_missing_data": cw.TreatMissingData.NOT_BREACHING}


class EnvironmentAlarms(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        environment_name: str,
        notification_email: str | None,
    ):
        super().__init__(scope, id)
        self.topic = sns.Topic(
            self, "Topic", display_name=f"{environment_name} alarms", enforce_ssl=True
        )
        if notification_email:
            self.topic.add_subscription(subs.EmailSubscription(notification_email))

        def metric(name: str, label: str) -> cw.Metric:
            return cw.Metric(
                namespace=NAMESPACE,
                metric_name=name,
                dimensions_map={"EnvironmentName": environment_name},
                statistic="Sum" if name.startswith("Application") else "Maximum",
                period=PERIOD,
                label=label,
            )

        def alarm(id: str, description: str, expression: str, metrics: dict, label: str,
                  threshold: float, comparison, datapoints: int) -> cw.Alarm:  # fmt: skip
            """An alarm on ``expression`` over the environment's ``metrics`` (5 periods)."""
            rate = cw.MathExpression(
                expression=expression,
                using_metrics={k: metric(*v) for k, v in metrics.items()},
                label=label,
                period=PERIOD,
            )
            return cw.Alarm(
                self,
                id,
                alarm_description=f"{environment_name}: {description}",
                metric=rate,
                threshold=threshold,
                comparison_operator=comparison,
                datapoints_to_alarm=datapoints,
                **ALARM_WINDOW,
            )

        self.error_rate = alarm(
            "Http5xxRate",
            f"more than {ERROR_RATE_PERCENT}% of responses are 5xx",
            "IF(total > 0, 100 * errors / total, 0)",
            {
                "errors": ("ApplicationRequests5xx", "5xx responses"),
                "total": ("ApplicationRequestsTotal", "all responses"),
            },
            "5xx rate (%)",
            ERROR_RATE_PERCENT,
            cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
            datapoints=3,
        )
        self.unhealthy_hosts = alarm(
            "UnhealthyHosts",
            "at least one host is degraded or severe",
            "severe + degraded",
            {
                "severe": ("InstancesSevere", "instances severe"),
                "degraded": ("InstancesDegraded", "instances degraded"),
            },
            "unhealthy hosts",
            1,
            cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            datapoints=5,
        )
        alarms = (self.error_rate, self.unhealthy_hosts)
        for alarm in alarms:
            alarm.add_alarm_action(cw_actions.SnsAction(self.topic))
            alarm.add_ok_action(cw_actions.SnsAction(self.topic))
        # enforce_ssl's statement replaces SNS's default policy: CloudWatch may publish, and
        # only for these alarms of this account.
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsPublish",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={
                    "ArnLike": {"aws:SourceArn": [a.alarm_arn for a in alarms]},
                    "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                },
            )
        )
