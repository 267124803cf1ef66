import pytest
import requests

from tests.conftest import find_stack
from tests.harness import ADMIN_PASSWORD, ADMIN_PHONE, TEST_SIZING, Stack

ANY_VERSION = {"If-Match": "*"}  # a course edit that means to apply whatever the course's version


@pytest.fixture(scope="module")
def palace(request, tmp_path_factory, room_for_stacks):
    """Every service and the gateway, started as `make run` starts them. The modules that take the
    palace as it comes share one (SHARED, run one after another): a whole palace's start is most of
    a module's setup. A module that sets up its own (asks for `stack` to change a setting, stop a
    process, start a fake provider first) or says OWN_PALACE gets its own."""
    if request.node.nodeid not in SHARED["modules"]:
        stack = request.getfixturevalue("stack")
        stack.start_all()
        return stack
    if "stack" not in SHARED:
        stack, env = Stack(tmp_path_factory.mktemp("logs"), sizing=TEST_SIZING), pytest.MonkeyPatch()
        SHARED.update(stack=stack, env=env)
        stack.create()
        find_stack(env, stack)
        stack.start_all()
    return SHARED["stack"]


SHARED = {"modules": set()}  # the shared palace's modules (node ids), and while it runs, it


def _module(item):
    return item.getparent(pytest.Module).nodeid


def pytest_collection_modifyitems(items):
    """The modules sharing the palace first among the e2e tests, in their order, the others after."""
    own = {_module(i) for i in items if _module(i).startswith("tests/e2e/") and (
        "stack" in i.fixturenames or getattr(i.module, "OWN_PALACE", False))}
    sharing = {_module(i) for i in items if _module(i).startswith("tests/e2e/") and "palace" in i.fixturenames} - own
    SHARED["modules"] = sharing
    e2e = [n for n, i in enumerate(items) if _module(i).startswith("tests/e2e/")]
    if e2e:
        block = items[e2e[0]:e2e[-1] + 1]
        block.sort(key=lambda i: _module(i) not in sharing)  # stable: each group keeps its order
        items[e2e[0]:e2e[-1] + 1] = block


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item, nextitem):
    if nextitem is None or _module(nextitem) not in SHARED["modules"]:
        _close_shared()


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish():
    _close_shared()


def _close_shared():
    if "stack" in SHARED:
        stack, env = SHARED.pop("stack"), SHARED.pop("env")
        env.undo()
        stack.destroy()


class Client:
    """A person using the API: a requests session that carries its bearer token."""

    def __init__(self, base, token=None):
        self.base, self.http = base, requests.Session()
        self.http.hooks["response"].append(_created_says_where)
        if token:
            self.http.headers["Authorization"] = f"Bearer {token}"

    def get(self, path, **kw):
        return self.http.get(self.base + path, timeout=15, **kw)

    def post(self, path, json=None, **kw):
        return self.http.post(self.base + path, json=json, timeout=15, **kw)

    def put(self, path, json=None, **kw):
        return self.http.put(self.base + path, json=json, timeout=15, **kw)

    def patch(self, path, json=None, **kw):
        return self.http.patch(self.base + path, json=json, timeout=15, **kw)

    def delete(self, path, **kw):
        return self.http.delete(self.base + path, timeout=15, **kw)


def _created_says_where(answer, *args, **kwargs):
    """Every 201 any e2e test meets names where the new thing is (RFC 9110's Location)."""
    assert answer.status_code != 201 or answer.headers.get("Location", "").startswith("/v1/"), (
        f"{answer.request.method} {answer.request.path_url}: a 201 without a Location")


def sign_in(base, phone, password):
    answer = requests.post(f"{base}/v1/auth/token", json={"phone": phone, "password": password}, timeout=15)
    assert answer.status_code == 200, answer.text
    return Client(base, answer.json()["access_token"])


_phones = iter(range(13_900_000_000, 13_999_999_999))


def own_connection(client):
    """The same person on a connection of their own, for a body the gateway refuses unread (413): it
    then closes that connection (HTTP allows it), and a shared session reusing it before the close
    reached it would fail its next request with "connection aborted"."""
    fresh = Client(client.base)
    fresh.http.headers.update(client.http.headers)
    return fresh


# a room a test books far ahead or often in: a new room's own limits (30 days ahead, 3 bookings a week
# per member) are venues' defaults, tested where they are the point
NO_LIMITS = {"max_advance_days": None, "max_bookings_per_week": None}


def new_member(base, name="Wang Fang", **extra):
    password = "member-password"
    for _ in range(20):  # a phone the fuzzer registered in this stack is taken: register answers 201
        phone = str(next(_phones))  # all the same (issue 18), and only signing in tells, so the next one
        answer = requests.post(f"{base}/v1/auth/register",
                               json={"phone": phone, "name": name, "password": password, **extra}, timeout=15)
        assert answer.status_code == 201, answer.text
        token = requests.post(f"{base}/v1/auth/token", json={"phone": phone, "password": password}, timeout=15)
        if token.status_code != 401:
            break
    assert token.status_code == 200, token.text
    member = Client(base, token.json()["access_token"])
    member.id = answer.json()["id"]
    return member


def new_staff(base, admin, roles, name="Li Ming", **extra):
    """A staff account with these roles, created by an admin, signed in."""
    password = "staff-password"
    for _ in range(20):  # as new_member: past a phone the fuzzer took
        phone = str(next(_phones))
        answer = admin.post("/v1/accounts", json={"phone": phone, "name": name, "password": password,
                                                   "roles": list(roles), **extra})
        if answer.status_code != 409 or "phone-taken" not in answer.text:
            break
    assert answer.status_code == 201, answer.text
    staff = sign_in(base, phone, password)
    staff.id, staff.phone = answer.json()["id"], phone
    return staff


@pytest.fixture(scope="module")
def admin(palace):
    return sign_in(palace.url, ADMIN_PHONE, ADMIN_PASSWORD)
