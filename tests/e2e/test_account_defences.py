"""The accounts' defences against guessing, spraying and stolen tokens (issue 18), on the gateway alone:
limits that count before the password is checked, registrations limited per address, client
addresses read from proxy headers only when a trusted proxy sent them, and tokens that end when
the password changes or a refresh token is replayed."""
import itertools

import pytest
import requests

from tests.harness import ADMIN_PASSWORD, ADMIN_PHONE, at_once, eventually

PASSWORD = "member-password"
PROXY = "127.0.0.1"  # the tests' own address stands for the palace's reverse proxy
_phones = (str(n) for n in itertools.count(13_600_000_000))
_addresses = (f"198.51.{n // 250}.{n % 250 + 1}" for n in itertools.count())


@pytest.fixture(scope="module")
def gateway(stack):
    """The gateway alone, behind a trusted proxy at 127.0.0.1, with the production limits counted in
    day-long windows (no window ends in the middle of a test)."""
    stack.env.update(PALACE_SIGNIN_PHONE_LIMIT="5/86400", PALACE_SIGNIN_ADDRESS_LIMIT="30/86400",
                     PALACE_REGISTER_ADDRESS_LIMIT="10/86400", PALACE_TRUSTED_PROXIES=PROXY)
    stack.start("gateway")
    return stack


def _post(base, path, body, address=None, headers=None):
    """A request that our proxy passes on from `address` (it appends the client to X-Forwarded-For)."""
    headers = {**({"X-Forwarded-For": address} if address else {}), **(headers or {})}
    return requests.post(f"{base}{path}", json=body, headers=headers, timeout=15)


def _register(base, address=None, headers=None):
    phone = next(_phones)
    answer = _post(base, "/v1/auth/register", {"phone": phone, "name": "Wang Fang", "password": PASSWORD},
                   address or next(_addresses), headers)
    return phone, answer


def _member(base):
    phone, answer = _register(base)
    assert answer.status_code == 201, answer.text
    return phone


def _sign_in(base, phone, password=PASSWORD, address=None):
    return _post(base, "/v1/auth/token", {"phone": phone, "password": password}, address or next(_addresses))


def _me(base, access_token):
    return requests.get(f"{base}/v1/me", headers={"Authorization": f"Bearer {access_token}"}, timeout=15)


def test_forty_parallel_wrong_passwords_get_five_401s_at_most_and_the_owner_gets_back_in_by_reset(gateway):
    phone = _member(gateway.url)
    addresses = [next(_addresses) for _ in range(40)]  # spread out, as a botnet would be

    def guess(address):
        def contender(go):
            go()
            return _sign_in(gateway.url, phone, "wrong-password", address).status_code
        return contender

    answers = at_once([guess(address) for address in addresses], timeout=90)
    assert 1 <= answers.count(401) <= 5 and answers.count(401) + answers.count(429) == 40, answers
    locked = _sign_in(gateway.url, phone)
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0

    address = next(_addresses)
    assert _post(gateway.url, "/v1/auth/password-resets", {"phone": phone}, address).status_code == 202
    with gateway.db("gateway") as conn:
        [code] = [gateway.reset_code(r["body"]["payload"]["code_sealed"]) for r in conn.execute(
            "SELECT body FROM outbox WHERE event_type = 'password_reset_requested'").fetchall()
            if r["body"]["payload"]["phone"] == phone]
    assert len(code) == 8 and code.isdigit()
    reset = _post(gateway.url, "/v1/auth/password-resets/confirm",
                  {"phone": phone, "code": code, "new_password": "after-the-storm"}, address)
    assert reset.status_code == 204, reset.text
    assert _sign_in(gateway.url, phone, "after-the-storm", address).status_code == 200


