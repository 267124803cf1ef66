"""Accounts, passwords, tokens and units (the gateway's own data)."""
from gateway import auth, limits, store
from gateway.idempotency import run_once
from gateway.openapi import operation
from gateway.problems import Problem
from gateway.routes import PAGING, Resource, counted, load, paging, read_body
from gateway.schemas import (
    AccountSchema,
    PasswordChangeSchema,
    RegisterSchema,
    ResetCodeSchema,
    ResetConfirmSchema,
    ResetRequestSchema,
    StaffAccountSchema,
    TokenRequestSchema,
    TokenSchema,
    UnitCreateSchema,
    UnitMemberAddSchema,
    UnitSchema,
)
from services.common.db import like_literal
from services.common.outbox import record
from services.common.params import object_id
from services.common.roles import ADMIN, ROLES, UNIT_ADMIN

TAG = "accounts"
_register, _staff, _token_in = RegisterSchema(), StaffAccountSchema(), TokenRequestSchema()
_account, _accounts = AccountSchema(), AccountSchema(many=True)
_unit, _units = UnitSchema(), UnitSchema(many=True)


class Register(Resource):
    doc = {"post": operation("Register as a member. Limited per address (429 with Retry-After). A phone"
                             " registered already gets the same 201 (nothing is stored), so the answer does"
                             " not tell who is a member: signing in then fails for that phone.",
                             operation_id="register", tag=TAG, body=RegisterSchema, response=AccountSchema, status=201, auth=False,
                             errors=(400, 422, 429))}
    location = "/v1/accounts/{id}"

    def on_post(self, req, resp):
        data = load(_register, read_body(req))
        with self.gateway.db.transaction() as conn:
            limits.check(conn, limits.REGISTERS_PER_ADDRESS, limits.client_address(req), what="registrations")
        with self.gateway.db.transaction() as conn:
            account, created = auth.register(conn, data["phone"], data["name"], data["password"], data["birth_date"])
            if created:  # a taken phone's look-alike answer tells notify nothing
                _registered(conn, req, account, auth.language(req.get_header("Accept-Language")))
        resp.status, resp.media = 201, _account.dump(account)


def _registered(conn, req, account, language):
    """Tell the other services that an account exists: notify makes the phone it signed up with
    the member's SMS contact, and `language` the language of their messages."""
    record(conn, "gateway", "account_registered",
           {"member_id": str(account["id"]), "phone": account["phone"], "language": language},
           req.context.request_id)


class Token(Resource):
    doc = {"post": operation("Sign in (phone and password) or refresh a token. Failed sign-ins are limited"
                             " per phone and per address (429 with Retry-After); a password reset lifts the"
                             " phone's limit. A refresh token used twice ends every token of its sign-in.",
                             operation_id="signIn", tag=TAG, body=TokenRequestSchema, response=TokenSchema,
                             auth=False, errors=(400, 401, 422, 429))}

    def on_post(self, req, resp):
        data = load(_token_in, read_body(req))
        if "refresh_token" in data:
            resp.media = auth.refresh(self.gateway.db, self.gateway.secret, data["refresh_token"])
            return
        keys = ((limits.FAILED_SIGN_INS_PER_PHONE, data["phone"]),
                (limits.FAILED_SIGN_INS_PER_ADDRESS, limits.client_address(req)))
        # counted first, committed before the password is checked: parallel guesses each see the
        # others' hits, so no more than the limit of them ever reach a check
        with self.gateway.db.transaction() as conn:
            limits.check_all(conn, keys, what="failed sign-ins")
        try:
            with self.gateway.db.transaction() as conn:
                account = auth.check_password(conn, data["phone"], data["password"])
                resp.media = auth.issue_tokens(conn, self.gateway.secret, account)
        except Problem as exc:
            if exc.slug != "bad-credentials":  # no guess was checked (argon2 was busy): not a failure
                self._give_back(keys)
            raise
        self._give_back(keys)  # only failures count

    def _give_back(self, keys):
        with self.gateway.db.transaction() as conn:
            for limit, key in keys:
                limits.give_back(conn, limit, key)


class Me(Resource):
    doc = {"get": operation("The signed-in account", operation_id="getMe", tag=TAG, response=AccountSchema, errors=())}

    @auth.require()
    def on_get(self, req, resp):
        with self.gateway.db.transaction() as conn:
            row = store.account(conn, req.context.account.id)
        if row is None:
            raise Problem(401, "account-gone", "this account no longer exists")
        resp.media = _account.dump(row)


class MyPassword(Resource):
    doc = {"post": operation("Change my password. Signs out every device: refresh tokens at once, access"
                             " tokens within 2 s; the answer holds new tokens for this one.",
                             operation_id="changeMyPassword", tag=TAG,
                             body=PasswordChangeSchema, response=TokenSchema)}

    @auth.require()
    def on_post(self, req, resp):
        data = load(PasswordChangeSchema(), read_body(req))
        with self.gateway.db.transaction() as conn:
            account = auth.change_password(conn, req.context.account.id, data["current_password"],
                                           data["new_password"])
            resp.media = auth.issue_tokens(conn, self.gateway.secret, account)


