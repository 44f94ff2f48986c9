"""The queue core: generic, knows nothing about the shop."""

from shared.queue.errors import EnqueueError, InvalidPayloadError, UnknownJobTypeError
from shared.queue.priority import Priority
from shared.queue.producer import enqueue
from shared.queue.registry import JobRegistry, JobType

__all__ = [
    "EnqueueError",
    "InvalidPayloadError",
    "JobRegistry",
    "JobType",
    "Priority",
    "UnknownJobTypeError",
    "enqueue",
]
