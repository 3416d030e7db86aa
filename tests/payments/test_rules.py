"""Pure payment rules: state tables, fees and fee refunds, routing, backoff, signatures (with Hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.payments import rules

amounts = st.integers(min_value=1, max_value=10**10)
rates = st.decimals(min_value=0, max_value=Decimal("0.1"), places=4, allow_nan=False, allow_infinity=False)


def test_terminal_states_never_move():
    for state in ("FAILED", "CLOSED", "REFUNDED"):
        assert state in rules.ORDER_TERMINAL
        for other in rules.ORDER_TRANSITIONS:
            assert not rules.can_move(rules.ORDER_TRANSITIONS, state, other)
    assert rules.can_move(rules.ORDER_TRANSITIONS, "UNKNOWN", "SUCCESS")
    assert not rules.can_move(rules.ORDER_TRANSITIONS, "SUCCESS", "FAILED")
    assert not rules.can_move(rules.ORDER_TRANSITIONS, "CREATED", "REFUNDED")
    assert not rules.can_move(rules.REFUND_TRANSITIONS, "SUCCESS", "FAILED")


def test_fee_rounds_half_up_once():
    assert rules.fee_fen(10000, Decimal("0.006")) == 60
    assert rules.fee_fen(250, Decimal("0.006")) == 2  # 1.5 → 2
    assert rules.fee_fen(249, Decimal("0.006")) == 1  # 1.494 → 1
    assert rules.fee_fen(83, Decimal("0.006")) == 0  # 0.498 → 0


@given(amounts, rates, st.lists(st.integers(min_value=1, max_value=100), min_size=1, max_size=8))
def test_fee_refunds_add_up_to_the_fee(amount, rate, weights):
    from core.money import allocate

    fee = rules.fee_fen(amount, rate)
    parts = [p for p in allocate(amount, weights) if p > 0]
    refunded = fee_back = 0
    for part in parts:
        back = rules.refund_fee_fen(amount, fee, part, refunded, fee_back)
        assert 0 <= back <= fee - fee_back
        refunded += part
        fee_back += back
    assert refunded == amount and fee_back == fee


@given(amounts, rates, st.data())
def test_partial_fee_refund_is_proportional_half_up(amount, rate, data):
    fee = rules.fee_fen(amount, rate)
    part = data.draw(st.integers(min_value=1, max_value=amount))
    back = rules.refund_fee_fen(amount, fee, part, 0, 0)
    if part < amount:
        exact = Decimal(fee) * part / amount
        assert abs(Decimal(back) - exact) <= Decimal("0.5")
    else:
        assert back == fee


def test_refund_fee_refuses_more_than_left():
    with pytest.raises(ValueError):
        rules.refund_fee_fen(100, 1, 101, 0, 0)
    with pytest.raises(ValueError):
        rules.refund_fee_fen(100, 1, 50, 60, 0)


def test_status_after_refund_and_change():
    assert rules.status_after_refund(100, 40) == "PARTIALLY_REFUNDED"
    assert rules.status_after_refund(100, 100) == "REFUNDED"
    with pytest.raises(ValueError):
        rules.status_after_refund(100, 101)
    assert rules.change_fen(12345, 20000) == 7655
    with pytest.raises(ValueError):
        rules.change_fen(100, 99)


def test_parse_rate():
    assert rules.parse_rate("0.006") == Decimal("0.006")
    for bad in ("-0.1", "0.2", "abc", "NaN", "Infinity"):
        with pytest.raises(ValueError):
            rules.parse_rate(bad)


def test_routing_picks_specific_rule_and_falls_back():
    r = [
        rules.RouteRule(("wechat", "alipay"), method="qr"),
        rules.RouteRule(("alipay",), app_id="shop", method="qr", priority=100),
        rules.RouteRule(("unionpay",), method="qr", min_amount_fen=1_000_000, priority=10),
    ]
    on = ["wechat", "alipay", "unionpay"]
    assert rules.choose_channel(r, "property", "qr", 100, on) == "wechat"
    assert rules.choose_channel(r, "shop", "qr", 100, on) == "alipay"
    assert rules.choose_channel(r, "shop", "qr", 2_000_000, on) == "unionpay"
    assert rules.choose_channel(r, "property", "qr", 100, ["alipay"]) == "alipay"  # wechat disabled
    assert rules.choose_channel(r, "property", "qr", 100, []) is None
    assert rules.choose_channel(r, "property", "card", 100, on) is None


@given(st.text(max_size=10), st.text(max_size=10), st.integers(min_value=0, max_value=10**9))
def test_rule_matching_respects_bounds(app, method, amount):
    rule = rules.RouteRule(("cash",), min_amount_fen=100, max_amount_fen=1000)
    assert rules.rule_matches(rule, app, method, amount) == (100 <= amount <= 1000)


def test_backoff_schedule_and_give_up():
    assert [rules.notify_delay_s(n) for n in range(9)] == [0, 15, 30, 180, 600, 1800, 3600, 3600, 3600]
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    assert rules.notify_next_at(t0, t0, 1) == t0 + timedelta(seconds=15)
    assert rules.notify_next_at(t0, t0 + timedelta(hours=23, minutes=30), 9) is None
    assert rules.notify_acknowledged(200, "SUCCESS\n")
    assert not rules.notify_acknowledged(200, "OK")
    assert not rules.notify_acknowledged(500, "SUCCESS")
    assert not rules.notify_acknowledged(None, "SUCCESS")


def test_signature_and_freshness():
    sig = rules.sign("s3cret", "POST", "/v1/pay-orders", "1700000000", "abcdefgh", b"{}")
    assert len(sig) == 64 and sig == sig.lower()
    assert rules.signature_ok("s3cret", "post", "/v1/pay-orders", "1700000000", "abcdefgh", b"{}", sig)
    assert not rules.signature_ok("s3cret", "POST", "/v1/pay-orders", "1700000000", "abcdefgh", b"{ }", sig)
    assert rules.timestamp_fresh("1700000300", 1700000000)
    assert not rules.timestamp_fresh("1700000301", 1700000000)
    assert not rules.timestamp_fresh("-5", 1700000000)
    assert not rules.timestamp_fresh("1e9", 1700000000)


@given(st.dictionaries(st.text(max_size=5), st.integers(), max_size=5))
def test_request_hash_ignores_key_order(fields):
    assert rules.request_hash(fields) == rules.request_hash(dict(reversed(list(fields.items()))))
