"""How many messages wait in a queue, asked of the broker through kombu (Redis and the filesystem)."""

from __future__ import annotations

from kombu.exceptions import ChannelError

from shared.broker import get_celery


def waiting_messages(queues: list[str]) -> dict[str, int]:
    """Messages waiting in each queue, not counting those a worker has taken and not yet acknowledged.

    A passive declare only asks; it never creates a queue. Redis deletes a list once it is empty, and then
    answers that the queue does not exist: that is zero waiting. Connection errors propagate.
    """
    counts: dict[str, int] = {}
    with get_celery().connection_for_read() as connection:
        for queue in queues:
            # A channel per question: on some transports a refused declare closes the channel.
            with connection.channel() as channel:
                try:
                    counts[queue] = channel.queue_declare(queue=queue, passive=True).message_count
                except ChannelError:
                    counts[queue] = 0
    return counts
