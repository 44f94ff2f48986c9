"""The queue core: generic, knows nothing about the shop."""

from shared.queue.context import ClaimedJob, JobContext, WorkerEnv
from shared.queue.errors import EnqueueError, InvalidPayloadError, PermanentJobError, UnknownJobTypeError
from shared.queue.priority import Priority
from shared.queue.producer import JobSpec, enqueue, enqueue_many
from shared.queue.registry import JobRegistry, JobType, JobTypes
from shared.queue.status import JobStatus

__all__ = [
    "ClaimedJob",
    "EnqueueError",
    "InvalidPayloadError",
    "JobContext",
    "JobRegistry",
    "JobSpec",
    "JobStatus",
    "JobType",
    "JobTypes",
    "PermanentJobError",
    "Priority",
    "UnknownJobTypeError",
    "WorkerEnv",
    "enqueue",
    "enqueue_many",
]
