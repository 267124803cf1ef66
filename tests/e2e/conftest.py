import pytest
import requests

from tests.harness import ADMIN_PASSWORD, ADMIN_PHONE


@pytest.fixture(scope="module")
def palace(stack):
    """Every service and the gateway, started as `make run` starts them."""
    stack.start_all()
    yield stack


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
    staff.id = answer.json()["id"]
    return staff


@pytest.fixture(scope="module")
def admin(palace):
    return sign_in(palace.url, ADMIN_PHONE, ADMIN_PASSWORD)
