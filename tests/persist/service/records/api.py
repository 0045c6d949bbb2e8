"""Handlers: records stored whole; counters incremented with optimistic concurrency."""

from __future__ import annotations

from pymacaron.models import Counter, Record


def put_record(body, record_id):
    record = Record.load(record_id)
    data = {**body.to_json(keep_datetime=True), "id": record_id}
    if record is None:
        record = Record(**data)
    else:
        record.__dict__.clear()
        record.update_from_dict(data)
    return record.save()


def get_record(record_id):
    return Record.load_or_404(record_id)


def increment(name):
    """One read-modify-write: a concurrent increment makes this one a 409 PERSIST_CONFLICT."""
    counter = Counter.load(name) or Counter(name=name, value=0)
    counter.value += 1
    return counter.save()


def get_counter(name):
    return Counter.load_or_404(name)
