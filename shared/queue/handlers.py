"""What a job handler receives and may raise. Handlers live with the domain; the runtime is generic."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from shared.db.sql import Executor
from shared.queue.consumer import ClaimedJob

CompletionHook = Callable[[Executor], None]


class PermanentJobError(Exception):
    """Retrying cannot help (bad data, missing row): the job goes to the dead-letter queue at once."""


@dataclass
class JobContext:
    """The running job, plus work to do in the transaction that marks it completed."""

    job: ClaimedJob
    completion_hooks: list[CompletionHook] = field(default_factory=list)

    def on_complete(self, hook: CompletionHook) -> None:
        """Run `hook(connection)` inside the completing transaction (fan-out, bookkeeping).

        The hook commits with the completion or not at all, so children are enqueued exactly when
        their parent completes.
        """
        self.completion_hooks.append(hook)


Handler = Callable[[JobContext, Any], Awaitable[None]]
