"""`core.notify.enqueue_many`: many outbox messages in one multi-row insert, delivered like single ones (the SMS
phone encrypted and decrypted for the sender); one bad message refuses the whole batch and queues nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.errors import ValidationError
from core.notify import services as notify
from core.notify.models import Message


def _count(ctx) -> int:
    with ctx.read() as s:
        return s.execute(select(func.count()).select_from(Message)).scalar_one()


def test_many_messages_are_queued_in_order_and_delivered(ctx):
    batch = [
        notify.NewMessage("app_push", "owner-1", "物业费催缴", "请缴纳 11 月物业费", "reminder", "R1"),
        notify.NewMessage(
            "sms", "owner-2", "物业费催缴", "请缴纳物业费", "reminder", "R2", address="13812345678"
        ),
        notify.NewMessage("notice_board", "3号楼大堂", "停水通知", "明日停水", "notice", "N1"),
    ]
    old = notify.set_sender("sms", notify.RecordingSender("sms"))
    try:
        with ctx.uow() as uow:
            single = notify.enqueue(
                uow,
                channel="app_push",
                recipient="owner-3",
                subject="s",
                body="b",
                source_type="x",
                source_id=1,
            )
            ids = notify.enqueue_many(uow, batch)
        assert len(set(ids)) == 3 and single not in ids
        with ctx.read() as s:
            rows = {m.id: m for m in s.execute(select(Message)).scalars()}
        assert [(rows[i].channel, rows[i].source_id, rows[i].status) for i in ids] == [
            ("app_push", "R1", "pending"),
            ("sms", "R2", "pending"),
            ("notice_board", "N1", "pending"),
        ]
        assert rows[ids[1]].address_enc and b"13812345678" not in rows[ids[1]].address_enc
        result = notify.deliver_pending(ctx)
        assert result.sent == 4
        (sms,) = notify.sender("sms").sent
        assert (sms.address, sms.recipient, sms.body) == ("13812345678", "owner-2", "请缴纳物业费")
    finally:
        notify.set_sender("sms", old)


@pytest.mark.parametrize(
    "bad",
    [
        notify.NewMessage("fax", "o", "s", "b", "t", 1),
        notify.NewMessage("sms", "o", "s", "b", "t", 1),  # no phone
        notify.NewMessage("app_push", "o", "", "b", "t", 1),
        notify.NewMessage("app_push", "o", "s", "", "t", 1),
    ],
)
def test_one_bad_message_refuses_the_batch(ctx, bad):
    good = notify.NewMessage("app_push", "o", "s", "b", "t", 1)
    with pytest.raises(ValidationError), ctx.uow() as uow:
        notify.enqueue_many(uow, [good, bad])
    assert _count(ctx) == 0


def test_empty_batch_queues_nothing(ctx):
    with ctx.uow() as uow:
        assert notify.enqueue_many(uow, []) == []
    assert _count(ctx) == 0
