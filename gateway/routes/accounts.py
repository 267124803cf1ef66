"""Accounts and tokens (the gateway's own data)."""
from gateway import auth
from gateway.openapi import operation
from gateway.problems import Problem
from gateway.routes import load, read_body
from gateway.schemas import AccountSchema, RegisterSchema, StaffAccountSchema, TokenRequestSchema, TokenSchema

TAG = "accounts"
_register, _staff, _token_in = RegisterSchema(), StaffAccountSchema(), TokenRequestSchema()
_account = AccountSchema()


class Register:
    doc = {"post": operation("Register as a member", tag=TAG, body=RegisterSchema, response=AccountSchema,
                             status=201, auth=False, errors=(400, 409, 422))}

    def __init__(self, gateway):
        self.gateway = gateway

    def on_post(self, req, resp):
        data = load(_register, read_body(req))
        with self.gateway.db.transaction() as conn:
            account = auth.create_account(conn, data["phone"], data["name"], data["password"])
        resp.status, resp.media = 201, _account.dump(account)


class Token:
    doc = {"post": operation("Sign in (phone and password) or refresh a token", tag=TAG,
                             body=TokenRequestSchema, response=TokenSchema, auth=False,
                             errors=(400, 401, 422))}

    def __init__(self, gateway):
        self.gateway = gateway

    def on_post(self, req, resp):
        data = load(_token_in, read_body(req))
        with self.gateway.db.transaction() as conn:
            if "refresh_token" in data:
                account = auth.use_refresh_token(conn, data["refresh_token"])
            else:
                account = auth.check_password(conn, data["phone"], data["password"])
            resp.media = auth.issue_tokens(conn, self.gateway.secret, account)


class Me:
    doc = {"get": operation("The signed-in account", tag=TAG, response=AccountSchema, errors=())}

    def __init__(self, gateway):
        self.gateway = gateway

    @auth.require()
    def on_get(self, req, resp):
        with self.gateway.db.transaction() as conn:
            row = conn.execute("SELECT id, phone, name, roles, unit_id, created_at FROM accounts"
                               " WHERE id = %s AND deleted_at IS NULL", (req.context.account.id,)).fetchone()
        if row is None:
            raise Problem(401, "account-gone", "this account no longer exists")
        resp.media = _account.dump(row)


class Accounts:
    doc = {"post": operation("Create a staff account", tag=TAG, body=StaffAccountSchema, response=AccountSchema,
                             status=201, roles=("admin",), errors=(400, 409, 422))}

    def __init__(self, gateway):
        self.gateway = gateway

    @auth.require("admin")
    def on_post(self, req, resp):
        data = load(_staff, read_body(req))
        with self.gateway.db.transaction() as conn:
            account = auth.create_account(conn, data["phone"], data["name"], data["password"],
                                          data["roles"], data.get("unit_id"))
        resp.status, resp.media = 201, _account.dump(account)


def routes(gateway):
    return [("/v1/auth/register", Register(gateway)), ("/v1/auth/token", Token(gateway)),
            ("/v1/me", Me(gateway)), ("/v1/accounts", Accounts(gateway))]
