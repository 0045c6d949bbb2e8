"""The DynamoDB tables of a stage: one per ``x-persist`` table of the service's specs.

The tables are read from ``apis/*.yaml`` beside pym-config.yaml through the runtime's own
spec reader (:func:`pymacaron.spec.load_spec`, :func:`pymacaron.persist.persisted_specs`),
so the stacks and the service agree on names and keys. Each table:

- is named ``<service>-<stage>-<table>`` (``petshop-live-pets``; the pipeline's stages
  ``petshop-pipeline-live-pets``) and passed to the container as
  ``PYM_DYNAMODB_TABLE_<TABLE>``, with ``PYM_DYNAMODB_REGION``;
- bills PAY_PER_REQUEST, unless pym-config sets ``dynamodb_billing_mode: PROVISIONED`` with
  ``dynamodb_read_capacity``/``dynamodb_write_capacity`` (top level or per stage);
- has point-in-time recovery and AWS-managed KMS encryption; on live, deletion protection
  and RETAIN (a stack deletion or replacement keeps the data); on staging it goes with its stack;
- is granted to the instance role for exactly GetItem, PutItem, DeleteItem and Query, on the
  table and its index (no Scan, no table administration).

Changing a table's key schema makes CloudFormation replace the table, which loses every
item. Key schemas are therefore recorded in ``pym-tables.lock.json`` beside pym-config.yaml
(written by synth the first time a table appears, committed with the service) and a synth
whose spec changes one, or drops a table, is refused with a message saying what to do.
"""

from __future__ import annotations

import json
import os

from aws_cdk import Aws, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from constructs import Construct

from pymacaron.apipool import spec_files
from pymacaron.exceptions import StartupError
from pymacaron.persist import PersistSpec, persisted_specs
from pymacaron.persist.settings import table_env_name
from pymacaron.spec.load import load_spec
from pymacaron.spec.yamlfile import display_path

from .config import stage_values
from .config_rules import table_settings_of
from .names import table_name

ENV_NAMESPACE = "aws:elasticbeanstalk:application:environment"
LOCK_FILE = "pym-tables.lock.json"
ITEM_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Query")
ATTRIBUTE_TYPES = {"S": dynamodb.AttributeType.STRING, "N": dynamodb.AttributeType.NUMBER}

__all__ = ["ServiceTables", "persisted_tables", "table_settings", "check_table_lock"]


def persisted_tables(config_path: str) -> list[tuple[str, PersistSpec]]:
    """(spec file, PersistSpec) of every DynamoDB-stored definition of the service."""
    apis = os.path.join(os.path.dirname(os.path.abspath(config_path)), "apis")
    if not os.path.isdir(apis):
        return []
    found: list[tuple[str, PersistSpec]] = []
    seen: dict[str, str] = {}
    for path in spec_files(apis):
        api = load_spec(path)
        for name, spec in persisted_specs(api.definitions).items():
            if not spec.uses_dynamodb:
                continue
            if spec.table in seen:
                raise StartupError(
                    f"x-persist: table {spec.table!r} is also the table of {seen[spec.table]}",
                    file=display_path(path),
                    location=f"definitions.{name}.x-persist.table",
                )
            seen[spec.table] = f"definitions.{name} in {display_path(path)}"
            found.append((path, spec))
    return found


def table_settings(config: str | dict, stage: str, config_path: str | None = None) -> dict:
    """Billing mode and capacity of the stage's tables, from pym-config: the stage's values
    (``StageConfig.data``, ``config_path`` named in errors) or a pym-config path."""
    data, path = stage_values(config, stage, config_path)
    return table_settings_of(data, stage, path)


def _key_schema(key: str, key_type: str, sort_key: str | None, sort_type: str | None) -> dict:
    """The partition (and sort) key of a table or an index, as the CDK takes them."""
    sort = dynamodb.Attribute(name=sort_key, type=ATTRIBUTE_TYPES[sort_type]) if sort_key else None
    return {
        "partition_key": dynamodb.Attribute(name=key, type=ATTRIBUTE_TYPES[key_type]),
        "sort_key": sort,
    }


