"""Arrears reminders: schedules before/after the due date and every N days, channels, the stop list, idempotent
runs on the same day, dry runs, and each house's history — with counts worked out by hand."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from core.errors import Conflict, PermissionDenied, ValidationError
from core.notify import services as notify
from core.notify.models import Message
from core.property import billing, reminders
from core.property import services as ps
from core.property.models import ReminderSent
from tests.property.helpers import person, property_fee, small_community

ZHANG_ID = "11010519491231002X"


def _count(ctx, model, *where) -> int:
    with ctx.read() as s:
        return s.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def _setup(ctx):
    """Three houses billed 223.75 元 for 2026-11. House 101: owners 张三 (with phone) and 李四 (no phone), half each;
    house 102: 王五 (with phone); house 103: no owner registered."""
    c, houses = small_community(ctx)
    property_fee(ctx, c.id)
    billing.bill_run(ctx, "2026-11")
    due = billing.house_bills(ctx, houses[0].id)[0].due_date
    on = date(2026, 1, 1)
    zhang = ps.create_owner(ctx, ps.OwnerInput("张三", id_number=ZHANG_ID, phone="13812345678"))
    li = ps.create_owner(ctx, ps.OwnerInput("李四"))
    wang = ps.create_owner(ctx, ps.OwnerInput("王五", phone="13912345678"))
    ps.add_occupant(ctx, houses[0].id, zhang.id, "owner", share_bp=5000, move_in_date=on)
    ps.add_occupant(ctx, houses[0].id, li.id, "owner", share_bp=5000, move_in_date=on)
    ps.add_occupant(ctx, houses[1].id, wang.id, "owner", share_bp=10000, move_in_date=on)
    reminders.set_schedule(ctx, c.id, "before_due", 3, ["app_push"])
    reminders.set_schedule(ctx, c.id, "after_due", 1, ["sms", "printed"])
    reminders.set_schedule(ctx, c.id, "every", 7, ["app_push", "sms"])
    return c, houses, due, zhang


def test_schedule_channels_idempotence_and_history(ctx):
    c, (h1, h2, h3), due, zhang = _setup(ctx)
    # 3 days before: an app push to each owner of the three houses (101: two, 102: one, 103: nobody).
    dry = reminders.run_reminders(ctx, due - timedelta(days=3), dry_run=True)
    assert (dry.houses, dry.messages, dry.by_channel["app_push"]) == (2, 3, 3)
    assert _count(ctx, ReminderSent) == 0 and _count(ctx, Message) == 0  # a dry run writes nothing
    first = reminders.run_reminders(ctx, due - timedelta(days=3))
    assert first.to_dict() | {"dry_run": True} == dry.to_dict()
    again = reminders.run_reminders(ctx, due - timedelta(days=3))
    assert (again.messages, again.already_sent) == (0, 3)  # the same day twice sends nothing twice
    assert _count(ctx, Message, Message.source_type == reminders.SOURCE_TYPE) == 3
    # 102 pays; the day after the due date 101 gets an SMS (张三; 李四 has no phone) and a printed notice, and
    # 103 — never reminded — gets the "every 7 days" reminder too, but only the printed notice reaches it.
    billing.pay_at_counter(ctx, h2.id, 22_375)
    r = reminders.run_reminders(ctx, due + timedelta(days=1))
    assert (r.houses, r.messages, r.no_phone) == (2, 3, 1)
    assert r.by_channel == {"app_push": 0, "sms": 1, "printed": 2}
    notices = reminders.printed_notices(ctx, due + timedelta(days=1), c.id)
    assert [(code, owed) for code, owed, _t in notices] == [("1-1-101", 22_375), ("1-1-103", 22_375)]
    assert notices[0][2].startswith("催缴通知单") and "1-1-101" in notices[0][2]
    # Six days later: "every 7" has not come round yet (last reminder the day after the due date).
    assert reminders.run_reminders(ctx, due + timedelta(days=7)).messages == 0
    # 张三 agreed to pay in instalments: he is on the stop list for ten days; 李四 still gets the app push.
    stop = reminders.add_stop(ctx, owner_id=zhang.id, reason="已协商分期", until=due + timedelta(days=10))
    r = reminders.run_reminders(ctx, due + timedelta(days=8))
    assert (r.messages, r.by_channel["app_push"], r.stopped, r.no_phone) == (1, 1, 2, 1)
    # After the stop ends, every 7 days comes round again for 101 and 103; now 103 is stopped as a house.
    reminders.add_stop(ctx, house_id=h3.id, reason="空置房收费争议")
    r = reminders.run_reminders(ctx, due + timedelta(days=15))
    assert (r.houses, r.by_channel["app_push"], r.by_channel["sms"]) == (1, 2, 1)
    assert r.stopped == 2  # 103's two channels
    hist = reminders.history(ctx, h1.id)
    assert [(x.on_date - due).days for x in hist] == [15, 15, 15, 8, 1, 1, -3, -3]
    assert {x.kind for x in hist} == {"before_due", "after_due", "every"}
    assert reminders.history(ctx, h2.id)[0].kind == "before_due"
    # The outbox delivers SMS through the pluggable sender, which records what it would send.
    sms = notify.sender("sms")
    before = len(sms.sent)
    notify.deliver_pending(ctx)
    sent = sms.sent[before:]
    assert len(sent) == 2 and all(m.address == "13812345678" and "1-1-101" in m.body for m in sent)
    assert reminders.remove_stop(ctx, stop.id).removed
    assert [s.target for s in reminders.list_stops(ctx)] == ["1-1-103"]
    assert len(reminders.list_stops(ctx, include_ended=True)) == 2


def test_schedule_and_stop_list_refuse_bad_input(ctx):
    c, (h1, _h2, _h3), _due, zhang = _setup(ctx)
    assert [(s.kind, s.days) for s in reminders.list_schedules(ctx, c.id)] == [
        ("after_due", 1), ("before_due", 3), ("every", 7),
    ]  # fmt: skip
    with pytest.raises(ValidationError):
        reminders.set_schedule(ctx, c.id, "weekly", 7, ["sms"])
    with pytest.raises(ValidationError):
        reminders.set_schedule(ctx, c.id, "every", 0, ["sms"])
    with pytest.raises(ValidationError):
        reminders.set_schedule(ctx, c.id, "every", 7, ["fax"])
    with pytest.raises(ValidationError):
        reminders.set_schedule(ctx, c.id, "every", 7, [])
    off = reminders.set_schedule(ctx, c.id, "every", 7, ["sms"], active=False)
    assert (off.channels, off.active) == (("sms",), False)
    assert len(reminders.list_schedules(ctx, c.id)) == 3  # changed in place, not added
    with pytest.raises(ValidationError):
        reminders.add_stop(ctx, house_id=h1.id, owner_id=zhang.id, reason="两者")
    with pytest.raises(ValidationError):
        reminders.add_stop(ctx, house_id=h1.id, reason="")
    with pytest.raises(ValidationError):
        reminders.add_stop(ctx, house_id=h1.id, reason="过期", until=date(2020, 1, 1))
    stop = reminders.add_stop(ctx, house_id=h1.id, reason="业主去世，家属办理中")
    with pytest.raises(Conflict):
        reminders.add_stop(ctx, house_id=h1.id, reason="again")
    reminders.remove_stop(ctx, stop.id)
    with pytest.raises(Conflict):
        reminders.remove_stop(ctx, stop.id)
    nobody = person(ctx, "sun", "cashier", perms=("property.view",))
    with pytest.raises(PermissionDenied):
        reminders.run_reminders(nobody)
    with pytest.raises(PermissionDenied):
        reminders.add_stop(nobody, house_id=h1.id, reason="x")
    assert _count(ctx, ReminderSent) == 0


def test_firing_rules():
    on = date(2026, 12, 10)
    rules = [("before_due", 3), ("after_due", 1), ("every", 7)]
    assert reminders.firing_rules(on, [(date(2026, 12, 13), 100)], rules, None) == [("before_due", 3)]
    assert reminders.firing_rules(on, [(date(2026, 12, 13), 0)], rules, None) == []  # nothing owed
    assert reminders.firing_rules(on, [(date(2026, 12, 9), 100)], rules, None) == [
        ("after_due", 1),
        ("every", 7),
    ]
    assert reminders.firing_rules(on, [(date(2026, 11, 1), 100)], rules, date(2026, 12, 4)) == []
    assert reminders.firing_rules(on, [(date(2026, 11, 1), 100)], rules, date(2026, 12, 3)) == [("every", 7)]


def test_cli_schedule_stop_and_run(ctx, tmp_path, monkeypatch):
    import json

    from click.testing import CliRunner

    from console.cli import main

    _c, _houses, due, _zhang = _setup(ctx)
    monkeypatch.setattr("console.cli.Site.context", lambda self, **kw: ctx)
    monkeypatch.setattr("console.cli.Site.close", lambda self: None)
    run = CliRunner()
    home = ["--home", str(tmp_path / "site")]
    prop = [*home, "property", "reminders"]
    out = run.invoke(main, [*prop, "schedule", "set", "--community", "C1", "--kind", "before_due", "--days", "3",
                            "--channels", "app_push,printed"])  # fmt: skip
    assert out.exit_code == 0, out.output
    out = run.invoke(main, [*prop, "schedule", "list", "--json"])
    assert {(r["kind"], r["days"], tuple(r["channels"])) for r in json.loads(out.output)} == {
        ("before_due", 3, ("app_push", "printed")), ("after_due", 1, ("sms", "printed")), ("every", 7, ("app_push", "sms")),
    }  # fmt: skip
    out = run.invoke(main, [*prop, "stop", "add", "--house", "1-1-103", "--reason", "空置", "--json"])
    assert out.exit_code == 0, out.output
    stop_id = json.loads(out.output)["id"]
    day = (due - timedelta(days=3)).isoformat()
    out = run.invoke(main, [*prop, "run", "--date", day, "--dry-run", "--json"])
    assert out.exit_code == 0, out.output
    dry = json.loads(out.output)
    # 101: two app pushes + printed; 102: one app push + printed; 103 stopped (2 channels).
    assert (dry["messages"], dry["by_channel"], dry["stopped"]) == (
        5,
        {"app_push": 3, "sms": 0, "printed": 2},
        2,
    )
    out = run.invoke(main, [*prop, "run", "--date", day, "--json"])
    assert json.loads(out.output)["messages"] == 5
    out = run.invoke(main, [*prop, "run", "--date", day, "--json"])
    assert (json.loads(out.output)["messages"], json.loads(out.output)["already_sent"]) == (0, 5)
    out = run.invoke(main, [*prop, "stop", "list", "--json"])
    assert [r["target"] for r in json.loads(out.output)] == ["1-1-103"]
    out = run.invoke(main, [*prop, "stop", "remove", stop_id])
    assert out.exit_code == 0, out.output
    out = run.invoke(main, [*prop, "run", "--date", "2026-13-01"])
    assert out.exit_code == 2
