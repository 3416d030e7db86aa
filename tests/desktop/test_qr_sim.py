"""A WeChat QR payment at the counter completed by the channel simulator running as its own process: the
counter reaches the simulator through ANJU_CHANNEL_SIM_URL, the payer "scans" (the simulator is told to pay),
the simulator's signed callback reaches the hub API (uvicorn), the hub's notice settles the bills, and the
counter's QR dialog, polling, sees SUCCESS."""

from __future__ import annotations

import threading
from urllib.parse import urlsplit

import pytest

from core.clock import SystemClock
from core.payments import services as payments
from core.property import billing
from desktop.property.module import PayDialog, QrDialog
from tests.conftest import make_site_context
from tests.desktop.conftest import build_site
from tests.desktop.test_counter_app import find_and_open, window
from tests.payments.conftest import SIM_KEY, SIM_MCH, free_port, sim_server, wait_for  # noqa: F401


@pytest.fixture
def sim_site(sqlite_db, tmp_path, sim_server, monkeypatch):  # noqa: F811
    """A site on the real clock (signatures use real time), the hub API on a free port, and the counter's
    channel configuration taken from the environment, pointing at the simulator process."""
    import uvicorn

    from core.payments.channels import ChannelConfig, Channels
    from desktop.app import application, load_modules
    from hub.api import create_app

    sim_server.config()
    ctx = make_site_context(sqlite_db, SystemClock(), tmp_path / "home")  # type: ignore[arg-type]
    data = build_site(ctx)
    port = free_port()
    hub_url = f"http://127.0.0.1:{port}"
    for key, value in {
        "ANJU_CHANNEL_SIM_URL": sim_server.url,
        "ANJU_CHANNEL_MCH_ID": SIM_MCH,
        "ANJU_CHANNEL_MCH_KEY": SIM_KEY,
        "ANJU_HUB_URL": hub_url,
        "ANJU_CHANNEL_TIMEOUT_S": "3",
    }.items():
        monkeypatch.setenv(key, value)
    channels = Channels(ChannelConfig.from_env())
    app = create_app(ctx.db, ctx.home, channels=channels, run_jobs=False)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, timeout_s=10)
    application()
    load_modules()
    try:
        yield ctx, data, sim_server
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_qr_payment_completed_by_the_simulator_process(qtbot, sim_site):
    ctx, data, sim = sim_site
    w, counter = window(qtbot, ctx)
    counter.open_shift("200.00")
    find_and_open(qtbot, w, counter, "1-1-101")
    counter.pay_selected()
    dlg = counter.last_dialog
    assert isinstance(dlg, PayDialog) and dlg.channels is None  # the configured channels: the simulator
    dlg.channel.setCurrentIndex(dlg.channel.findData("wechat"))
    dlg.submit()
    qtbot.waitUntil(lambda: dlg.qr_dialog is not None, timeout=15_000)
    qr = dlg.qr_dialog
    assert isinstance(qr, QrDialog) and urlsplit(qr.code.text()).scheme == "weixin"
    order = payments.get_order(ctx, app_id="property", out_trade_no=dlg.key)
    assert order.status == "PAYING"
    assert sim.post(f"/sim/pay/{order.order_no}").status_code == 200  # the payer scans and pays
    qtbot.waitUntil(lambda: dlg.result is not None, timeout=20_000)  # the dialog's own polling sees it
    assert dlg.result.status == "SUCCESS" and dlg.result.order_no == order.order_no
    assert not qr.isVisible()
    assert billing.outstanding(ctx, data["houses"][0].id) == []  # settled by the hub's notice
    qtbot.waitUntil(lambda: w.tasks.running == 0, timeout=10_000)
    assert "QR" in counter.due_label.text() or order.order_no in counter.due_label.text()
