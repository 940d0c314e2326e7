"""How the inference threads hand work to each other: bounded queues, polled so a stop is seen fast."""

from __future__ import annotations

QUEUE_DEPTH = 2  # batches read ahead / strips waiting to be written
POLL_S = 0.1  # how often waiting threads look at the stop or cancel flag
END = object()
"""Put on a queue after the last item."""
