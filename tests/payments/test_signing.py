"""The hub's nonce store: replays refused in memory, nonces persisted and reloaded across a restart."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.payments import notify, services
from hub.signing import NonceStore, Unauthorized, Verifier, sign_request


def test_replay_refused_after_restart(ctx, clock):
    now = clock.now()
    store = NonceStore()
    assert store.add("app", "n0000001", now)
    assert not store.add("app", "n0000001", now)
    assert store.add("other", "n0000001", now)  # nonces are per app
    assert store.flush(ctx) == 2
    restarted = NonceStore()
    assert restarted.load(ctx) == 2
    assert not restarted.add("app", "n0000001", now)
    clock.advance(seconds=601)
    assert restarted.add("app", "n0000001", clock.now())  # long past the window: forgotten
    store.flush(ctx)  # prunes what is older than twice the window
    assert NonceStore().load(ctx) == 0


def test_verifier_checks_everything(ctx, clock):
    verifier = Verifier(lambda app_id: "s3cret" if app_id == "a1" else None)
    now_s = int(clock.now().timestamp())
    headers = {k.lower(): v for k, v in sign_request("a1", "s3cret", "POST", "/v1/x", b"{}", now_s).items()}
    assert verifier.verify(clock.now(), "POST", "/v1/x", headers, b"{}") == "a1"
    with pytest.raises(Unauthorized):
        verifier.verify(clock.now(), "POST", "/v1/x", headers, b"{}")  # replay
    fresh = {k.lower(): v for k, v in sign_request("a1", "s3cret", "POST", "/v1/x", b"{}", now_s).items()}
    with pytest.raises(Unauthorized):
        verifier.verify(clock.now() + timedelta(seconds=301), "POST", "/v1/x", fresh, b"{}")  # stale
    with pytest.raises(Unauthorized):
        verifier.verify(clock.now(), "GET", "/v1/x", fresh, b"{}")  # signed for another method


def test_operator_resend_delivers_again(counter_ctx, pay_ctx):
    calls = []
    notify.register_handler("property", lambda uow, notice: calls.append(notice["order_no"]))
    try:
        order = services.counter_pay(counter_ctx, "property", "RS1", 100, "s")
        notify.resend(pay_ctx, f"pay:{order.order_no}:SUCCESS")
        assert notify.deliver_inprocess(pay_ctx) == 1
        assert calls == [order.order_no, order.order_no]
        [n] = notify.list_notifications(pay_ctx, object_no=order.order_no)
        assert n["status"] == "DELIVERED" and n["attempts"] == 2
    finally:
        notify.unregister_handler("property")
