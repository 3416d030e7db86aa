"""Fixtures for the desktop app tests: a site with a community, houses with bills, users and the payment hub."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import gc

import pytest

from core.payments import services as payments
from core.property import billing
from core.property import services as ps
from core.security import services as security
from tests.property.helpers import property_fee, small_community

PASSWORD = "counter-pass-1"


def build_site(ctx) -> dict:
    """Community C1 with three houses, an owner, two months of bills; users cashier1 / auditor1 / off1."""
    security.ensure_builtin_roles(ctx)
    payments.ensure_payhub_books(ctx)
    payments.add_app(ctx, "物业", app_id="property")
    c, houses = small_community(ctx)
    property_fee(ctx, c.id)
    owner = ps.create_owner(ctx, ps.OwnerInput("张三", phone="13800138000", id_number="110101199003071233"))
    ps.add_occupant(ctx, houses[0].id, owner.id, "owner", share_bp=10_000)
    billing.bill_run(ctx, "2026-01")
    billing.bill_run(ctx, "2026-02")
    security.add_user(ctx, "cashier1", PASSWORD, display_name="收银员甲", roles=["cashier"])
    security.add_user(ctx, "auditor1", PASSWORD, display_name="审计乙", roles=["auditor"])
    security.add_user(ctx, "off1", PASSWORD, roles=["cashier"])
    security.disable_user(ctx, "off1")
    return {"community": c, "houses": houses, "owner": owner}


@pytest.fixture
def site(sqlite_ctx):
    from desktop.app import application, load_modules

    application()
    load_modules()
    return sqlite_ctx, build_site(sqlite_ctx)


@pytest.fixture(autouse=True)
def _collect_on_the_gui_thread():
    """The app collects garbage on the GUI thread only (desktop/collector.py). Between tests: collect what this test
    left (its windows and dialogs) here, on the main thread, and give the tests that follow in this worker
    (not Qt ones) the automatic collector back; the next desktop test's application() switches it off again."""
    yield
    gc.collect()
    gc.enable()
