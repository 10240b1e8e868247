"""Order confirmation emails: one per paid order, sent by the worker from an outbox flag.

A paid order carries ``email_due`` (set in the transaction that made it paid, so a rolled-back
order never has it). The worker claims one order at a time (``SKIP LOCKED``: two workers never
take the same one), clears the flag and commits, then sends. So a message is sent at most once:
a crash after the commit loses it rather than sending it twice; a send that fails puts the flag
back and the task is retried.
"""

import logging

from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from apps.orders.models import Order
from apps.orders.selectors import LINE_COLUMNS, line_payload

logger = logging.getLogger(__name__)


def order_confirmations_send(*, limit: int = 200) -> int:
    """Send the confirmation of up to ``limit`` paid orders whose email is due; return how many."""
    sent = 0
    while sent < limit:
        claimed = _claim_one()
        if claimed is None:
            break
        order, email, lines = claimed
        try:
            if email:
                send_mail(*_message(order, lines), from_email=None, recipient_list=[email])
        except Exception:
            Order.objects.filter(pk=order.pk).update(email_due=True, email_sent_at=None)
            raise
        logger.info("confirmation sent: order %s", order.number)
        sent += 1
    return sent


@transaction.atomic
def _claim_one() -> tuple[Order, str, list[dict]] | None:
    order = (
        Order.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(email_due=True)
        .select_related("user")
        .only("id", "number", "total", "currency", "user__email")
        .order_by("id")
        .first()
    )
    if order is None:
        return None
    lines = [line_payload(*row[1:]) for row in order.lines.values_list(*LINE_COLUMNS)]
    Order.objects.filter(pk=order.pk).update(email_due=False, email_sent_at=timezone.now())
    return order, order.user.email, lines


def _message(order: Order, lines: list[dict]) -> tuple[str, str]:
    body = [f"Thank you: order {order.number} is paid.", ""]
    body += [
        f"{line['quantity']} x {line['sku']} at {line['unit_price']} = {line['line_total']}"
        for line in lines
    ]
    body += ["", f"Total: {order.total:.2f} {order.currency}"]
    return f"Your order {order.number}", "\n".join(body)
