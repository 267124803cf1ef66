"""Accounts, passwords, tokens and units (the gateway's own data)."""
from gateway import auth, limits, store
from gateway.idempotency import run_once
from gateway.openapi import operation
from gateway.problems import Problem, invalid
from gateway.routes import PAGING, Resource, counted, load, paging, read_body
from gateway.schemas import (
    AccountSchema,
    BirthDateSchema,
    PasswordChangeSchema,
    PhoneChangeSchema,
    PhoneConfirmSchema,
    RegisterSchema,
    ResetCodeSchema,
    ResetConfirmSchema,
    ResetRequestSchema,
    RolesChangeSchema,
    StaffAccountSchema,
    TokenRequestSchema,
    TokenSchema,
    UnitCreateSchema,
    UnitInvitationSchema,
    UnitMemberAddSchema,
    UnitMemberSchema,
    UnitSchema,
)
from services.common import trust
from services.common.db import like_literal
from services.common.outbox import record
from services.common.params import object_id
from services.common.roles import ADMIN, DESK, ROLES, UNIT_ADMIN

TAG = "accounts"
_register, _staff, _token_in = RegisterSchema(), StaffAccountSchema(), TokenRequestSchema()
_account, _accounts = AccountSchema(), AccountSchema(many=True)
_roles_change = RolesChangeSchema()
_unit, _units = UnitSchema(), UnitSchema(many=True)
_unit_members = UnitMemberSchema(many=True)
_invitation, _invitations = UnitInvitationSchema(), UnitInvitationSchema(many=True)


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
            account, created = auth.register(conn, data["phone"], data["name"], data["password"], data["birth_date"],
                                             data.get("id_last4"))
            if created:  # a taken phone's look-alike answer tells notify nothing
                tell_registered(conn, req, account, auth.language(req.get_header("Accept-Language")))
        resp.status, resp.media = 201, _account.dump(account)


def account_now(gateway):
    """A replayed account creation re-reads the account: the key keeps no name, phone or birth date."""
    def read(account_id):
        with gateway.db.transaction() as conn:
            account = store.account(conn, account_id)
        if account is None:
            raise Problem(404, "not-found", "the account made with this Idempotency-Key is closed")
        return _account.dump(account)
    return read


def tell_registered(conn, req, account, language):
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
    doc = {"get": operation("The signed-in account", operation_id="getMe", tag=TAG, response=AccountSchema, errors=()),
           "patch": operation("Give my birth date, once: the age limits of classes are checked against it, so"
                              " a member may not change it later (409; staff correct a mistake)",
                              operation_id="setMyBirthDate", tag=TAG, body=BirthDateSchema, response=AccountSchema,
                              errors=(400, 409, 422))}

    @auth.require()
    def on_get(self, req, resp):
        with self.gateway.db.transaction() as conn:
            row = store.account(conn, req.context.account.id)
        if row is None:
            raise Problem(401, "account-gone", "this account no longer exists")
        resp.media = _account.dump(row)

    @auth.require()
    def on_patch(self, req, resp):
        day = load(BirthDateSchema(), read_body(req))["birth_date"]
        with self.gateway.db.transaction() as conn:
            row = store.set_birth_date(conn, req.context.account.id, day)
            if row is None:
                row = store.account(conn, req.context.account.id)
                if row is None:
                    raise Problem(401, "account-gone", "this account no longer exists")
                if row["birth_date"] != day:
                    raise Problem(409, "birth-date-set", "the birth date is given already; staff correct a mistake",
                                  {"birth_date": ["given already"]})
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


class MyPhone(Resource):
    doc = {"post": operation("Move my account to a new phone: a code is sent there by SMS (confirm it at"
                             " /v1/me/phone/confirm). Limited per phone and per address like reset codes.",
                             operation_id="changeMyPhone", tag=TAG, body=PhoneChangeSchema, status=202,
                             errors=(400, 422, 429))}

    @auth.require()
    def on_post(self, req, resp):
        phone = load(PhoneChangeSchema(), read_body(req))["phone"]
        member = req.context.account.id
        with self.gateway.db.transaction() as conn:
            limits.check_all(conn, ((limits.RESETS_PER_ADDRESS, limits.client_address(req)),
                                    (limits.RESETS_PER_PHONE, phone), (limits.RESETS_OVERALL, limits.EVERYONE)),
                             what="codes sent")
        with self.gateway.db.transaction() as conn:
            # whether another account has the phone is told only to whoever proves they hold it
            code = auth.new_phone_code(conn, member, phone)
            record(conn, "gateway", "phone_change_requested",
                   {"member_id": str(member), "phone": phone, "code_sealed": trust.seal_code(code["code"]),
                    "expires_at": code["expires_at"].isoformat(), "urgent": True}, req.context.request_id)
        resp.status = 202


