"""broadcast: one message to 20,000 members, paced at the SMS provider's rate, and a second one
cancelled halfway.

An isolated palace runs notify and the gateway's feed, with the local fake of Aliyun's SMS service
(tests/providers.py: it checks every signature). The members' SMS contacts are written into notify's
database; the broadcasts are sent over RPC as the gateway sends them (the audience resolved). Bars:
every member gets one inbox entry and one SMS; the SMS go no faster than the configured rate (and
not much slower); the cancelled broadcast stops with members left untold, none of them texted.
Quiet hours are off (held messages would wait for the morning); CPU is per message of notify,
PostgreSQL and RabbitMQ (the machine's whole servers: on a shared machine, others' work counts too).
While a broadcast fans out, the dispatcher's rounds alternate telling a group and sending a batch,
so the rate is also given for the time after the fan-out, when it only sends.

`python -m bench broadcast [--quick] [--members N] [--rate R]`"""
import argparse
import sys
import time
import uuid

from bench._palace import cpu_per, cpu_seconds, palace, report
from tests.harness import eventually
from tests.providers import Providers, sms_env

ADMIN = {"caller_id": str(uuid.uuid4()), "caller_roles": "admin"}


def members_with_phones(stack, count):
    members = [str(uuid.uuid4()) for _ in range(count)]
    phones = [f"13{i:09d}" for i in range(count)]
    with stack.db("notify") as conn:
        conn.execute("INSERT INTO contacts (member_id, phone) SELECT * FROM unnest(%s::uuid[], %s::text[])",
                     (members, phones))
    return members


def broadcast(stack, title, members):
    with stack.rpc(context=ADMIN, timeout=60) as rpc:
        return rpc.notify.broadcast({"audience": "all", "title": title, "body": "元旦游园会1月1日上午开始。"},
                                    members)


def progress(stack, broadcast_id):
    with stack.rpc(context=ADMIN) as rpc:
        return rpc.notify.get_broadcast(broadcast_id)


def main(argv):
    parser = argparse.ArgumentParser(prog="python -m bench broadcast")
    parser.add_argument("--quick", action="store_true", help="2,000 members instead of 20,000")
    parser.add_argument("--members", type=int)
    parser.add_argument("--rate", type=float, default=200.0, help="SMS a second the provider takes")
    args = parser.parse_args(argv)
    count = args.members or (2000 if args.quick else 20000)

    provider = Providers()
    stack = palace(extra_env={**sms_env(provider.url + "/sms"), "PALACE_NOTIFY_RATES": f"sms={args.rate}",
                              "PALACE_NOTIFY_QUIET_HOURS": "off", "PALACE_NOTIFY_POLL": "0.1"},
                   names=["gateway-feed", "notify"])
    try:
        members = members_with_phones(stack, count)
        before, started = cpu_seconds(stack), time.monotonic()
        sent = broadcast(stack, "文化宫通知", members)
        eventually(lambda: progress(stack, sent["id"])["state"] == "done", timeout=count / 50 + 60, interval=0.5)
        told_at = time.monotonic() - started
        eventually(lambda: len(provider.sent("/sms")) >= count, timeout=count / args.rate * 1.5 + 60, interval=0.5)
        texted_at = time.monotonic() - started
        cpu = cpu_per(before, cpu_seconds(stack), count)
        times = sorted(r[3] for r in provider.sent("/sms"))
        paced = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
        # once every member is told, the dispatcher does nothing but send: the rate it keeps then
        steady = [t for t in times if t >= started + told_at]
        kept = (len(steady) - 1) / (steady[-1] - steady[0]) if len(steady) > 1 else 0.0
        with stack.db("notify") as conn:
            inbox = conn.execute("SELECT count(*) AS n, count(DISTINCT member_id) AS members FROM inbox"
                                 " WHERE event_id = %s", (sent["id"],)).fetchone()
        phones = [r[2]["PhoneNumbers"] for r in provider.sent("/sms")]

        second = broadcast(stack, "取消的通知", members)
        eventually(lambda: progress(stack, second["id"])["told"] >= count // 2, timeout=count / 50 + 60, interval=0.05)
        with stack.rpc(context=ADMIN) as rpc:
            cancelled = rpc.notify.cancel_broadcast(second["id"])
        time.sleep(2)
        stopped = progress(stack, second["id"])
        with stack.db("notify") as conn:
            second_inbox = conn.execute("SELECT count(*) AS n FROM inbox WHERE event_id = %s",
                                        (second["id"],)).fetchone()["n"]
    finally:
        stack.destroy()
        provider.stop()

    result = {
        "quick": args.quick, "members": count, "provider_rate": args.rate,
        "inbox_entries": inbox["n"], "inbox_members": inbox["members"], "sms": len(phones),
        "sms_phones": len(set(phones)), "sms_refused": sum(1 for r in provider.sent("/sms") if r[2]["Code"] != "OK"),
        "told_all_s": round(told_at, 1), "texted_all_s": round(texted_at, 1),
        "inbox_per_s": round(count / told_at, 1), "sms_per_s": round(paced, 1),
        "sms_per_s_after_the_fan_out": round(kept, 1),
        "cpu_ms_per_message": {k: v for k, v in cpu.items() if k in ("notify", "postgres", "rabbitmq")},
        "cancelled_state": cancelled["state"], "cancelled_told": stopped["told"], "cancelled_inbox": second_inbox,
    }
    return report("broadcast", result, {
        "each_inbox_once": inbox["n"] == inbox["members"] == count,
        "each_sms_once": len(phones) == len(set(phones)) == count and result["sms_refused"] == 0,
        "no_faster_than_the_rate": paced <= 1.05 * args.rate and kept <= 1.05 * args.rate,
        "at_the_rate_after_the_fan_out": kept >= 0.8 * args.rate,  # or the machine could not send that fast
        "cancel_stops_the_rest": stopped["state"] == "cancelled" and count // 2 <= stopped["told"] < count
        and second_inbox == stopped["told"],
    })


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