class PasswordResets(Resource):
    doc = {"post": operation("Ask for a password reset code, sent to the account's phone. Always 202, after"
                             " the same work, so the answer does not tell whether the phone is registered."
                             " Limited per phone, per address and overall (429 with Retry-After).",
                             operation_id="requestPasswordReset", tag=TAG,
                             body=ResetRequestSchema, status=202, auth=False, errors=(400, 422, 429))}

    def on_post(self, req, resp):
        phone = load(ResetRequestSchema(), read_body(req))["phone"]
        with self.gateway.db.transaction() as conn:
            limits.check_all(conn, ((limits.RESETS_PER_ADDRESS, limits.client_address(req)),
                                    (limits.RESETS_PER_PHONE, phone), (limits.RESETS_OVERALL, limits.EVERYONE)),
                             what="reset requests")
        with self.gateway.db.transaction() as conn:
            account_id = store.account_id_by_phone(conn, phone)
            if account_id is None:
                auth.no_reset_code()
            else:
                code = auth.new_reset_code(conn, account_id)
                record(conn, "gateway", "password_reset_requested",
                       {"member_id": str(account_id), "phone": phone, "code": code["code"],
                        "expires_at": code["expires_at"].isoformat(), "urgent": True}, req.context.request_id)
        resp.status = 202


class PasswordResetConfirm(Resource):
    doc = {"post": operation("Set a new password with a reset code. Signs out every device, and lifts the"
                             " phone's limit of failed sign-ins. Limited per phone, per address and overall.",
                             operation_id="confirmPasswordReset", tag=TAG, body=ResetConfirmSchema, status=204, auth=False,
                             errors=(400, 422, 429))}

    def on_post(self, req, resp):
        data = load(ResetConfirmSchema(), read_body(req))
        with self.gateway.db.transaction() as conn:
            limits.check_all(conn, ((limits.RESET_CONFIRMS_PER_ADDRESS, limits.client_address(req)),
                                    (limits.RESET_CONFIRMS_PER_PHONE, data["phone"]),
                                    (limits.RESET_CONFIRMS_OVERALL, limits.EVERYONE)), what="reset attempts")
        with self.gateway.db.transaction() as conn:
            done = auth.use_reset_code(conn, data["phone"], data["code"], data["new_password"])
            if done:  # the owner proved themselves: the guesses of others no longer lock them out
                limits.forget(conn, limits.FAILED_SIGN_INS_PER_PHONE, data["phone"])
        if not done:
            raise Problem(422, "bad-reset-code", "the code is wrong, used or expired: ask for a new one",
                          {"code": ["is wrong, used or expired"]})
        resp.status = 204


class Accounts(Resource):
    doc = {
        "post": operation("Create a staff account", operation_id="createStaffAccount", tag=TAG, body=StaffAccountSchema,
                          response=AccountSchema, status=201, roles=(ADMIN,), idempotent=True, errors=(400, 409, 422)),
        "get": operation("Find accounts", operation_id="listAccounts", tag=TAG, response=AccountSchema, many=True,
                         roles=(ADMIN,), query=(*PAGING, ("role", "string"), ("q", "string")), errors=(400,)),
    }
    location = "/v1/accounts/{id}"

    @auth.require(ADMIN)
    def on_post(self, req, resp):
        body = read_body(req)
        data = load(_staff, body)

        def create(key):
            with self.gateway.db.transaction() as conn:
                account = auth.create_account(conn, data["phone"], data["name"], data["password"], data["roles"],
                                              data.get("unit_id"), data["birth_date"])
                _registered(conn, req, account, auth.DEFAULT_LANGUAGE)  # the admin's browser is not theirs
                return 201, _account.dump(account)

        run_once(self.gateway.db, req, resp, {k: v for k, v in body.items() if k != "password"}, create)

    @auth.require(ADMIN)
    def on_get(self, req, resp):
        role = req.get_param("role")
        if role is not None and role not in ROLES:
            raise Problem(400, "bad-request", f"role must be one of {', '.join(ROLES)}")
        q = like_literal((req.get_param("q") or "").replace("\x00", ""))
        with self.gateway.db.transaction() as conn:
            rows = counted(req, store.find_accounts(conn, role, q, **paging(req)))
        resp.media = _accounts.dump(rows)


class Account(Resource):
    doc = {"delete": operation("Close an account: it can no longer sign in or refresh", operation_id="closeAccount",
                               tag=TAG, status=204, roles=(ADMIN,), errors=(404,))}

    @auth.require(ADMIN)
    def on_delete(self, req, resp, account_id):
        account_id = object_id(account_id, "account")
        with self.gateway.db.transaction() as conn:
            if not store.close_account(conn, account_id):
                raise Problem(404, "not-found", "no such account")
            store.revoke_refresh_tokens(conn, account_id)
        resp.status = 204


