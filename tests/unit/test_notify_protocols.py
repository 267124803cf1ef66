"""The providers' protocols as notify speaks them, against the providers' documented examples."""
from services.notify import channels


def test_the_aliyun_signature_matches_the_documented_example():
    # Aliyun's "signature mechanism" page: DescribeRegions signed with the secret `testsecret`
    params = {"AccessKeyId": "testid", "Action": "DescribeRegions", "Format": "XML",
              "SignatureMethod": "HMAC-SHA1", "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
              "SignatureVersion": "1.0", "Timestamp": "2016-02-23T12:46:24Z", "Version": "2014-05-26"}
    assert channels.aliyun_signature("GET", params, "testsecret") == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="


def test_aliyun_encodes_a_space_as_percent_20_and_leaves_the_tilde():
    assert channels._aliyun_encode("a b*~/中") == "a%20b%2A~%2F%E4%B8%AD"


def test_every_wechat_message_has_only_keyword_fields_within_their_limits():
    from services.notify import templates
    long = "一二三四五六七八九十" * 5
    payload = {"course_title": long, "title": long, "room_name": long, "programme_title": long, "plan_title": long,
               "code": "7" * 40, "reference": "R" * 40, "amount": "1234567.5", "position": 3,
               "starts_at": "2027-03-02T19:00:00+08:00", "decision": "approve"}
    for event_type in templates.CATALOGUE:
        data = templates.render(event_type, payload, "zh-CN")["wechat"]["data"]
        assert data and not {"first", "remark"} & set(data), event_type
        for keyword, field in data.items():
            kind = keyword.rstrip("0123456789")
            assert set(field) == {"value"} and 0 < len(field["value"]) <= templates.WECHAT_LIMITS[kind], (
                event_type, keyword, field)


class Clock:
    def __init__(self):
        self.now, self.slept = 100.0, []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(round(seconds, 6))


def test_a_paced_channel_sends_at_its_rate_and_an_unpaced_one_at_once():
    from services.notify.dispatch import Pacer
    clock = Clock()
    pacer = Pacer({"sms": 4, "wechat": 0}, clock=clock, sleep=clock.sleep)
    for _ in range(5):
        pacer.wait("sms")
    pacer.wait("wechat")
    pacer.wait("email")
    assert clock.slept == [0.25, 0.5, 0.75, 1.0], "four a second: each send a quarter second after the last"
    clock.now += 10  # idle a while: the next send goes at once
    pacer.wait("sms")
    assert len(clock.slept) == 4


def test_a_paced_batch_fits_in_half_a_lease():
    from services.notify.dispatch import Pacer
    assert Pacer({"sms": 2}).batch(lease_seconds=60) == 60
    assert Pacer({"sms": 20, "email": 10}).batch(lease_seconds=60) == 100
    assert Pacer({}).batch(lease_seconds=1) == 100
    assert Pacer({"sms": 0.1}).batch(lease_seconds=1) == 1
