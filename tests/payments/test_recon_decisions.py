"""Recon decisions that move money post a balanced PAYHUB entry in the resolving transaction (known numbers
from the payment hub's seeded day); decisions that move none post nothing; a failed posting leaves the
difference open."""

from __future__ import annotations

import pytest

from core.ledger import services as ledger
from core.ledger.verify import verify
from core.payments.recon import rules
from core.payments.recon import services as recon
from tests.payments.test_recon import DAY, seed_day, write


def entries_for(ctx, item_id) -> list:
    try:
        rows = ledger.journal(ctx, "PAYHUB", limit=1000)
    except Exception:  # no PAYHUB book yet: nothing was ever posted
        return []
    return [e for e in rows if e.doc_type == recon.DECISION_DOC_TYPE and e.doc_id == str(item_id)]


@pytest.fixture
def diffs(ctx, tmp_path):
    trades, refunds = seed_day(ctx)
    recon.run_recon(ctx, "wechat", DAY, write(tmp_path, DAY, trades, refunds))
    return {d.doc_no: d for d in recon.list_differences(ctx)}


# (doc, decision, expected postings) — the seeded day's numbers (fen):
CASES = [
    # ours 20.00 paid (fee 0.12), unknown to the channel: the channel is right, the money is to be found.
    ("T01PB", "accept_channel", {"1012.wechat": -1988, "6602.fee": -12, rules.ACCOUNT_SUSPENSE: 2000}),
    # the same, written off as a loss.
    ("T01PB", "write_off", {"1012.wechat": -1988, "6602.fee": -12, rules.ACCOUNT_RECON_PL: 2000}),
    # the channel has 66.00 (fee 0.40) we have no order for: credited to suspense.
    ("T01PC", "accept_channel", {"1012.wechat": 6560, "6602.fee": 40, rules.ACCOUNT_SUSPENSE: -6600}),
    # ... or owed back to the payer.
    ("T01PC", "refund_payer", {"1012.wechat": 6560, "6602.fee": 40, rules.ACCOUNT_REFUND_DUE: -6600}),
    # the channel took 50.01 for our 50.00: the extra fen is due back to the payer.
    ("T01PD", "refund_payer", {"1012.wechat": 1, rules.ACCOUNT_REFUND_DUE: -1}),
    # fee 0.25 at the channel, 0.24 ours: the fee account takes the difference.
    ("T01PF", "accept_channel", {"1012.wechat": -1, "6602.fee": 1}),
    ("T01PF", "write_off", {"1012.wechat": -1, "6602.fee": 1}),
    # a refund of 5.00 (fee back 0.03) the channel made while ours is still processing.
    ("T01RB", "accept_channel", {"1012.wechat": -497, "6602.fee": -3, rules.ACCOUNT_SUSPENSE: 500}),
]


@pytest.mark.parametrize(("doc", "decision", "expected"), CASES)
def test_money_moving_decision_posts_a_balanced_entry(ctx, diffs, doc, decision, expected):
    d = diffs[doc]
    recon.resolve(ctx, d.id, decision, "核对后按此处理")
    (entry,) = entries_for(ctx, d.id)
    assert entry.book == "PAYHUB" and dict(entry.postings) == expected
    assert sum(amount for _code, amount in entry.postings) == 0
    for code, amount in expected.items():
        balance = ledger.get_balance(ctx, "PAYHUB", code)
        assert balance.debits_posted_fen - balance.credits_posted_fen == amount
    with ctx.read() as s:
        result = verify(s)
    assert result.ok, result.problems


@pytest.mark.parametrize(("doc", "decision"), [("T01PE", "accept_local"), ("T01PD", "accept_local")])
def test_decisions_that_move_no_money_post_nothing(ctx, diffs, doc, decision):
    d = diffs[doc]
    resolved = recon.resolve(ctx, d.id, decision, "以本地记录为准")
    assert resolved.status == "resolved" and entries_for(ctx, d.id) == []


def test_a_failed_posting_leaves_the_difference_open(ctx, diffs, monkeypatch):
    from core.errors import ValidationError

    d = diffs["T01PC"]

    def refuse(uow, spec):
        raise ValidationError("ledger refused")

    monkeypatch.setattr(recon, "post_in", refuse)
    with pytest.raises(ValidationError):
        recon.resolve(ctx, d.id, "accept_channel", "入待查")
    assert recon.get_difference(ctx, d.id).status == "open"
    assert entries_for(ctx, d.id) == []


def test_the_audit_record_names_the_entry(ctx, diffs):
    from sqlalchemy import select

    from core.audit.models import AuditRecord

    d = diffs["T01PF"]
    recon.resolve(ctx, d.id, "accept_channel", "渠道费率")
    (entry,) = entries_for(ctx, d.id)
    with ctx.read() as s:
        record = s.execute(select(AuditRecord).where(AuditRecord.object_id == str(d.id))).scalar_one()
    assert str(entry.id) in record.after_json


def test_decision_postings_rule():
    facts = rules.DecisionFacts("amount_mismatch", "refund", "alipay", 1000, 1200, 6, 7, "SUCCESS", "SUCCESS")
    # the channel refunded 2.00 more and gave 0.01 more fee back.
    assert rules.decision_postings(facts, "write_off") == [
        ("1012.alipay", -199),
        ("6602.fee", -1),
        (rules.ACCOUNT_RECON_PL, 200),
    ]
    assert rules.decision_postings(facts, "accept_local") == []
    with pytest.raises(ValueError):
        rules.decision_postings(facts._replace(kind="fee_mismatch"), "refund_payer")
