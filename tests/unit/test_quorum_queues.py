"""PALACE_QUORUM_QUEUES (a RabbitMQ cluster): every queue that must outlive a node is a quorum queue
and the delay queues dead-letter at least once; without it the queues are as they always were."""
from services.common import events, handlers


def queues(delays=(1, 5)):
    main = handlers.handler_queue("enrolment", "enrolment_confirmed", "notify", "seat_confirmed")
    return main, handlers.side_queues(main.name, list(delays))


def test_on_a_cluster_handler_retry_dead_and_unrouted_queues_are_quorum_queues(monkeypatch):
    monkeypatch.setenv("PALACE_QUORUM_QUEUES", "1")
    main, sides = queues()
    for queue in [main, *sides, events.unrouted_queue()]:
        assert queue.queue_arguments["x-queue-type"] == "quorum", queue.name
        assert queue.durable


def test_on_a_cluster_a_delay_queue_sends_its_messages_back_at_least_once(monkeypatch):
    monkeypatch.setenv("PALACE_QUORUM_QUEUES", "true")
    main, sides = queues()
    retry = sides[0]
    assert retry.name == f"{main.name}.retry.1000ms"
    assert retry.queue_arguments == {"x-queue-type": "quorum", "x-message-ttl": 1000, "x-dead-letter-exchange": "",
                                     "x-dead-letter-routing-key": main.name,
                                     "x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish"}


def test_on_one_broker_the_queues_keep_their_classic_arguments(monkeypatch):
    monkeypatch.delenv("PALACE_QUORUM_QUEUES", raising=False)
    main, sides = queues()
    assert not main.queue_arguments and not sides[-1].queue_arguments
    assert sides[0].queue_arguments == {"x-message-ttl": 1000, "x-dead-letter-exchange": "",
                                        "x-dead-letter-routing-key": main.name}
    assert "x-queue-type" not in events.unrouted_queue().queue_arguments
