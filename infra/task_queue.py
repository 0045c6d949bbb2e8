"""The task queue of a stage (``with_async: true``): SQS queue + dead-letter queue + alarm.

- ``<service>-<stage>-tasks``: the queue the worker consumes; its visibility timeout is
  ``task_visibility_timeout`` (a task not acknowledged by then is delivered again, so a
  worker killed mid-task loses nothing), SSE and TLS-only.
- ``<service>-<stage>-tasks-dlq``: where the worker puts a task whose retries are exhausted,
  and where SQS itself moves a message received ``MAX_RECEIVE_COUNT`` times without being
  acknowledged (a task that kills its worker). Kept 14 days; SQS "start DLQ redrive" moves
  messages back to the task queue, and they run again.
- An alarm on the dead-letter queue's depth (>= 1 message) notifies the stage's topic.
- Grants to the instance role only: consume/publish on the task queue, publish (never read)
  on the dead-letter queue. Nothing else may use them (no resource policy opens them).

The container learns the queues from environment variables (``PYM_BROKER_URL=sqs://``,
``PYM_TASK_QUEUE_URL``, ``PYM_DEAD_LETTER_QUEUE_URL``; see pymacaron.tasks.settings).
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from .config import stage_values
from .config_rules import task_queue_of
from .names import dead_letter_queue_name

MAX_RECEIVE_COUNT = 5
ENV_NAMESPACE = "aws:elasticbeanstalk:application:environment"

CONSUME_ACTIONS = (
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:SendMessage",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
)
DEAD_LETTER_ACTIONS = ("sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl")


def task_queue_settings(config: str | dict, stage: str) -> dict | None:
    """What the stage's queue needs from pym-config, or None when it needs no queue.

    ``config``: the stage's values (``StageConfig.data``), or a pym-config path. The rule
    (``with_async``, unless ``broker_url`` names a broker of the stage's own) is
    config_rules.task_queue_of's.
    """
    return task_queue_of(stage_values(config, stage)[0])


class TaskQueue(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        queue_name: str,
        visibility_timeout: int,
        grantee: iam.IRole,
        worker_concurrency: int | None = None,
    ):
        super().__init__(scope, id)
        self.worker_concurrency = worker_concurrency
        self.visibility_timeout = visibility_timeout
        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            queue_name=dead_letter_queue_name(queue_name),
            retention_period=Duration.days(14),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
        )
        self.queue = sqs.Queue(
            self,
            "Queue",
            queue_name=queue_name,
            visibility_timeout=Duration.seconds(visibility_timeout),
            retention_period=Duration.days(4),
            receive_message_wait_time=Duration.seconds(20),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.dead_letter_queue, max_receive_count=MAX_RECEIVE_COUNT
            ),
        )
        grantee.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ConsumeOwnTaskQueue",
                actions=list(CONSUME_ACTIONS),
                resources=[self.queue.queue_arn],
            )
        )
        grantee.add_to_principal_policy(
            iam.PolicyStatement(
                sid="DeadLetterOwnTasks",
                actions=list(DEAD_LETTER_ACTIONS),
                resources=[self.dead_letter_queue.queue_arn],
            )
        )
        self.dead_letter_alarm = cw.Alarm(
            self,
            "DeadLetters",
            alarm_description=f"{queue_name}: tasks failed for good and wait in {dead_letter_queue_name(queue_name)}",
            metric=self.dead_letter_queue.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(1), statistic="Maximum"
            ),
            threshold=1,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
        )

    def alarm_to(self, topic: sns.ITopic) -> None:
        """Send the dead-letter alarm (and its recovery) to the stage's alarm topic."""
        self.dead_letter_alarm.add_alarm_action(cw_actions.SnsAction(topic))
        self.dead_letter_alarm.add_ok_action(cw_actions.SnsAction(topic))

    def environment(self) -> dict[str, str]:
        """What the container needs to reach the queues (plain values: URLs, not secrets)."""
        env = {
            "PYM_BROKER_URL": "sqs://",
            "PYM_TASK_QUEUE_URL": self.queue.queue_url,
            "PYM_DEAD_LETTER_QUEUE_URL": self.dead_letter_queue.queue_url,
            "PYM_TASK_VISIBILITY_TIMEOUT": str(self.visibility_timeout),
        }
        if self.worker_concurrency:
            env["PYM_WORKER_CONCURRENCY"] = str(self.worker_concurrency)
        return env

    def environment_options(self) -> list[tuple[str, str, str]]:
        """The Beanstalk option settings that set :meth:`environment` in the container."""
        return [(ENV_NAMESPACE, k, v) for k, v in sorted(self.environment().items())]