def test_a_new_password_ends_the_access_tokens_issued_before_it_within_two_seconds(gateway):
    phone = _member(gateway.url)
    this_device, other_device = (_sign_in(gateway.url, phone).json() for _ in range(2))
    assert _me(gateway.url, other_device["access_token"]).status_code == 200

    changed = requests.post(f"{gateway.url}/v1/me/password", json={"current_password": PASSWORD,
                            "new_password": "second-password"},
                            headers={"Authorization": f"Bearer {this_device['access_token']}"}, timeout=15)
    assert changed.status_code == 200, changed.text

    def refused(token):
        def check():
            answer = _me(gateway.url, token)
            return answer.json() if answer.status_code == 401 else None
        return check

    # the gateway re-reads the signed-out accounts every 2 s: 2 s and a request's time at most
    for old in (other_device["access_token"], this_device["access_token"]):
        assert eventually(refused(old), timeout=3, interval=0.1)["type"].endswith("/problems/signed-out")
    assert _me(gateway.url, changed.json()["access_token"]).status_code == 200, "the new token works"

    # a reset by the code staff hand over at the counter ends them the same way
    admin = _sign_in(gateway.url, ADMIN_PHONE, ADMIN_PASSWORD).json()["access_token"]
    member_id = _me(gateway.url, changed.json()["access_token"]).json()["id"]
    code = requests.post(f"{gateway.url}/v1/accounts/{member_id}/reset-code",
                         headers={"Authorization": f"Bearer {admin}"}, timeout=15).json()["code"]
    assert _post(gateway.url, "/v1/auth/password-resets/confirm",
                 {"phone": phone, "code": code, "new_password": "third-password"}).status_code == 204
    assert eventually(refused(changed.json()["access_token"]), timeout=3, interval=0.1)


def test_a_replayed_refresh_token_ends_its_whole_chain(gateway):
    phone = _member(gateway.url)
    first = _sign_in(gateway.url, phone).json()
    elsewhere = _sign_in(gateway.url, phone).json()  # another device: a chain of its own

    def refresh(token):
        return requests.post(f"{gateway.url}/v1/auth/token", json={"refresh_token": token}, timeout=15)

    second = refresh(first["refresh_token"])
    assert second.status_code == 200
    replayed = refresh(first["refresh_token"])  # a thief who copied the first token, or the member
    assert replayed.status_code == 401 and replayed.json()["type"].endswith("/problems/bad-refresh-token")
    assert refresh(second.json()["refresh_token"]).status_code == 401, "the newer token of the chain ends too"
    assert refresh(elsewhere["refresh_token"]).status_code == 200, "other sign-ins go on"


def test_reset_requests_and_confirms_are_limited_per_address_and_per_phone(gateway):
    address, phone = next(_addresses), _member(gateway.url)
    sprayed = [_post(gateway.url, "/v1/auth/password-resets", {"phone": next(_phones)}, address).status_code
               for _ in range(11)]
    assert sprayed == [202] * 10 + [429], sprayed
    asked = [_post(gateway.url, "/v1/auth/password-resets", {"phone": phone}).status_code for _ in range(4)]
    assert asked == [202] * 3 + [429], asked
    guesses = [_post(gateway.url, "/v1/auth/password-resets/confirm",
                     {"phone": phone, "code": f"{n:08d}", "new_password": "guessed-pass"}).status_code
               for n in range(11)]
    assert guesses == [422] * 10 + [429], guesses


def test_registrations_are_limited_per_address(gateway):
    address = next(_addresses)
    for _ in range(10):
        assert _register(gateway.url, address)[1].status_code == 201
    _, refused = _register(gateway.url, address)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0, refused.text
    assert _register(gateway.url, next(_addresses))[1].status_code == 201, "other addresses go on"


def test_forwarded_addresses_count_only_when_a_trusted_proxy_sent_them(gateway):
    # behind our proxy, the client is the rightmost address it did not add itself: what the client
    # wrote to the left of it changes nothing
    client = next(_addresses)
    answers = [_register(gateway.url, f"10.0.0.{n}, {client}")[1].status_code for n in range(11)]
    assert answers == [201] * 10 + [429], answers
    ipv6 = [_register(gateway.url, headers={"Forwarded": 'for="[2001:db8::7]:4711";proto=https'})[1].status_code
            for _ in range(11)]
    assert ipv6 == [201] * 10 + [429], ipv6

    # a peer that is not a trusted proxy: its headers are the client's own words, and ignored
    gateway.stop("gateway")
    gateway.start("gateway", extra_env={"PALACE_TRUSTED_PROXIES": "192.0.2.1"})
    try:
        answers = [_register(gateway.url, next(_addresses))[1].status_code for _ in range(11)]
        assert answers == [201] * 10 + [429], answers
    finally:
        gateway.stop("gateway")
        gateway.start("gateway")
