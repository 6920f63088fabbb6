"""Notifications: a transactional outbox (written with the business change) and the in-app inbox."""

from xiangchuang.outbox.service import (
    Adapter,
    DeliveryReport,
    InAppAdapter,
    InboxItem,
    OutboxError,
    PendingMessage,
    deliver_pending,
    enqueue,
    inbox,
    mark_read,
)

__all__ = [
    "Adapter",
    "DeliveryReport",
    "InAppAdapter",
    "InboxItem",
    "OutboxError",
    "PendingMessage",
    "deliver_pending",
    "enqueue",
    "inbox",
    "mark_read",
]
