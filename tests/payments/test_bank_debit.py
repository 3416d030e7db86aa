"""Bank batch debit (代扣): orders wait in PAYING, go out in a request file, and the result file settles them."""

from __future__ import annotations

import pytest

from core.errors import StateError, ValidationError
from core.ledger.services import get_balance
from core.payments import services
from core.payments.channels.bank_debit import RESULT_HEADER, parse_result_file


def test_debit_batch_round_trip(pay_ctx):
    a, _ = services.create_order(
        pay_ctx, "property", "D1", 30000, "物业费代扣", method="debit", payer="6222000011112222"
    )
    b, _ = services.create_order(
        pay_ctx, "property", "D2", 20000, "物业费代扣", method="debit", payer="6222000033334444"
    )
    assert a.channel == "bank_debit" and a.status == "PAYING"
    _batch_no, request_file = services.export_debit_batch(pay_ctx)
    lines = request_file.decode().splitlines()
    assert lines[0] == "order_no,payer_account,amount_fen,subject" and len(lines) == 3
    assert services.export_debit_batch(pay_ctx)[0] is None  # nothing left to send
    with pytest.raises(StateError):
        services.close_order(pay_ctx, "property", "D1")  # in a batch: wait for the bank
    result = (
        ",".join(RESULT_HEADER) + "\n"
        f"{a.order_no},30000,S,BK001,ok\n"
        f"{b.order_no},20000,F,,余额不足\n"
        "NOPE,1,S,,\n"
    ).encode()
    assert services.import_debit_results(pay_ctx, result) == {
        "paid": 1,
        "failed": 1,
        "already": 0,
        "rejected": 1,
    }
    assert services.import_debit_results(pay_ctx, result) == {
        "paid": 0,
        "failed": 0,
        "already": 2,
        "rejected": 1,
    }
    assert services.get_order(pay_ctx, order_no=a.order_no).status == "SUCCESS"
    assert services.get_order(pay_ctx, order_no=b.order_no).status == "FAILED"
    assert get_balance(pay_ctx, "PAYHUB", "1012.bank_debit").balance_fen == 30000 - 30  # fee 0.1 %


def test_bad_result_file_changes_nothing(pay_ctx):
    services.create_order(pay_ctx, "property", "D1", 100, "s", method="debit")
    services.export_debit_batch(pay_ctx)
    with pytest.raises(ValidationError):
        services.import_debit_results(pay_ctx, b"order_no,amount_fen,result\nX,1,S\n")
    with pytest.raises(ValueError):
        parse_result_file(",".join(RESULT_HEADER).encode() + b"\nX,abc,S,,\n")
    assert services.get_order(pay_ctx, app_id="property", out_trade_no="D1").status == "PAYING"
