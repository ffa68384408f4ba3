"""Finding URLs whose task message was lost, and queueing them again.

kombu's Redis transport takes a message off its queue (BRPOP) and only then records it as unacknowledged; a worker
killed between the two loses that message, and its URL would wait forever in ``queued`` or ``fetched``. When the
broker holds no message at all (every queue empty, nothing unacknowledged, which includes tasks waiting out a
countdown), no URL of an unfinished batch can still be on its way: those URLs are queued again from the fetch stage.
Doing it twice is harmless: every stage is idempotent and progress counts each URL once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis

from workers.state.progress import ProgressTracker
from workers.state.queues import queue_depths

logger = logging.getLogger(__name__)
#: A second look at the broker this much later: a message between BRPOP and its unacked record is gone by then.
IDLE_CONFIRM_SECONDS = 2.0
MAX_BATCHES = 1000


@dataclass
class LostTaskSweeper:
    redis: redis.Redis
    progress: ProgressTracker
    prefix: str
    requeue: Callable[[str, str], None]  # (url, batch): queue the URL's fetch again

    def sweep(self) -> int:
        """Queue again the unfinished URLs of unfinished batches if the broker holds nothing; how many were."""
        if not self._broker_idle():
            return 0
        stalled = {batch: ids for batch in self._unfinished_batches() if (ids := self.progress.unfinished_urls(batch))}
        if not stalled:
            return 0
        time.sleep(IDLE_CONFIRM_SECONDS)
        if not self._broker_idle():
            return 0
        requeued = 0
        for batch, unfinished in stalled.items():
            urls = [url for url in unfinished.values() if url is not None]
            for url in urls:
                self.requeue(url, batch)
            requeued += len(urls)
            logger.warning("batch %s: queued %d URLs again whose task message was lost (%d whose URL Redis does not "
                           "hold)", batch, len(urls), len(unfinished) - len(urls))
        return requeued

    def _unfinished_batches(self) -> list[str]:
        """Recent batches whose counters say some URL is not final yet: only their URL states are worth a scan."""
        return [batch for batch in self.progress.recent_batches(MAX_BATCHES)
                if (progress := self.progress.progress(batch)) is not None and not progress.finished]

    def _broker_idle(self) -> bool:
        return not any(queue_depths(self.redis, self.prefix).values())
