"""The DynamoDB backend (boto3, the ``persist`` extra): imported only when a model uses it.

Each operation is one single-item request (PutItem, GetItem, DeleteItem) or a Query, so an
item is either written whole or not at all. Writes are conditional on the version the model
was loaded with; a write whose response was lost and that the SDK retried is recognised
(the stored item is exactly the one written) and is not reported as a conflict.
Connection failures, timeouts, throttling and a missing table are
:class:`PersistUnavailableError` (503 ``PERSIST_UNAVAILABLE``), after the SDK's own retries.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import time
import uuid

try:
    import boto3
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
except ImportError as e:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "x-persist models stored in DynamoDB need boto3: pip install 'pymacaron[persist]'"
    ) from e

from ..spec.persist import WRITE_ID, PersistSpec
from . import settings
from .backend import SORT_OPERATORS, Backend, QueryOptions
from .convert import to_store
from .errors import PersistConflictError, PersistPageTokenError, PersistUnavailableError

log = logging.getLogger("pymacaron.persist")

__all__ = ["DynamoDBBackend"]

UNAVAILABLE_CODES = frozenset(
    (
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "ResourceNotFoundException",
    )
)
TABLE_WAIT_SECONDS = 30


class DynamoDBBackend(Backend):
    """One boto3 client per process (thread-safe), short timeouts, standard retries."""

    def __init__(self, url: str | None = None, environ=None):
        environ = os.environ if environ is None else environ
        self.url = url or settings.endpoint_url(environ)
        if not self.url and not settings.region(environ):
            raise PersistUnavailableError(
                "x-persist: no DynamoDB configured: set PYM_DYNAMODB_URL (a local one, e.g. "
                "dynalite) or PYM_DYNAMODB_REGION / AWS_REGION (on AWS)"
            )
        self.local = settings.is_local_endpoint(self.url)
        self.environ = environ
        kwargs = {
            "endpoint_url": self.url,
            "region_name": settings.region(environ) or ("us-east-1" if self.local else None),
            "config": Config(
                connect_timeout=2,
                read_timeout=5,
                retries={"mode": "standard", "max_attempts": 3},
            ),
        }
        if self.local and not environ.get("AWS_ACCESS_KEY_ID"):
            # a local DynamoDB accepts any key; never read the developer's AWS profile for it
            kwargs.update(aws_access_key_id="local", aws_secret_access_key="local")
        self.client = boto3.session.Session().client("dynamodb", **kwargs)
        self._ser = TypeSerializer()
        self._de = TypeDeserializer()

    # -- helpers -----------------------------------------------------------------------
    def table(self, spec: PersistSpec) -> str:
        return settings.table_name(spec.table, self.environ)

    def _dump(self, data: dict) -> dict:
        return {k: self._ser.serialize(v) for k, v in to_store(data).items()}

    def _load(self, item: dict) -> dict:
        return {k: self._de.deserialize(v) for k, v in item.items()}

    def _call(self, spec: PersistSpec, op: str, **kwargs):
        table = kwargs.get("TableName")
        try:
            return getattr(self.client, op)(**kwargs)
        except ClientError as e:
            code = e.response.get("Error", {}).get("Code", "")
            if code in UNAVAILABLE_CODES:
                why = (
                    f"table {table!r} does not exist"
                    if code == "ResourceNotFoundException"
                    else code
                )
                raise PersistUnavailableError(
                    f"{spec.definition}: the store cannot serve {op} ({why})"
                ) from None
            raise
        except NoCredentialsError:
            raise PersistUnavailableError(
                f"{spec.definition}: no AWS credentials for DynamoDB (the instance role, or "
                "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)"
            ) from None
        except BotoCoreError as e:  # connection refused/closed, timeouts
            # the endpoint is for the log only: a client never sees an internal address
            log.warning("x-persist: DynamoDB at %s: %s", self.url or "AWS", e)
            raise PersistUnavailableError(
                f"{spec.definition}: the store cannot be reached ({type(e).__name__})"
            ) from None

    # -- the interface -------------------------------------------------------------------
    def get(self, spec: PersistSpec, key: dict) -> dict | None:
        reply = self._call(
            spec, "get_item", TableName=self.table(spec), Key=self._dump(key), ConsistentRead=True
        )
        item = reply.get("Item")
        return self._load(item) if item else None

    def put(self, spec: PersistSpec, item: dict, expected: int | None) -> int:
        version = (expected or 0) + 1
        attr = spec.version_attribute
        body = self._dump({**item, attr: version, WRITE_ID: uuid.uuid4().hex})
        if expected is None:
            condition, names, values = "attribute_not_exists(#k)", {"#k": spec.key}, None
        else:
            condition, names = "#v = :v", {"#v": attr}
            values = {":v": {"N": str(expected)}}
        kwargs = {
            "TableName": self.table(spec),
            "Item": body,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
        }
        if values:
            kwargs["ExpressionAttributeValues"] = values
        try:
            self._call(spec, "put_item", **kwargs)
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            key = spec.key_of(item)
            stored = self._call(
                spec,
                "get_item",
                TableName=self.table(spec),
                Key=self._dump(key),
                ConsistentRead=True,
            ).get("Item")
            if stored == body:  # our own write (same write id), retried after a lost response
                return version
            raise _conflict(spec, key, expected, stored, attr) from None
        return version

    def delete(self, spec: PersistSpec, key: dict, expected: int | None) -> bool:
        kwargs = {"TableName": self.table(spec), "Key": self._dump(key), "ReturnValues": "ALL_OLD"}
        if expected is not None:
            kwargs.update(
                ConditionExpression="#v = :v",
                ExpressionAttributeNames={"#v": spec.version_attribute},
                ExpressionAttributeValues={":v": {"N": str(expected)}},
            )
        try:
            reply = self._call(spec, "delete_item", **kwargs)
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            raise PersistConflictError(
                f"{spec.definition} {_key_text(key)}: changed since it was loaded "
                f"(version {expected}): reload it and try again"
            ) from None
        return bool(reply.get("Attributes"))

    def query(self, spec: PersistSpec, value, **options) -> tuple[list[dict], str | None]:
        q = QueryOptions(**options)
        index, sort, token = q.index, q.sort, q.token
        if index is not None:
            if spec.index is None or index != spec.index.name:
                raise ValueError(
                    f"{spec.definition}: no index {index!r} "
                    f"(x-persist declares {spec.index.name if spec.index else 'none'})"
                )
            key, sort_key = spec.index.key, spec.index.sort_key
        else:
            key, sort_key = spec.key, spec.sort_key
        names = {"#k": key}
        values = {":k": self._ser.serialize(to_store(value))}
        condition = "#k = :k"
        if sort is not None:
            if not sort_key:
                raise ValueError(f"{spec.definition}: sort= needs a sort key on this table/index")
            op, *args = sort
            if op not in SORT_OPERATORS or len(args) != (2 if op == "between" else 1):
                raise ValueError(
                    f"sort= expects (op, value) with op one of {', '.join(SORT_OPERATORS)} "
                    "(or ('between', low, high)), got {sort!r}"
                )
            names["#s"] = sort_key
            for i, a in enumerate(args):
                values[f":s{i}"] = self._ser.serialize(to_store(a))
            if op == "between":
                condition += " AND #s BETWEEN :s0 AND :s1"
            elif op == "begins_with":
                condition += " AND begins_with(#s, :s0)"
            else:
                condition += f" AND #s {op} :s0"
        kwargs = {
            "TableName": self.table(spec),
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "Limit": q.limit,
            "ScanIndexForward": not q.descending,
        }
        if index is not None:
            kwargs["IndexName"] = index
        if token:
            kwargs["ExclusiveStartKey"] = _decode_token(spec, token)
        try:
            reply = self._call(spec, "query", **kwargs)
        except ClientError as e:
            if token and e.response.get("Error", {}).get("Code") == "ValidationException":
                raise PersistPageTokenError(
                    f"{spec.definition}: the page token does not belong to this query"
                ) from None
            raise
        items = [self._load(i) for i in reply.get("Items", [])]
        last = reply.get("LastEvaluatedKey")
        return items, (_encode_token(last) if last else None)

    def ensure_table(self, spec: PersistSpec) -> bool:
        """Create the table on a local DynamoDB if missing; True when it was created."""
        if not self.local:
            raise RuntimeError(
                f"refusing to create table {self.table(spec)!r}: {self.url or 'AWS'} is not a "
                "local DynamoDB (on AWS the stage stacks own the tables)"
            )
        name = self.table(spec)
        try:
            self.client.describe_table(TableName=name)
            return False
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
        attrs = {spec.key: spec.key_type}
        schema = [{"AttributeName": spec.key, "KeyType": "HASH"}]
        if spec.sort_key:
            attrs[spec.sort_key] = spec.sort_type
            schema.append({"AttributeName": spec.sort_key, "KeyType": "RANGE"})
        kwargs = {
            "TableName": name,
            "KeySchema": schema,
            "BillingMode": "PAY_PER_REQUEST",
        }
        if spec.index:
            ix = spec.index
            attrs[ix.key] = ix.key_type
            ischema = [{"AttributeName": ix.key, "KeyType": "HASH"}]
            if ix.sort_key:
                attrs[ix.sort_key] = ix.sort_type
                ischema.append({"AttributeName": ix.sort_key, "KeyType": "RANGE"})
            kwargs["GlobalSecondaryIndexes"] = [
                {
                    "IndexName": ix.name,
                    "KeySchema": ischema,
                    "Projection": {"ProjectionType": "ALL"},
                }
            ]
        kwargs["AttributeDefinitions"] = [
            {"AttributeName": k, "AttributeType": t} for k, t in attrs.items()
        ]
        created = True
        try:
            self.client.create_table(**kwargs)
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") != "ResourceInUseException":
                raise
            created = False  # another worker is creating it
        deadline = time.monotonic() + TABLE_WAIT_SECONDS
        while time.monotonic() < deadline:
            table = self.client.describe_table(TableName=name)["Table"]
            indexes = table.get("GlobalSecondaryIndexes") or []
            if table["TableStatus"] == "ACTIVE" and all(
                i.get("IndexStatus", "ACTIVE") == "ACTIVE" for i in indexes
            ):
                break
            time.sleep(0.05)
        if created:
            log.info("created local table %s (%s) at %s", name, spec.definition, self.url)
        return created


def _key_text(key: dict) -> str:
    return "[" + ", ".join(f"{k}={v!r}" for k, v in key.items()) + "]"


def _conflict(spec, key, expected, stored, attr) -> PersistConflictError:
    if expected is None:
        return PersistConflictError(
            f"{spec.definition} {_key_text(key)}: already exists (saved as new)"
        )
    if stored is None:
        return PersistConflictError(
            f"{spec.definition} {_key_text(key)}: was deleted since it was loaded"
        )
    now = (stored.get(attr) or {}).get("N", "?")
    return PersistConflictError(
        f"{spec.definition} {_key_text(key)}: changed since it was loaded "
        f"(loaded version {expected}, stored version {now}): reload it and try again"
    )


def _encode_token(last: dict) -> str:
    raw = json.dumps(last, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(spec: PersistSpec, token: str) -> dict:
    allowed = {spec.key, spec.sort_key}
    if spec.index:
        allowed |= {spec.index.key, spec.index.sort_key}
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
        ok = (
            isinstance(data, dict)
            and data
            and all(
                k in allowed
                and isinstance(v, dict)
                and len(v) == 1
                and next(iter(v)) in ("S", "N")
                and isinstance(next(iter(v.values())), str)
                for k, v in data.items()
            )
        )
    except (ValueError, TypeError):
        ok = False
    if not ok:
        raise PersistPageTokenError(f"{spec.definition}: not a page token of this table")
    return data
