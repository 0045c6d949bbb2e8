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

        rate = cw.MathExpression(
            expression="IF(total > 0, 100 * errors / total, 0)",
            using_metrics={
                "errors": metric("ApplicationRequests5xx", "5xx responses"),
                "total": metric("ApplicationRequestsTotal", "all responses"),
            },
            label="5xx rate (%)",
            period=PERIOD,
        )
        self.error_rate = cw.Alarm(
            self,
            "Http5xxRate",
            alarm_description=f"{environment_name}: more than {ERROR_RATE_PERCENT}% of "
            "responses are 5xx",
            metric=rate,
            threshold=ERROR_RATE_PERCENT,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=5,
            datapoints_to_alarm=3,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
        )
        unhealthy = cw.MathExpression(
            expression="severe + degraded",
            using_metrics={
                "severe": metric("InstancesSevere", "instances severe"),
                "degraded": metric("InstancesDegraded", "instances degraded"),
            },
            label="unhealthy hosts",
            period=PERIOD,
        )
        self.unhealthy_hosts = cw.Alarm(
            self,
            "UnhealthyHosts",
            alarm_description=f"{environment_name}: at least one host is degraded or severe",
            metric=unhealthy,
            threshold=1,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=5,
            datapoints_to_alarm=5,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
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