def check_table_lock(config_path: str, tables: list[tuple[str, PersistSpec]]) -> dict:
    """Refuse a key-schema change or a dropped table; record new tables. Returns the lock."""
    lock_path = os.path.join(os.path.dirname(os.path.abspath(config_path)), LOCK_FILE)
    shown = display_path(lock_path)
    recorded: dict = {}
    if os.path.exists(lock_path):
        try:
            with open(lock_path) as f:
                recorded = json.load(f).get("tables") or {}
        except (OSError, ValueError, AttributeError) as e:
            raise StartupError(f"not a table lock file ({e})", file=shown) from None
    current = {spec.table: (path, spec) for path, spec in tables}
    for table, (path, spec) in current.items():
        before = recorded.get(table)
        if before is not None and before != spec.key_schema():
            raise StartupError(
                f"x-persist: the key schema of table {table!r} changed from {_keys(before)} "
                f"to {_keys(spec.key_schema())}: CloudFormation would replace the table and "
                f"lose its items. Keep the keys, or persist to a new table name (and copy the "
                f"items), or delete its entry in {shown} to replace it on purpose",
                file=display_path(path),
                location=f"definitions.{spec.definition}.x-persist",
            )
    dropped = sorted(set(recorded) - set(current))
    if dropped:
        raise StartupError(
            f"table(s) {', '.join(dropped)} recorded in {LOCK_FILE} are no longer in any "
            "spec's x-persist: the stacks would delete them (live keeps its copy). Restore "
            "the x-persist, or delete their entries from the lock file to confirm",
            file=shown,
        )
    if set(current) - set(recorded):
        merged = {**recorded, **{t: s.key_schema() for t, (_, s) in current.items()}}
        with open(lock_path, "w") as f:
            json.dump(
                {
                    "comment": "Key schemas of the x-persist tables (infra/tables.py): a change "
                    "would replace the table and lose its items, so synth refuses it. Commit this file.",
                    "tables": dict(sorted(merged.items())),
                },
                f,
                indent=2,
            )
            f.write("\n")
        recorded = merged
    return recorded


def _keys(schema: dict) -> str:
    parts = [f"key {schema['key'][0]} ({schema['key'][1]})"]
    if schema.get("sort_key"):
        parts.append(f"sort_key {schema['sort_key'][0]} ({schema['sort_key'][1]})")
    return " + ".join(parts)


def _construct_id(table: str) -> str:
    return "".join(p.capitalize() for p in table.replace(".", "-").replace("_", "-").split("-"))


class ServiceTables(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        specs: list[PersistSpec],
        name_prefix: str,
        stage: str,
        grantee: iam.IRole,
        billing_mode: str = "PAY_PER_REQUEST",
        read_capacity: int | None = None,
        write_capacity: int | None = None,
    ):
        super().__init__(scope, id)
        live = stage == "live"
        provisioned = billing_mode == "PROVISIONED"
        capacity = (
            {"read_capacity": read_capacity, "write_capacity": write_capacity}
            if provisioned
            else {}
        )
        self.tables: dict[str, dynamodb.Table] = {}
        resources: list[str] = []
        for spec in specs:
            table = dynamodb.Table(
                self,
                _construct_id(spec.table),
                table_name=table_name(name_prefix, stage, spec.table),
                **_key_schema(spec.key, spec.key_type, spec.sort_key, spec.sort_type),
                billing_mode=dynamodb.BillingMode.PROVISIONED
                if provisioned
                else dynamodb.BillingMode.PAY_PER_REQUEST,
                point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                    point_in_time_recovery_enabled=True
                ),
                encryption=dynamodb.TableEncryption.AWS_MANAGED,
                deletion_protection=live,
                removal_policy=RemovalPolicy.RETAIN if live else RemovalPolicy.DESTROY,
                **capacity,
            )
            resources.append(table.table_arn)
            if spec.index:
                ix = spec.index
                table.add_global_secondary_index(
                    index_name=ix.name,
                    **_key_schema(ix.key, ix.key_type, ix.sort_key, ix.sort_type),
                    projection_type=dynamodb.ProjectionType.ALL,
                    **capacity,
                )
                resources.append(f"{table.table_arn}/index/{ix.name}")
            self.tables[spec.table] = table
        grantee.add_to_principal_policy(
            iam.PolicyStatement(
                sid="OwnTablesItems",
                actions=list(ITEM_ACTIONS),
                resources=resources,
            )
        )

    def environment(self) -> dict[str, str]:
        """The physical table names (and region) the container reads (pymacaron.persist.settings)."""
        env = {table_env_name(t): table.table_name for t, table in self.tables.items()}
        env["PYM_DYNAMODB_REGION"] = Aws.REGION
        return env

    def environment_options(self) -> list[tuple[str, str, str]]:
        return [(ENV_NAMESPACE, k, v) for k, v in sorted(self.environment().items())]


def service_tables(
    scope: Construct,
    id: str,
    *,
    config_path: str,
    stage: str,
    name_prefix: str,
    grantee: iam.IRole,
    settings: dict | None = None,
) -> ServiceTables | None:
    """The stage's tables from the service's specs (``apis/`` beside ``config_path``), or
    None when nothing is persisted. ``settings``: the stage's pym-config values
    (``StageConfig.data``); without them they are read from ``config_path``."""
    tables = persisted_tables(config_path)
    if not tables:
        check_table_lock(config_path, tables)
        return None
    check_table_lock(config_path, tables)
    return ServiceTables(
        scope,
        id,
        specs=[spec for _, spec in tables],
        name_prefix=name_prefix,
        stage=stage,
        grantee=grantee,
        **table_settings(config_path if settings is None else settings, stage, config_path),
    )