class MyPhoneConfirm(Resource):
    doc = {"post": operation("Confirm my new phone with the code sent to it: I sign in with it from now on, and"
                             " the palace's texts go to it", operation_id="confirmMyPhone", tag=TAG,
                             body=PhoneConfirmSchema, response=AccountSchema, errors=(400, 409, 422, 429))}

    @auth.require()
    def on_post(self, req, resp):
        data = load(PhoneConfirmSchema(), read_body(req))
        member = req.context.account.id
        with self.gateway.db.transaction() as conn:
            limits.check_all(conn, ((limits.RESET_CONFIRMS_PER_ADDRESS, limits.client_address(req)),
                                    (limits.RESET_CONFIRMS_PER_PHONE, data["phone"])), what="code attempts")
        with self.gateway.db.transaction() as conn:
            account = auth.use_phone_code(conn, member, data["phone"], data["code"])
            if account is not None:
                record(conn, "gateway", "account_phone_changed", {"member_id": str(member), "phone": data["phone"]},
                       req.context.request_id)
        if account is None:
            raise Problem(422, "bad-phone-code", "the code is wrong, used or expired: ask for a new one",
                          {"code": ["is wrong, used or expired"]})
        resp.media = _account.dump(account)


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
                       # sealed for notify alone: the outbox, the broker and dead letters never hold the code
                       {"member_id": str(account_id), "phone": phone, "code_sealed": trust.seal_code(code["code"]),
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
                                              data.get("unit_id"), data["birth_date"], data.get("id_last4"))
                tell_registered(conn, req, account, auth.DEFAULT_LANGUAGE)  # the admin's browser is not theirs
                return 201, _account.dump(account)

        run_once(self.gateway, req, resp, {k: v for k, v in body.items() if k != "password"}, create,
                 reread=account_now(self.gateway))

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
    doc = {"patch": operation("Change an account's roles (all of them, as they are to be; a unit admin needs a unit)."
                              " Its access tokens stop working within seconds; the next renewal carries the new roles."
                              " An admin cannot take away their own admin role", operation_id="changeAccountRoles",
                              tag=TAG, body=RolesChangeSchema, response=AccountSchema, roles=(ADMIN,),
                              errors=(400, 404, 422)),
           "delete": operation("Close an account: it can no longer sign in or refresh, its name, phone, birth date"
                               " and ID digits are erased, and every service erases or anonymises the person's data"
                               " (money moved stays in the ledgers, without the person)", operation_id="closeAccount",
                               tag=TAG, status=204, roles=(ADMIN,), errors=(404,))}

    @auth.require(ADMIN)
    def on_patch(self, req, resp, account_id):
        account_id = object_id(account_id, "account")
        data = load(_roles_change, read_body(req))
        if account_id == req.context.account.id and ADMIN not in data["roles"]:
            raise invalid({"roles": ["an admin cannot take away their own admin role"]})
        with self.gateway.db.transaction() as conn:
            unit_id = str(data["unit_id"]) if data["unit_id"] else None
            account = store.set_roles(conn, account_id, data["roles"], unit_id)
            if account is None:
                raise Problem(404, "not-found", "no such account")
            if UNIT_ADMIN in account["roles"] and not account["unit_id"]:
                raise invalid({"unit_id": ["a unit admin needs a unit"]})  # the transaction rolls back
        resp.media = _account.dump(account)

    @auth.require(ADMIN)
    def on_delete(self, req, resp, account_id):
        account_id = object_id(account_id, "account")
        with self.gateway.db.transaction() as conn:
            if not store.close_account(conn, account_id):
                raise Problem(404, "not-found", "no such account")
            store.revoke_refresh_tokens(conn, account_id)
            # every service erases what it holds of the person, told by a signed event (the outbox)
            record(conn, "gateway", "account_closed", {"member_id": str(account_id)}, req.context.request_id)
        resp.status = 204


class AccountResetCode(Resource):
    doc = {"post": operation("Staff at the counter: make a reset code for a member whose identity was checked"
                             " (the front desk: for member accounts only, never a staff account)",
                             operation_id="makeResetCode", tag=TAG, response=ResetCodeSchema, status=201,
                             roles=(ADMIN, DESK), errors=(404,))}
    location = "/v1/accounts/{account_id}/reset-code"  # the code is shown once, never read back

    @auth.require(ADMIN, DESK)
    def on_post(self, req, resp, account_id):
        account_id = object_id(account_id, "account")
        members_only = not req.context.account.has(ADMIN)  # a clerk must not take over a staff account
        with self.gateway.db.transaction() as conn:
            if not store.is_open_account(conn, account_id, members_only):
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

        run_once(self.gateway, req, resp, body, create)

    @auth.require(ADMIN, UNIT_ADMIN)
    def on_get(self, req, resp):
        account = req.context.account
        only = None if account.has(ADMIN) else account.unit or "00000000-0000-0000-0000-000000000000"
        with self.gateway.db.transaction() as conn:
            resp.media = _units.dump(counted(req, store.units(conn, only, **paging(req))))


