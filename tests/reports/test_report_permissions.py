"""Per-report permissions: every report needs reports.view and the view permission of the area it shows, checked
in the registry (so the CLI, the desktop and the console all obey), and the lists show only what the user may run."""

from __future__ import annotations

import pytest

from core.errors import PermissionDenied
from core.security import services as security
from core.security.permissions import PERMISSIONS
from reports import registry
from reports.period import parse_period
from tests.console.test_back_office import as_user
from tests.payments.conftest import counter_ctx, pay_ctx  # noqa: F401 (fixtures)
from tests.reports.test_payment_reports import NOV, hub_day  # noqa: F401 (fixture)

PASSWORD = "report-pass-1"


@pytest.fixture
def staff(hub_day):  # noqa: F811
    """The settled hub day of the payment report tests, and a cashier, a property clerk, finance and an auditor."""
    from core.payments.settlement import services as settle

    ctx, day = hub_day
    settle.set_payee(ctx, "property", "安居物业服务有限公司", "62220212345678")
    settle.run_settlement(ctx, day)
    security.ensure_builtin_roles(ctx)
    for name, role in (("cash1", "cashier"), ("prop1", "property"), ("fin1", "finance"), ("aud1", "auditor")):
        security.add_user(ctx, name, PASSWORD, roles=[role])
    return ctx


def _params() -> registry.ReportParams:
    return registry.ReportParams(parse_period(NOV))


def test_every_report_names_a_known_area_permission():
    for defn in registry.all_reports():
        assert defn.permission in PERMISSIONS, defn.name
        assert defn.permission != registry.REPORTS_PERMISSION, defn.name
    assert registry.get("settlement").permission == "payments.settlement.view"
    assert registry.get("trial_balance").permission == "ledger.view"
    assert registry.get("collection").permission == "property.view"


def test_a_report_without_its_own_permission_is_refused_at_registration():
    def collect(ctx, p):  # never called
        raise AssertionError

    with pytest.raises(ValueError, match="permission"):
        registry.register(registry.ReportDef("x_no_area", "X", collect, registry.REPORTS_PERMISSION))
    with pytest.raises(ValueError, match="permission"):
        registry.register(registry.ReportDef("x_blank", "X", collect, ""))
    assert "x_no_area" not in {d.name for d in registry.all_reports()}


def test_cashier_cannot_run_the_settlement_statement_finance_can(staff):
    cashier = as_user(staff, "cash1")
    assert registry.runnable(cashier.actor) == []
    assert registry.listing(actor=cashier.actor) == []
    with pytest.raises(PermissionDenied):
        registry.render(cashier, "settlement", _params(), "pdf")
    finance = as_user(staff, "fin1")
    assert "settlement" in {d.name for d in registry.runnable(finance.actor)}
    data = registry.collect(finance, "settlement", _params())
    assert data.tables[0].totals["net"] == 141_851
    assert registry.render(finance, "settlement", _params(), "xlsx")[:2] == b"PK"


def test_reports_view_alone_is_not_enough_for_the_settlement(staff):
    # The property back office prints reports and sees payments, but not the settlement to the apps.
    clerk = as_user(staff, "prop1")
    names = {d.name for d in registry.runnable(clerk.actor)}
    assert {"collection", "arrears_ageing", "cash-journal", "refunds"} <= names
    assert not names & {"settlement", "reconciliation", "trial_balance", "balance_sheet"}
    with pytest.raises(PermissionDenied) as refused:
        registry.collect(clerk, "settlement", _params())
    assert refused.value.params["permission"] == "payments.settlement.view"
    with pytest.raises(PermissionDenied) as refused:
        registry.render(
            clerk, "trial_balance", registry.ReportParams(parse_period(NOV), book="PAYHUB"), "pdf"
        )
    assert refused.value.params["permission"] == "ledger.view"
    # What the clerk may run works.
    data = registry.collect(clerk, "cash-journal", _params())
    assert data.tables


def test_lists_follow_the_permissions(staff):
    finance = as_user(staff, "fin1")
    names = [row["name"] for row in registry.listing(actor=finance.actor)]
    assert names == sorted(names)
    assert {"settlement", "reconciliation", "trial_balance", "cash-journal"} <= set(names)
    assert "collection" in names  # finance reads receivables (property.view) …
    assert "repairs" not in names  # … but not the property operations
    auditor = as_user(staff, "aud1")
    everything = [d.name for d in registry.all_reports()]
    assert [d.name for d in registry.runnable(auditor.actor)] == everything
    assert [row["name"] for row in registry.listing()] == everything  # no actor: the whole catalogue