class AccountResetCode(Resource):
    doc = {"post": operation("Staff at the counter: make a reset code for a member whose identity was checked",
                             operation_id="makeResetCode", tag=TAG, response=ResetCodeSchema, status=201,
                             roles=(ADMIN,), errors=(404,))}
    location = "/v1/accounts/{account_id}/reset-code"  # the code is shown once, never read back

    @auth.require(ADMIN)
    def on_post(self, req, resp, account_id):
        account_id = object_id(account_id, "account")
        with self.gateway.db.transaction() as conn:
            if not store.is_open_account(conn, account_id):
                raise Problem(404, "not-found", "no such account")
            resp.status, resp.media = 201, ResetCodeSchema().dump(auth.new_reset_code(conn, account_id))


def _own_unit(req, unit_id):
    """An admin reaches every unit; a unit administrator only their own (others are 'not found')."""
    unit_id = object_id(unit_id, "unit")
    account = req.context.account
    if not account.has(ADMIN) and account.unit != unit_id:
        raise Problem(404, "not-found", "no such unit")
    return unit_id


class Units(Resource):
    doc = {
        "post": operation("Create a unit (an employer union branch)", operation_id="createUnit", tag=TAG,
                          body=UnitCreateSchema, response=UnitSchema, status=201, roles=(ADMIN,), idempotent=True,
                          errors=(400, 409, 422)),
        "get": operation("Units: all for an admin, their own for a unit administrator", operation_id="listUnits",
                         tag=TAG, response=UnitSchema, many=True, roles=(ADMIN, UNIT_ADMIN), query=PAGING,
                         errors=(400,)),
    }
    location = "/v1/units/{id}/members"  # a unit has no address of its own: its members

    @auth.require(ADMIN)
    def on_post(self, req, resp):
        body = read_body(req)
        data = load(UnitCreateSchema(), body)

        def create(key):
            with self.gateway.db.transaction() as conn:
                return 201, _unit.dump(store.create_unit(conn, data["name"]))

        run_once(self.gateway.db, req, resp, body, create)

    @auth.require(ADMIN, UNIT_ADMIN)
    def on_get(self, req, resp):
        account = req.context.account
        only = None if account.has(ADMIN) else account.unit or "00000000-0000-0000-0000-000000000000"
        with self.gateway.db.transaction() as conn:
            resp.media = _units.dump(counted(req, store.units(conn, only, **paging(req))))


class UnitMembers(Resource):
    doc = {
        "get": operation("The unit's members", operation_id="listUnitMembers", tag=TAG, response=AccountSchema,
                         many=True, roles=(ADMIN, UNIT_ADMIN), query=PAGING, errors=(400, 404)),
        "post": operation("Add a registered member to the unit", operation_id="addUnitMember", tag=TAG,
                          body=UnitMemberAddSchema, response=AccountSchema, roles=(ADMIN, UNIT_ADMIN),
                          errors=(400, 404, 409, 422)),
    }

    @auth.require(ADMIN, UNIT_ADMIN)
    def on_get(self, req, resp, unit_id):
        unit_id = _own_unit(req, unit_id)
        with self.gateway.db.transaction() as conn:
            store.get_unit(conn, unit_id)
            resp.media = _accounts.dump(counted(req, store.unit_members(conn, unit_id, **paging(req))))

    @auth.require(ADMIN, UNIT_ADMIN)
    def on_post(self, req, resp, unit_id):
        unit_id = _own_unit(req, unit_id)
        phone = load(UnitMemberAddSchema(), read_body(req))["phone"]
        with self.gateway.db.transaction() as conn:
            store.get_unit(conn, unit_id)
            resp.media = _account.dump(store.add_unit_member(conn, unit_id, phone))


class UnitMember(Resource):
    doc = {"delete": operation("Take a member out of the unit", operation_id="removeUnitMember", tag=TAG, status=204,
                               roles=(ADMIN, UNIT_ADMIN), errors=(404,))}

    @auth.require(ADMIN, UNIT_ADMIN)
    def on_delete(self, req, resp, unit_id, account_id):
        unit_id = _own_unit(req, unit_id)
        with self.gateway.db.transaction() as conn:
            store.remove_unit_member(conn, unit_id, object_id(account_id, "account"))
        resp.status = 204


def routes(gateway):
    return [("/v1/auth/register", Register(gateway)), ("/v1/auth/token", Token(gateway)),
            ("/v1/auth/password-resets", PasswordResets(gateway)),
            ("/v1/auth/password-resets/confirm", PasswordResetConfirm(gateway)),
            ("/v1/me", Me(gateway)), ("/v1/me/password", MyPassword(gateway)),
            ("/v1/accounts", Accounts(gateway)), ("/v1/accounts/{account_id}", Account(gateway)),
            ("/v1/accounts/{account_id}/reset-code", AccountResetCode(gateway)),
            ("/v1/units", Units(gateway)), ("/v1/units/{unit_id}/members", UnitMembers(gateway)),
            ("/v1/units/{unit_id}/members/{account_id}", UnitMember(gateway))]
