"""Order notifications: an @asynctask, and the endpoint that shows what it sent.

``create_order`` calls ``notify_order_placed(order)``. With ``with_async: true`` the call
enqueues a task and the worker sends the notification (here: writes it to the outbox the
``GET /orders/{order_id}/notifications`` endpoint reads); with ``with_async: false`` (the
default) it runs inline, before the order's reply. Delivery is at least once, so sending is
idempotent: one notification per (order, kind).

The outbox is the Notification model, ``x-persist`` in DynamoDB (apis/petshop.yaml): the
server and the worker, on any host, see the same one.
"""

from __future__ import annotations

from pymacaron.auth import get_userid
from pymacaron.logs import get_request_id
from pymacaron.models import Notification
from pymacaron.persist import PersistConflictError
from pymacaron.tasks import asynctask

ORDER_PLACED = "order_placed"


@asynctask(retries=5, backoff=2)
def notify_order_placed(order):
    """Tell the customer their order is placed (``order``: an Order model)."""
    count = len(order.items)
    message = (
        f"Order {order.id}: {count} pet{'s' if count > 1 else ''}, "
        f"{order.total.amount:.2f} {order.total.currency}, "
        f"delivered to {order.delivery.name} in {order.delivery.city}."
    )
    notification = Notification(
        order_id=order.id,
        kind=ORDER_PLACED,
        customer=get_userid(),
        message=message,
        request_id=get_request_id(),
    )
    try:
        notification.save()
    except PersistConflictError:
        pass  # sent already: a redelivered task


def list_notifications(order_id):
    """GET /orders/{order_id}/notifications (authenticated): the caller's, oldest first."""
    page = Notification.query(order_id, limit=100)
    return [n for n in page.items if n.customer == get_userid()]