class UnitMembers(Resource):
    doc = {
        "get": operation("The unit's members (name and phone: a unit sees no birth date or ID digits)",
                         operation_id="listUnitMembers", tag=TAG, response=UnitMemberSchema,
                         many=True, roles=(ADMIN, UNIT_ADMIN), query=PAGING, errors=(400, 404)),
        "post": operation("The palace admin puts a registered account into the unit directly. A unit "
                          "administrator invites instead (POST /v1/units/{unit_id}/invitations): the member "
                          "joins by accepting", operation_id="addUnitMember", tag=TAG,
                          body=UnitMemberAddSchema, response=AccountSchema, roles=(ADMIN,),
                          errors=(400, 403, 404, 409, 422)),
    }

    @auth.require(ADMIN, UNIT_ADMIN)
    def on_get(self, req, resp, unit_id):
        unit_id = _own_unit(req, unit_id)
        with self.gateway.db.transaction() as conn:
            store.get_unit(conn, unit_id)
            resp.media = _unit_members.dump(counted(req, store.unit_members(conn, unit_id, **paging(req))))

    @auth.require(ADMIN, UNIT_ADMIN)
    def on_post(self, req, resp, unit_id):
        if not req.context.account.has(ADMIN):  # issue 18: joining a unit is the member's choice
            raise Problem(403, "invite-instead", "a unit administrator invites the member "
                          f"(POST /v1/units/{unit_id}/invitations); they join when they accept")
        unit_id = _own_unit(req, unit_id)
        phone = load(UnitMemberAddSchema(), read_body(req))["phone"]
        with self.gateway.db.transaction() as conn:
            store.get_unit(conn, unit_id)
            resp.media = _account.dump(store.add_unit_member(conn, unit_id, phone))


class UnitInvitations(Resource):
    doc = {"post": operation("Invite a registered member (by phone) to join the unit; they see it under "
                             "GET /v1/me/unit-invitations and join by accepting. A staff account is never "
                             "invited (409 staff-account); one open invitation per member and unit (asked "
                             "again, the same one)",
                             operation_id="inviteUnitMember", tag=TAG, body=UnitMemberAddSchema,
                             response=UnitInvitationSchema, roles=(ADMIN, UNIT_ADMIN),
                             errors=(400, 404, 409, 422))}

    @auth.require(ADMIN, UNIT_ADMIN)
    def on_post(self, req, resp, unit_id):
        unit_id = _own_unit(req, unit_id)
        phone = load(UnitMemberAddSchema(), read_body(req))["phone"]
        with self.gateway.db.transaction() as conn:
            store.get_unit(conn, unit_id)
            invitation = store.invite_to_unit(conn, unit_id, phone, req.context.account.id)
            if invitation["new"]:
                tell_invited(conn, req, invitation)
            resp.media = _invitation.dump(invitation)


def tell_invited(conn, req, invitation):
    """Tell the invited member (notify: their inbox, and their phone): once per invitation, not again
    when the administrator asks again."""
    record(conn, "gateway", "unit_invitation_sent",
           {"member_id": str(invitation["account_id"]), "invitation_id": str(invitation["id"]),
            "unit_id": str(invitation["unit_id"]), "unit_name": invitation["unit_name"]},
           req.context.request_id)


class MyUnitInvitations(Resource):
    doc = {"get": operation("My open invitations to join a unit", operation_id="listMyUnitInvitations", tag=TAG,
                            response=UnitInvitationSchema, many=True, errors=())}

    @auth.require()
    def on_get(self, req, resp):
        with self.gateway.db.transaction() as conn:
            resp.media = _invitations.dump(store.my_invitations(conn, req.context.account.id))


class MyUnitInvitationAnswer(Resource):
    """POST .../accept joins the unit (the next token names it); POST .../decline turns it down."""
    def __init__(self, gateway, accept):
        super().__init__(gateway)
        self.accept = accept
        verb = "Accept: join the unit (a refreshed token names it)" if accept else "Decline"
        self.doc = {"post": operation(f"{verb} my invitation to a unit",
                                      operation_id="acceptUnitInvitation" if accept else "declineUnitInvitation",
                                      tag=TAG, response=UnitInvitationSchema, errors=(404, 409))}

    @auth.require()
    def on_post(self, req, resp, invitation_id):
        invitation_id = object_id(invitation_id, "invitation")
        with self.gateway.db.transaction() as conn:
            resp.media = _invitation.dump(store.answer_invitation(conn, req.context.account.id, invitation_id,
                                                                  self.accept))


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
            ("/v1/me/phone", MyPhone(gateway)), ("/v1/me/phone/confirm", MyPhoneConfirm(gateway)),
            ("/v1/accounts", Accounts(gateway)), ("/v1/accounts/{account_id}", Account(gateway)),
            ("/v1/accounts/{account_id}/reset-code", AccountResetCode(gateway)),
            ("/v1/units", Units(gateway)), ("/v1/units/{unit_id}/members", UnitMembers(gateway)),
            ("/v1/units/{unit_id}/members/{account_id}", UnitMember(gateway)),
            ("/v1/units/{unit_id}/invitations", UnitInvitations(gateway)),
            ("/v1/me/unit-invitations", MyUnitInvitations(gateway)),
            ("/v1/me/unit-invitations/{invitation_id}/accept", MyUnitInvitationAnswer(gateway, accept=True)),
            ("/v1/me/unit-invitations/{invitation_id}/decline", MyUnitInvitationAnswer(gateway, accept=False))]
