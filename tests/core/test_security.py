"""Users, roles, login and lockout, passwords, permissions and personal data at rest (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date
from fnmatch import fnmatchcase

import pytest
from sqlalchemy import delete, func, select, text

from core import validate
from core.audit.models import AuditRecord
from core.context import Actor
from core.errors import AuthenticationError, Conflict, NotFound, PermissionDenied, StateError, ValidationError
from core.security import passwords
from core.security.models import RolePermission, User
from core.security.permissions import BUILTIN_ROLES, PERMISSIONS
from core.security.services import (
    add_user,
    authenticate,
    change_password,
    disable_user,
    enable_user,
    ensure_builtin_roles,
    find_user_by_phone,
    get_user,
    list_roles,
    list_users,
    set_roles,
    unlock_user,
)

ID_NUMBER = validate.make_id_number("110105", date(1949, 12, 31), 2)  # 11010519491231002X
PHONE = "13812345678"
PASSWORD = "counter2026"


@pytest.fixture(autouse=True)
def _fast_hashing():
    before = passwords.current_cost()
    passwords.set_cost(passwords.TEST_COST.time_cost, passwords.TEST_COST.memory_cost_kib)
    yield
    passwords.set_cost(before.time_cost, before.memory_cost_kib, before.parallelism)


def _audit(ctx, action: str | None = None) -> list[AuditRecord]:
    with ctx.read() as s:
        stmt = select(AuditRecord).order_by(AuditRecord.seq)
        if action:
            stmt = stmt.where(AuditRecord.action == action)
        records = list(s.scalars(stmt))
        s.expunge_all()  # keep the loaded values after the read-only session rolls back
        return records


def _counts(ctx) -> tuple[int, int]:
    with ctx.read() as s:
        return s.scalar(select(func.count()).select_from(User)), s.scalar(
            select(func.count()).select_from(AuditRecord)
        )


def _user(ctx, username: str) -> User:
    with ctx.read() as s:
        user = s.scalars(select(User).where(User.username == username)).one()
        s.expunge_all()
        return user


def _login_ctx(ctx, username: str, password: str = PASSWORD):
    return ctx.as_actor(authenticate(ctx, username, password))


# ------------------------------------------------------------------------------------- roles and permissions


def test_builtin_roles_are_created_and_sync_is_idempotent(ctx):
    roles = {r.code: r for r in list_roles(ctx)}
    assert set(BUILTIN_ROLES) <= set(roles)
    assert roles["admin"].permissions == ("*",)
    assert roles["auditor"].builtin and roles["auditor"].title == "Auditor"
    audits = len(_audit(ctx))
    ensure_builtin_roles(ctx)
    assert len(_audit(ctx)) == audits
    assert {r.code: r for r in list_roles(ctx)} == roles


def test_builtin_role_sync_repairs_edited_roles(ctx):
    with ctx.uow() as uow:
        uow.session.execute(delete(RolePermission).where(RolePermission.role_code == "approver"))
        uow.session.add(RolePermission(role_code="auditor", pattern="ledger.post"))
    ensure_builtin_roles(ctx)
    roles = {r.code: r for r in list_roles(ctx)}
    assert set(roles["approver"].permissions) == {"workflow.view", "workflow.approve"}
    assert "ledger.post" not in roles["auditor"].permissions
    assert {a.object_id for a in _audit(ctx, "role.sync")} >= {"approver", "auditor"}


FUTURE_CODES = (
    "payments.view", "payments.counter.collect", "payments.refund", "property.view", "property.counter.bill",
    "property.fees.manage", "recon.view", "recon.resolve", "reports.view", "reports.export",
)  # fmt: skip


def _granted(role: str, code: str) -> bool:
    return any(fnmatchcase(code, p) for p in BUILTIN_ROLES[role].patterns)


def test_auditor_is_read_only_and_never_sees_pii():
    for code in (*PERMISSIONS, *FUTURE_CODES):
        if _granted("auditor", code):
            assert code.endswith(".view") or code in {"audit.verify", "ledger.verify"}, code
    assert not _granted("auditor", "pii.reveal")
    assert [r for r in BUILTIN_ROLES if _granted(r, "pii.reveal")] == ["admin"]


def test_role_patterns_fit_the_business_areas():
    assert _granted("cashier", "payments.counter.collect") and not _granted("cashier", "payments.refund")
    assert not _granted("cashier", "workflow.approve")
    assert _granted("finance", "ledger.post") and _granted("finance", "recon.resolve")
    assert not _granted("finance", "users.manage")
    assert _granted("approver", "workflow.approve") and not _granted("approver", "workflow.submit")
    assert _granted("property", "property.fees.manage") and not _granted("property", "ledger.post")
    for code in PERMISSIONS:
        assert _granted("admin", code)


# ------------------------------------------------------------------------------------- users


def test_add_user_and_login(ctx):
    view = add_user(ctx, " Wang.Li ", PASSWORD, display_name="王丽", roles=["cashier"], phone=PHONE)
    assert (view.username, view.display_name, view.status, view.roles) == (
        "wang.li",
        "王丽",
        "active",
        ("cashier",),
    )
    actor = authenticate(ctx, "wang.li", PASSWORD)
    assert actor.user_id == view.id and actor.roles == ("cashier",) and actor.display_name == "王丽"
    assert actor.can("payments.counter.collect") and actor.can("workflow.submit")
    assert not actor.can("users.manage") and not actor.can("pii.reveal")
    assert [a.action for a in _audit(ctx)][-2:] == ["user.create", "auth.login"]
    assert _user(ctx, "wang.li").last_login_at == ctx.clock.now()
    assert get_user(ctx, "wang.li").last_login_at == ctx.clock.now()


@pytest.mark.parametrize(
    ("kwargs", "error", "field"),
    [
        ({"username": "ab"}, ValidationError, "username"),
        ({"username": "wang li"}, ValidationError, "username"),
        ({"username": "王丽"}, ValidationError, "username"),
        ({"password": "short1"}, ValidationError, "password"),
        ({"password": "onlyletters"}, ValidationError, "password"),
        ({"password": "1234567890"}, ValidationError, "password"),
        ({"password": "zhao2026x", "username": "zhao2026x"}, ValidationError, "password"),
        ({"password": "a1" * 65}, ValidationError, "password"),
        ({"roles": ["cashier", "janitor"]}, ValidationError, "roles"),
        ({"phone": "12345"}, ValidationError, "mobile"),
        ({"id_number": "110105194912310021"}, ValidationError, None),
        ({"display_name": "名" * 101}, ValidationError, "display_name"),
    ],
)
def test_add_user_refuses_bad_input_and_writes_nothing(ctx, kwargs, error, field):
    args = {"username": "zhao", "password": PASSWORD, **kwargs}
    before = _counts(ctx)
    with pytest.raises(error) as exc:
        add_user(ctx, args.pop("username"), args.pop("password"), **args)
    if field:
        assert exc.value.field == field
    assert _counts(ctx) == before


def test_add_user_refuses_duplicates(ctx):
    add_user(ctx, "zhao", PASSWORD, phone=PHONE, id_number=ID_NUMBER)
    before = _counts(ctx)
    with pytest.raises(Conflict):
        add_user(ctx, "ZHAO", PASSWORD)
    with pytest.raises(Conflict):
        add_user(ctx, "qian", PASSWORD, phone="+86 138-1234-5678")
    with pytest.raises(Conflict):
        add_user(ctx, "sun", PASSWORD, id_number=ID_NUMBER.lower())
    assert _counts(ctx) == before


def test_missing_permission_is_refused(ctx):
    add_user(ctx, "zhao", PASSWORD)
    viewer = ctx.as_actor(Actor(user_id=None, username="viewer", permissions=frozenset({"users.view"})))
    nobody = ctx.as_actor(Actor(user_id=None, username="nobody"))
    before = _counts(ctx)
    for call in (
        lambda: add_user(viewer, "qian", PASSWORD),
        lambda: disable_user(viewer, "zhao"),
        lambda: enable_user(viewer, "zhao"),
        lambda: unlock_user(viewer, "zhao"),
        lambda: set_roles(viewer, "zhao", ["admin"]),
        lambda: change_password(viewer, "zhao", "newpass2027"),
        lambda: list_users(nobody),
        lambda: list_roles(nobody),
        lambda: find_user_by_phone(nobody, PHONE),
        lambda: ensure_builtin_roles(viewer),
    ):
        with pytest.raises(PermissionDenied):
            call()
    assert _counts(ctx) == before
    assert [u.username for u in list_users(viewer)] == ["zhao"]


def test_nobody_grants_more_than_they_hold(ctx):
    add_user(ctx, "boss", PASSWORD, roles=["admin"])
    manager = ctx.as_actor(
        Actor(
            user_id=None, username="mgr", permissions=frozenset({"users.manage", "users.view", "workflow.*"})
        )
    )
    add_user(manager, "checker", PASSWORD, roles=["approver"])
    with pytest.raises(PermissionDenied):
        add_user(manager, "sneaky", PASSWORD, roles=["admin"])
    with pytest.raises(PermissionDenied):
        set_roles(manager, "checker", ["approver", "finance"])
    set_roles(manager, "checker", [])  # taking roles away is always allowed
    assert get_user(ctx, "checker").roles == ()
    boss = _login_ctx(ctx, "boss")
    with pytest.raises(PermissionDenied):
        set_roles(boss, "boss", ["auditor"])


def test_set_roles_changes_permissions_and_is_audited(ctx):
    add_user(ctx, "zhao", PASSWORD, roles=["cashier"])
    set_roles(ctx, "zhao", ["finance", "approver"])
    actor = authenticate(ctx, "zhao", PASSWORD)
    assert actor.roles == ("approver", "finance")
    assert (
        actor.can("ledger.post") and actor.can("workflow.approve") and not actor.can("property.counter.bill")
    )
    record = _audit(ctx, "user.set_roles")[-1]
    assert '"cashier"' in record.before_json and '"finance"' in record.after_json
    audits = len(_audit(ctx))
    set_roles(ctx, "zhao", ["approver", "finance"])
    assert len(_audit(ctx)) == audits
    with pytest.raises(NotFound):
        set_roles(ctx, "nobody", [])


def test_last_active_admin_cannot_be_disabled_or_demoted(ctx):
    add_user(ctx, "boss", PASSWORD, roles=["admin"])
    with pytest.raises(StateError):
        disable_user(ctx, "boss")
    with pytest.raises(StateError):
        set_roles(ctx, "boss", ["auditor"])
    add_user(ctx, "deputy", PASSWORD, roles=["admin"])
    boss = _login_ctx(ctx, "boss")
    with pytest.raises(StateError):
        disable_user(boss, "boss")  # not your own account
    disable_user(boss, "deputy")
    with pytest.raises(StateError):
        set_roles(ctx, "boss", [])


# ------------------------------------------------------------------------------------- login


def test_wrong_password_and_unknown_user_look_the_same(ctx):
    add_user(ctx, "zhao", PASSWORD)
    with pytest.raises(AuthenticationError) as wrong:
        authenticate(ctx, "zhao", "nottheone1")
    with pytest.raises(AuthenticationError) as unknown:
        authenticate(ctx, "qian", PASSWORD)
    assert wrong.value.code == unknown.value.code == "authentication_failed"
    assert str(wrong.value) == str(unknown.value)
    # The failure was committed even though an error was raised.
    assert _user(ctx, "zhao").failed_logins == 1
    failed = _audit(ctx, "auth.login_failed")
    assert [f.object_id for f in failed] == [str(_user(ctx, "zhao").id), "qian"]
    authenticate(ctx, "zhao", PASSWORD)
    assert _user(ctx, "zhao").failed_logins == 0


def test_lockout_after_five_failures_and_unlock_after_fifteen_minutes(ctx):
    add_user(ctx, "zhao", PASSWORD)
    for _ in range(4):
        with pytest.raises(AuthenticationError) as exc:
            authenticate(ctx, "zhao", "wrongpass1")
        assert exc.value.code == "authentication_failed"
    with pytest.raises(AuthenticationError) as exc:
        authenticate(ctx, "zhao", "wrongpass1")
    assert exc.value.code == "account_locked"
    assert "2026-11-25 10:15" in str(exc.value)  # 02:00 UTC + 15 min, shown in Asia/Shanghai
    ctx.clock.advance(minutes=14, seconds=59)
    with pytest.raises(AuthenticationError) as exc:
        authenticate(ctx, "zhao", PASSWORD)  # the right password does not help while locked
    assert exc.value.code == "account_locked"
    ctx.clock.advance(seconds=1)
    assert authenticate(ctx, "zhao", PASSWORD).username == "zhao"
    user = _user(ctx, "zhao")
    assert user.failed_logins == 0 and user.locked_until is None
    assert len(_audit(ctx, "auth.login_failed")) == 6


def test_a_success_resets_the_failure_count(ctx):
    add_user(ctx, "zhao", PASSWORD)
    for _ in range(4):
        with pytest.raises(AuthenticationError):
            authenticate(ctx, "zhao", "wrongpass1")
    authenticate(ctx, "zhao", PASSWORD)
    for _ in range(4):
        with pytest.raises(AuthenticationError) as exc:
            authenticate(ctx, "zhao", "wrongpass1")
        assert exc.value.code == "authentication_failed"


def test_administrator_unlocks_a_locked_account(ctx):
    add_user(ctx, "zhao", PASSWORD)
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            authenticate(ctx, "zhao", "wrongpass1")
    unlock_user(ctx, "zhao")
    assert authenticate(ctx, "zhao", PASSWORD).username == "zhao"
    audits = len(_audit(ctx))
    unlock_user(ctx, "zhao")  # nothing to unlock: nothing recorded
    assert len(_audit(ctx)) == audits


def test_a_user_disabled_while_logged_in_can_change_nothing_more(ctx):
    add_user(ctx, "sun", PASSWORD, roles=["admin"])
    add_user(ctx, "deputy", PASSWORD, roles=["admin"])  # sun is not the last administrator
    add_user(ctx, "zhou", PASSWORD)
    sun = _login_ctx(ctx, "sun")
    disable_user(ctx, "sun")  # the session that logged in before keeps its Actor…
    with pytest.raises(PermissionDenied) as refused:
        disable_user(sun, "zhou")  # …but its next write is refused, inside the same transaction
    assert refused.value.code == "account_disabled"
    assert get_user(ctx, "zhou").status == "active"
    enable_user(ctx, "sun")
    disable_user(sun, "zhou")
    assert get_user(ctx, "zhou").status == "disabled"


def test_disabled_user_cannot_log_in(ctx):
    add_user(ctx, "zhao", PASSWORD)
    disable_user(ctx, "zhao")
    with pytest.raises(AuthenticationError) as exc:
        authenticate(ctx, "zhao", PASSWORD)
    assert exc.value.code == "account_disabled"
    with pytest.raises(AuthenticationError) as exc:
        authenticate(ctx, "zhao", "wrongpass1")  # a wrong password does not learn the account state
    assert exc.value.code == "authentication_failed"
    with pytest.raises(StateError):
        disable_user(ctx, "zhao")
    enable_user(ctx, "zhao")
    with pytest.raises(StateError):
        enable_user(ctx, "zhao")
    assert authenticate(ctx, "zhao", PASSWORD).username == "zhao"
    assert [a.action for a in _audit(ctx) if a.action.startswith("user.")][-2:] == [
        "user.disable",
        "user.enable",
    ]


def test_login_rehashes_a_hash_of_other_cost(ctx):
    passwords.set_cost(2, 16)
    add_user(ctx, "zhao", PASSWORD)
    old_hash = _user(ctx, "zhao").password_hash
    passwords.set_cost(passwords.TEST_COST.time_cost, passwords.TEST_COST.memory_cost_kib)
    assert passwords.needs_rehash(old_hash)
    authenticate(ctx, "zhao", PASSWORD)
    new_hash = _user(ctx, "zhao").password_hash
    assert new_hash != old_hash and not passwords.needs_rehash(new_hash)
    assert authenticate(ctx, "zhao", PASSWORD).username == "zhao"


# ------------------------------------------------------------------------------------- passwords


def test_hashes_are_argon2id_and_production_cost_is_memory_hard():
    h = passwords.hash_password(PASSWORD)
    assert h.startswith("$argon2id$")
    assert passwords.verify_password(h, PASSWORD) and not passwords.verify_password(h, PASSWORD + "x")
    assert not passwords.verify_password("not a hash", PASSWORD)
    assert passwords.hash_password(PASSWORD) != h
    # OWASP's argon2id floor is 19 MiB with t=2; production uses RFC 9106's second profile.
    assert passwords.PRODUCTION_COST.memory_cost_kib >= 64 * 1024 and passwords.PRODUCTION_COST.time_cost >= 3


def test_change_own_password_needs_the_old_one(ctx):
    add_user(ctx, "zhao", PASSWORD)
    add_user(ctx, "qian", PASSWORD)
    zhao = _login_ctx(ctx, "zhao")
    for old in (None, "wrongpass1"):
        with pytest.raises(ValidationError) as exc:
            change_password(zhao, "zhao", "newpass2027", old_password=old)
        assert exc.value.field == "old_password"
    with pytest.raises(ValidationError):
        change_password(zhao, "zhao", "short", old_password=PASSWORD)
    with pytest.raises(ValidationError):
        change_password(zhao, "zhao", PASSWORD, old_password=PASSWORD)
    with pytest.raises(PermissionDenied):
        change_password(zhao, "qian", "newpass2027")
    assert len(_audit(ctx, "user.password_change")) == 0
    ctx.clock.advance(days=1)
    change_password(zhao, "zhao", "newpass2027", old_password=PASSWORD)
    assert _user(ctx, "zhao").password_changed_at == ctx.clock.now()
    with pytest.raises(AuthenticationError):
        authenticate(ctx, "zhao", PASSWORD)
    assert authenticate(ctx, "zhao", "newpass2027").username == "zhao"
    assert authenticate(ctx, "qian", PASSWORD).username == "qian"
    assert len(_audit(ctx, "user.password_change")) == 1


def test_manager_resets_another_users_password(ctx):
    add_user(ctx, "zhao", PASSWORD)
    change_password(ctx, "zhao", "reset2027x")
    assert authenticate(ctx, "zhao", "reset2027x").username == "zhao"
    with pytest.raises(NotFound):
        change_password(ctx, "nobody", "reset2027x")
    [record] = _audit(ctx, "user.password_reset")
    assert record.after_json and "reset2027x" not in record.after_json


# ------------------------------------------------------------------------------------- personal data


def test_personal_data_is_masked_unless_the_viewer_may_reveal_it(ctx):
    add_user(ctx, "zhao", PASSWORD, phone=PHONE, id_number=ID_NUMBER)
    add_user(ctx, "audit1", PASSWORD, roles=["auditor"])
    admin = get_user(ctx, "zhao")  # the system actor holds "*", so pii.reveal
    assert (admin.phone, admin.id_number) == (PHONE, ID_NUMBER)
    auditor = _login_ctx(ctx, "audit1")
    seen = {u.username: u for u in list_users(auditor)}
    assert seen["zhao"].phone == "138****5678"
    assert seen["zhao"].id_number == "110105********002X"
    assert seen["audit1"].phone is None and seen["audit1"].id_number is None
    with pytest.raises(PermissionDenied):
        add_user(auditor, "qian", PASSWORD)


def test_find_user_by_phone_through_the_blind_index(ctx):
    add_user(ctx, "zhao", PASSWORD, phone=PHONE)
    add_user(ctx, "qian", PASSWORD, phone="13900001111")
    assert find_user_by_phone(ctx, "+86 138 1234 5678").username == "zhao"
    assert find_user_by_phone(ctx, "13900001111").username == "qian"
    assert find_user_by_phone(ctx, "13700001111") is None
    with pytest.raises(ValidationError):
        find_user_by_phone(ctx, "not a phone")
    user = _user(ctx, "zhao")
    assert user.phone_bidx == ctx.pii.blind_index("phone", PHONE)
    assert ctx.pii.decrypt(user.phone_enc) == PHONE


def test_audit_log_holds_no_password_hash_or_plain_personal_data(ctx):
    add_user(ctx, "zhao", PASSWORD, phone=PHONE, id_number=ID_NUMBER, roles=["cashier"])
    change_password(ctx, "zhao", "reset2027x")
    authenticate(ctx, "zhao", "reset2027x")
    with pytest.raises(AuthenticationError):
        authenticate(ctx, "zhao", PASSWORD)
    secret_hash = _user(ctx, "zhao").password_hash
    records = _audit(ctx)
    text_ = " ".join(f"{r.before_json} {r.after_json}" for r in records)
    for secret in (PASSWORD, "reset2027x", secret_hash, "$argon2", PHONE, ID_NUMBER, "19491231"):
        assert secret not in text_
    assert "138****5678" in text_ and "110105********002X" in text_


def _encodings(value: str) -> list[bytes]:
    forms = [value.encode(enc) for enc in ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")]
    if value.isdigit():
        forms.append(int(value).to_bytes(8, "big"))  # as a SQLite integer
    return forms


def test_raw_database_file_holds_no_plain_id_number_or_phone(sqlite_ctx):
    ctx = sqlite_ctx
    add_user(ctx, "zhao", PASSWORD, display_name="赵", phone=PHONE, id_number=ID_NUMBER)
    assert find_user_by_phone(ctx, PHONE).username == "zhao"
    path = ctx.db.path
    wal = path.with_name(path.name + "-wal")
    assert wal.exists() and wal.stat().st_size > 0  # the rows were in the WAL: scan it before and after
    files = [path, wal, path.with_name(path.name + "-shm")]
    before = b"".join(p.read_bytes() for p in files if p.exists())
    raw = ctx.db.engine.raw_connection()  # outside any transaction, which would block the checkpoint
    try:
        busy, _, _ = raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        assert busy == 0
    finally:
        raw.close()
    after = b"".join(p.read_bytes() for p in files if p.exists())
    for blob in (before, after):
        assert b"zhao" in blob  # the scan does see the rows
        for value in (PHONE, ID_NUMBER, ID_NUMBER.lower(), ID_NUMBER[6:14]):
            for form in _encodings(value):
                assert form not in blob, (value, form)
    with ctx.db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"


def test_the_slow_password_check_runs_outside_the_write_transaction(ctx, monkeypatch):
    """A login must not hold the site database's write lock while argon2 works (other clerks would wait)."""
    add_user(ctx, "wu.qi", PASSWORD)
    seen: list[bool] = []
    real = passwords.verify_password

    def watching(hash_: str, password: str) -> bool:
        seen.append(ctx._uow is None)
        return real(hash_, password)

    monkeypatch.setattr(passwords, "verify_password", watching)
    assert authenticate(ctx, "wu.qi", PASSWORD).username == "wu.qi"
    with pytest.raises(AuthenticationError):
        authenticate(ctx, "wu.qi", "wrong-pass-1")
    assert seen and all(seen)
