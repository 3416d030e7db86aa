"""The hub's order writes through the group commit without re-reading: the order's second transaction applies
the channel's answer to the order as the first one wrote it (falling back to reading it if something moved it
in between), and plain inserts (history rows, nonces) are applied per batch — only for the bodies that
succeeded."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from core.errors import ValidationError
from core.i18n import N_
from core.payments import services
from core.payments.channels import ChannelConfig, Channels
from core.payments.channels.base import FAILED, ChannelResult
from core.payments.models import PayNonce
from tests.payments.test_group_commit import InstantQr, app_ctx, in_one_batch


@pytest.fixture
def writer(db):
    from core.db.groupcommit import GroupCommit

    w = GroupCommit(db)
    yield w
    w.close()


@pytest.fixture
def ext(ctx):
    services.ensure_payhub_books(ctx)
    services.add_app(ctx, "外部", app_id="ext")
    return app_ctx(ctx, "ext")


def _create(actx, writer, channel, no: str, nonce: str):
    channels = Channels(ChannelConfig())
    channels.use("wechat", channel)
    return services.create_order(
        actx,
        "ext",
        no,
        500,
        "物业费",
        channel="wechat",
        channels=channels,
        request_nonce=(nonce, datetime.now(UTC)),
        writer=writer,
    )


def test_the_answer_is_what_the_database_holds(ctx, writer, ext):
    view, created = _create(ext, writer, InstantQr(), "W-1", "nonce-w-0001")
    assert created and view.status == "PAYING"
    assert view == services.get_order(ext, app_id="ext", out_trade_no="W-1")
    history = services.order_history(ext, view.order_no)
    assert [(e.from_status, e.to_status) for e in history] == [(None, "CREATED"), ("CREATED", "PAYING")]
    with ctx.read() as s:
        assert "nonce-w-0001" in set(s.execute(select(PayNonce.nonce)).scalars())
    again, created_again = _create(ext, writer, InstantQr(), "W-1", "nonce-w-0002")
    assert not created_again and again == view


class MovedMeanwhile(InstantQr):
    """A channel during whose call the order is ended by someone else (as a callback would)."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx

    def create(self, order):
        with self.ctx.uow() as uow:
            row = services._load_order_for_update(uow.session, order_no=order.order_no)
            services.apply_channel_result_in(uow, row, ChannelResult(FAILED, response={}), "callback")
        return super().create(order)


def test_an_order_moved_between_its_transactions_is_read_again(ctx, writer, ext):
    view, created = _create(ext, writer, MovedMeanwhile(ctx), "W-2", "nonce-w-0003")
    assert created
    # The answer (PAYING) came after the order had ended: it is not applied, and what is returned is the order
    # as it is (FAILED), not the copy the first transaction wrote.
    assert view.status == "FAILED"
    assert view == services.get_order(ext, app_id="ext", out_trade_no="W-2")
    history = services.order_history(ext, view.order_no)
    assert [(e.from_status, e.to_status) for e in history] == [(None, "CREATED"), ("CREATED", "FAILED")]


def test_deferred_inserts_of_a_failed_body_are_not_written(ctx, writer, ext):
    stmt = PayNonce.__table__.insert()

    def body(nonce: str, fail: bool):
        def run(uow):
            uow.defer_insert(stmt, {"app_id": "ext", "nonce": nonce, "seen_at": uow.now})
            if fail:
                raise ValidationError(N_("There is no channel {channel}."), channel="x")
            return nonce

        return lambda: writer.run(ext, None, run)

    results = in_one_batch(writer, ctx, [body("keep-1", False), body("drop-1", True), body("keep-2", False)])
    assert [kind for kind, _ in results] == ["ok", "error", "ok"]
    with ctx.read() as s:
        nonces = set(s.execute(select(PayNonce.nonce)).scalars())
    assert {"keep-1", "keep-2"} <= nonces
    assert "drop-1" not in nonces
