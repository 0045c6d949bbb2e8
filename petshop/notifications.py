"""Order notifications: an @asynctask, and the endpoint that shows what it sent.

``create_order`` calls ``notify_order_placed(order)``. With ``with_async: true`` the call
enqueues a task and the worker sends the notification (here: writes it to the outbox the
``GET /orders/{order_id}/notifications`` endpoint reads); with ``with_async: false`` (the
default) it runs inline, before the order's reply. Delivery is at least once, so sending is
idempotent: one notification per (order, kind).

The outbox is a table of the shop's SQLite file (``store.db_path()``), shared by the server
and the worker of one host.
"""

from __future__ import annotations

import sqlite3
import time

from pymacaron.auth import get_userid
from pymacaron.logs import get_request_id
from pymacaron.models import Notification
from pymacaron.tasks import asynctask

from . import store

ORDER_PLACED = "order_placed"


def _connect() -> sqlite3.Connection:
    conn = sqlite3.connect(store.db_path(), timeout=5)
    conn.execute(
        "CREATE TABLE IF NOT EXISTS notifications (order_id TEXT NOT NULL, kind TEXT NOT NULL,"
        " customer TEXT, message TEXT NOT NULL, request_id TEXT, sent_at REAL NOT NULL,"
        " PRIMARY KEY (order_id, kind))"
    )
    return conn


@asynctask(retries=5, backoff=2)
def notify_order_placed(order):
    """Tell the customer their order is placed (``order``: an Order model)."""
    count = len(order.items)
    message = (
        f"Order {order.id}: {count} pet{'s' if count > 1 else ''}, "
        f"{order.total.amount:.2f} {order.total.currency}, "
        f"delivered to {order.delivery.name} in {order.delivery.city}."
    )
    with _connect() as conn:
        conn.execute(
            "INSERT OR IGNORE INTO notifications VALUES (?, ?, ?, ?, ?, ?)",
            (order.id, ORDER_PLACED, get_userid(), message, get_request_id(), time.time()),
        )
    conn.close()


def list_notifications(order_id):
    """GET /orders/{order_id}/notifications (authenticated): the caller's, oldest first."""
    with _connect() as conn:
        rows = conn.execute(
            "SELECT order_id, kind, customer, message, request_id FROM notifications"
            " WHERE order_id = ? AND customer = ? ORDER BY sent_at",
            (order_id, get_userid()),
        ).fetchall()
    conn.close()
    keys = ("order_id", "kind", "customer", "message", "request_id")
    return [
        Notification.from_json({k: v for k, v in zip(keys, row, strict=True) if v}) for row in rows
    ]
