"""The reliable handler taking several event types on one queue (used by notify), and the topology
that declares those queues before any service starts."""
import pytest
from marshmallow import ValidationError

from gateway import auth
from ops import topology
from services.common.errors import Invalid
from services.common.handlers import handler_queue, reliable_handler, side_queues
from services.notify import templates
from services.notify.schemas import EnrolmentOutcomeSchema


def test_a_single_type_keeps_its_queue_name_and_binding():
    queue = handler_queue("enrolment", "enrolment_confirmed", "notify", "on_enrolment_confirmed")
    assert queue.name == "evt-enrolment-enrolment_confirmed--notify.on_enrolment_confirmed"
    assert queue.routing_key == "enrolment_confirmed" and queue.exchange.name == "enrolment.events"
    assert not queue.bindings


def test_several_types_share_one_queue_bound_once_per_type():
    queue = handler_queue("venues", ("booking_pending", "room_closed", "booking_pending"), "notify", "on_venues")
    assert queue.name == "evt-venues--notify.on_venues"
    assert sorted(b.routing_key for b in queue.bindings) == ["booking_pending", "room_closed"]
    assert {b.exchange.name for b in queue.bindings} == {"venues.events"}
    assert {b.exchange.arguments["alternate-exchange"] for b in queue.bindings} == {"palace.unrouted"}
    assert [q.name for q in side_queues(queue.name, [0.2])] == [
        "evt-venues--notify.on_venues.retry.200ms", "evt-venues--notify.on_venues.dead"]


def test_a_handler_needs_at_least_one_type():
    with pytest.raises(ValueError):
        reliable_handler("venues", ())


def test_the_topology_declares_one_queue_per_source_for_notify_covering_every_template_and_alert():
    queues = {q.name: q for q, _ in topology.handler_queues(topology.service_class("notify"))}
    bound = set()
    for queue in queues.values():
        source = queue.name.split("-")[1]
        keys = [b.routing_key for b in queue.bindings] or [queue.routing_key]
        bound.update(f"{source}.{k}" for k in keys)
    own = {t for t in templates.CATALOGUE if not t.startswith(("notify.", "staff."))}
    assert bound == own | set(templates.ALERTS) | {"gateway.account_registered", "gateway.account_closed",
                                                   "gateway.account_phone_changed"}
    assert {"evt-enrolment--notify.on_enrolment", "evt-venues--notify.on_venues",
            "evt-welfare--notify.on_welfare"} <= set(queues)
    assert len(queues) == 9, ("three shared queues; reset codes, phone codes, new and closed accounts, phones and unit"
                              " invitations from the gateway")


@pytest.mark.parametrize("header, language", [
    (None, "zh-CN"), ("", "zh-CN"), ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"), ("en-US,en;q=0.9", "en"),
    ("en-US,en;q=0.9,zh-CN;q=0.8", "en"), ("fr-FR,fr;q=0.9", "zh-CN"), ("fr,en;q=0.5", "en"),
    ("zh-TW;q=0.4,en-GB;q=0.7", "en"), ("en;q=0.3,zh;q=0.8", "zh-CN"), ("*", "zh-CN"), ("en;q=oops", "zh-CN"),
])
def test_a_new_member_hears_in_chinese_unless_their_browser_prefers_english(header, language):
    assert auth.language(header) == language


def test_notify_checks_an_enrolment_outcome_by_what_it_reads_and_lets_new_fields_pass():
    outcome = {"enrolment_id": "5d0c6f7e-0a0b-4c1d-8e2f-3a4b5c6d7e8f", "course_id": "6e1d7f8a-1b2c-4d3e-9f40-4b5c6d7e8f90",
               "course_title": "茶艺", "member_id": "7d1c0b8e-3f0a-4c55-9c0e-1b2a3c4d5e6f", "status": "confirmed",
               "position": None, "seats_left": 3, "something_enrolment_adds_later": True}
    assert EnrolmentOutcomeSchema().load(outcome)["course_title"] == "茶艺"
    with pytest.raises(ValidationError) as missing:
        EnrolmentOutcomeSchema().load({k: v for k, v in outcome.items() if k != "member_id"})
    assert "member_id" in missing.value.messages


def test_work_waiting_for_staff_becomes_an_alert_of_its_own_to_each_holder_of_the_role_asked_once():
    from services.notify import fanout
    asked = []

    def staff(roles):
        asked.append(roles)
        return ["1c0f6e2a-7b3d-4e5f-8a9b-0c1d2e3f4a5b", "2d1a7f3b-8c4e-4f60-9bac-1d2e3f4a5b6c"]

    booker = "7d1c0b8e-3f0a-4c55-9c0e-1b2a3c4d5e6f"
    events = [{"event_id": f"00000000-0000-4000-8000-00000000000{i}", "event_type": "venues.booking_pending",
               "payload": {"member_id": booker, "room_name": "二号厅"}} for i in (1, 2)]
    events.append({"event_id": "00000000-0000-4000-8000-000000000003", "event_type": "welfare.case_assigned",
                   "payload": {"officer_id": "3e2b8a4c-9d5f-4a71-8cbd-2e3f4a5b6c7d", "reference": "WF-1"}})
    found = fanout.alerts(events, staff)
    assert asked == [("venue_manager",)], "the role holders are asked once a group"
    assert [(a["event_type"], m) for a, m in found] == [
        ("staff.booking_waiting", "1c0f6e2a-7b3d-4e5f-8a9b-0c1d2e3f4a5b"),
        ("staff.booking_waiting", "2d1a7f3b-8c4e-4f60-9bac-1d2e3f4a5b6c")] * 2 + [
        ("staff.case_assigned", "3e2b8a4c-9d5f-4a71-8cbd-2e3f4a5b6c7d")]
    assert found[0][0]["event_id"] == fanout.alerts(events[:1], staff)[0][0]["event_id"] != events[0]["event_id"]
    assert fanout.check(events[2]) == [], "a case assigned has no message for the member"
    with pytest.raises(Invalid):
        fanout.check({**events[2], "payload": {"officer_id": "nobody"}})
