"""Notifications to an external app that never answers: retried on the backoff schedule, given up after 24 h."""

from __future__ import annotations

from datetime import timedelta

from core.payments import notify, services
from tests.payments.conftest import free_port


def test_unreachable_app_is_retried_then_given_up(counter_ctx, pay_ctx, clock):
    url = f"http://127.0.0.1:{free_port()}/notify"  # nobody listens there
    services.add_app(pay_ctx, "外部系统", url, app_id="ext")
    order = services.counter_pay(counter_ctx, "ext", "N1", 100, "s")
    start = clock.now()
    gaps = []
    last = None
    for _ in range(60):
        [n] = notify.list_notifications(pay_ctx, object_no=order.order_no)
        if n["status"] != "PENDING":
            break
        clock.set(n["next_attempt_at"])
        assert notify.deliver_http_due(pay_ctx) == 0
        if last is not None:
            gaps.append(int((clock.now() - last).total_seconds()))
        last = clock.now()
    [n] = notify.list_notifications(pay_ctx, object_no=order.order_no)
    assert n["status"] == "GAVE_UP"
    assert gaps[:6] == [15, 30, 180, 600, 1800, 3600]
    assert clock.now() - start <= timedelta(hours=24)
    assert n["attempts"] == len(gaps) + 1
