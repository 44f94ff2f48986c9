"""The queue core: generic, knows nothing about the shop."""

from shared.queue.errors import EnqueueError, InvalidPayload, UnknownJobType
from shared.queue.priority import Priority
from shared.queue.producer import enqueue
from shared.queue.registry import JobRegistry, JobType

__all__ = [
    "EnqueueError",
    "InvalidPayload",
    "JobRegistry",
    "JobType",
    "Priority",
    "UnknownJobType",
    "enqueue",
]
