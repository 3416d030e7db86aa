"""`anju payments` (apps, channels, routes, orders, notifications, jobs, shifts, bank debit files), and the
top-level `anju hub serve` and `anju channel-sim serve` that run the hub API and the channel simulator."""

from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path

import click

from console.cli import Site, echo_json
from core.i18n import _
from core.money import format_fen, parse_yuan


@click.group("payments")
def group() -> None:
    """The payment hub (支付中台): apps, channels, orders, jobs and cashier shifts."""


# ---------------------------------------------------------------- apps


@group.group("apps")
def apps() -> None:
    """Apps (business lines and external systems) that pay through the hub."""


@apps.command("add")
@click.argument("name")
@click.option("--notify-url", default=None, help="Where results are POSTed (external apps).")
@click.option("--app-id", default=None, help="A fixed id (e.g. property); default: a random app_… id.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def apps_add(site: Site, name: str, notify_url: str | None, app_id: str | None, as_json: bool) -> None:
    """Add an app; prints its id and secret (shown this once)."""
    from core.payments.services import add_app

    new_id, secret = add_app(site.context(), name, notify_url, app_id=app_id)
    if as_json:
        echo_json({"app_id": new_id, "app_secret": secret})
    else:
        click.echo(_("App {app} added. Secret (shown once): {secret}").format(app=new_id, secret=secret))


@apps.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def apps_list(site: Site, as_json: bool) -> None:
    """List apps."""
    from core.payments.services import list_apps

    rows = list_apps(site.context())
    if as_json:
        echo_json(rows)
        return
    for a in rows:
        click.echo(f"{a.app_id:<24} {a.name:<20} {a.status:<8} {a.notify_url or '-'}")


# ---------------------------------------------------------------- channels and routes


@group.group("channels")
def channels_group() -> None:
    """Channels: switch on/off, fee rates."""


@channels_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def channels_list(site: Site, as_json: bool) -> None:
    from core.payments.routing import list_channels

    rows = list_channels(site.context())
    if as_json:
        echo_json(rows)
        return
    for c in rows:
        state = _("on") if c.enabled else _("off")
        click.echo(f"{c.code:<14} {c.name:<16} {state:<4} {c.fee_rate}")


@channels_group.command("set")
@click.argument("code")
@click.option("--enable/--disable", default=None)
@click.option("--fee-rate", default=None, help="e.g. 0.006")
@click.pass_obj
def channels_set(site: Site, code: str, enable: bool | None, fee_rate: str | None) -> None:
    from core.payments.routing import set_channel

    v = set_channel(site.context(), code, enabled=enable, fee_rate=fee_rate)
    click.echo(f"{v.code} {'on' if v.enabled else 'off'} {v.fee_rate}")


@group.group("routes")
def routes_group() -> None:
    """Routing rules: app, method and amount range → channels in fallback order."""


@routes_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def routes_list(site: Site, as_json: bool) -> None:
    from core.payments.routing import list_routes

    rows = list_routes(site.context())
    if as_json:
        echo_json(rows)
        return
    for r in rows:
        upper = "∞" if r.max_amount_fen is None else r.max_amount_fen
        click.echo(
            f"{r.priority:>5} {r.app_id or '*':<12} {'*' if r.method is None else (r.method or '-'):<10} {r.min_amount_fen}–{upper} "
            f"{','.join(r.channels)} {'' if r.enabled else '(off)'}"
        )


@routes_group.command("add")
@click.argument("channels")
@click.option("--app-id", default=None)
@click.option("--method", default=None)
@click.option("--min-fen", type=int, default=0)
@click.option("--max-fen", type=int, default=None)
@click.option("--priority", type=int, default=100)
@click.pass_obj
def routes_add(site: Site, channels: str, app_id, method, min_fen, max_fen, priority) -> None:
    """Add a rule; CHANNELS is a comma-separated fallback list, e.g. wechat,alipay."""
    from core.payments.routing import add_route

    v = add_route(
        site.context(),
        [c.strip() for c in channels.split(",") if c.strip()],
        app_id=app_id,
        method=method,
        min_amount_fen=min_fen,
        max_amount_fen=max_fen,
        priority=priority,
    )
    click.echo(str(v.id))


# ---------------------------------------------------------------- orders and notifications


@group.group("orders")
def orders_group() -> None:
    """Payment orders."""


@orders_group.command("list")
@click.option("--app-id", default=None)
@click.option("--status", default=None)
@click.option("--limit", type=int, default=50)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def orders_list(site: Site, app_id, status, limit, as_json) -> None:
    from core.payments.services import list_orders

    rows = list_orders(site.context(), app_id=app_id, status=status, limit=limit)
    if as_json:
        echo_json(rows)
        return
    for o in rows:
        click.echo(
            f"{o.order_no:<20} {o.app_id:<12} {o.out_trade_no:<20} {o.channel:<10} {o.status:<18} {format_fen(o.amount_fen)}"
        )


@orders_group.command("show")
@click.argument("order_no")
@click.pass_obj
def orders_show(site: Site, order_no: str) -> None:
    """An order with its transition history."""
    from core.payments.services import get_order, order_history

    ctx = site.context()
    echo_json({"order": get_order(ctx, order_no=order_no), "history": order_history(ctx, order_no)})


@group.group("notify")
def notify_group() -> None:
    """Notifications to the apps."""


@notify_group.command("list")
@click.option("--status", default=None)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def notify_list(site: Site, status, as_json) -> None:
    from core.payments.notify import list_notifications

    rows = list_notifications(site.context(), status=status)
    if as_json:
        echo_json(rows)
        return
    for n in rows:
        click.echo(f"{n['event_key']:<40} {n['status']:<9} {n['attempts']:>3} {n['last_error']}")


@notify_group.command("resend")
@click.argument("event_key")
@click.pass_obj
def notify_resend(site: Site, event_key: str) -> None:
    """Send a notification again (e.g. pay:T01P20261125000001:SUCCESS)."""
    from core.payments.notify import resend

    resend(site.context(), event_key)
    click.echo(_("Queued again: {key}").format(key=event_key))


# ---------------------------------------------------------------- jobs


@group.group("jobs")
def jobs_group() -> None:
    """Payment jobs: expiry, channel queries, notification retries."""


@jobs_group.command("run-once")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def jobs_run_once(site: Site, as_json: bool) -> None:
    """Run each payment job once."""
    from core.payments.jobs import run_once

    report = run_once(site.context())
    if as_json:
        echo_json(report)
    else:
        for key, value in report.__dict__.items():
            click.echo(f"{key}: {value}")


# ---------------------------------------------------------------- bank debit files


@group.group("debit")
def debit_group() -> None:
    """Bank batch debit (代扣) files."""


@debit_group.command("export")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def debit_export(site: Site, path: Path) -> None:
    """Write the request file of the orders waiting for a debit."""
    from core.payments.services import export_debit_batch

    batch_no, data = export_debit_batch(site.context())
    if batch_no is None:
        click.echo(_("No orders are waiting for a debit."))
        return
    path.write_bytes(data)
    click.echo(_("Batch {batch} written to {path}.").format(batch=batch_no, path=path))


@debit_group.command("import")
@click.argument("path", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.pass_obj
def debit_import(site: Site, path: Path) -> None:
    """Apply the bank's result file."""
    from core.payments.services import import_debit_results

    echo_json(import_debit_results(site.context(), path.read_bytes()))


# ---------------------------------------------------------------- shifts


@group.group("shift")
def shift_group() -> None:
    """Cashier shifts (班次) and the daily close (日结)."""


@shift_group.command("open")
@click.option("--float", "float_yuan", default="0", help="Opening float in yuan.")
@click.pass_obj
def shift_open(site: Site, float_yuan: str) -> None:
    from core.payments.shifts import open_shift

    v = open_shift(site.context(), parse_yuan(float_yuan))
    click.echo(_("Shift {shift} opened.").format(shift=v.shift_no))


@shift_group.command("close")
@click.option(
    "--count", "counts", multiple=True, help="Denomination in fen = pieces, e.g. 10000=3 (repeatable)."
)
@click.option("--reason", default=None)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def shift_close(site: Site, counts: tuple[str, ...], reason: str | None, as_json: bool) -> None:
    from core.payments.shifts import close_shift

    counted: dict[str, int] = {}
    for item in counts:
        denom, _sep, pieces = item.partition("=")
        if not pieces.strip().isdigit():
            raise click.BadParameter(_("Use DENOMINATION_FEN=PIECES, e.g. 10000=3."))
        counted[denom.strip()] = int(pieces)
    v = close_shift(site.context(), counted, reason=reason)
    if as_json:
        echo_json(v)
    else:
        click.echo(f"{v.shift_no} {v.status} {format_fen(v.difference_fen or 0)}")


@shift_group.command("daily-close")
@click.argument("day")
@click.pass_obj
def shift_daily_close(site: Site, day: str) -> None:
    from core.payments.shifts import daily_close

    try:
        when = date.fromisoformat(day)
    except ValueError:
        raise click.BadParameter(_("Use the form YYYY-MM-DD.")) from None
    echo_json(daily_close(site.context(), when))


# ---------------------------------------------------------------- hub and simulator processes


@click.command("serve")
@click.option("--db", "db_url", default=None, help="Database URL (default: the site directory's database).")
@click.option("--port", type=int, default=8700, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--no-jobs", is_flag=True, help="Do not run the payment jobs in this process.")
@click.pass_obj
def hub_serve(site: Site, db_url: str | None, port: int, host: str, no_jobs: bool) -> None:
    """Serve the payment hub's HTTP API (OpenAPI at /openapi.json, docs at /docs)."""
    from core.db.engine import Database
    from core.db.migrate import check_version
    from hub.api import serve

    os.environ.setdefault("ANJU_HUB_URL", f"http://{host}:{port}")
    if db_url:
        db = Database(db_url)
        check_version(db.engine)
    else:
        db = site.database()
    serve(db, site.home if site.home.exists() else None, port, host, run_jobs=not no_jobs)


@click.group("channel-sim")
def channel_sim() -> None:
    """The channel simulator (WeChat Pay, Alipay, UnionPay) for tests and demos."""


@channel_sim.command("serve")
@click.option("--port", type=int, default=8765, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option(
    "--merchant", default=None, help="id:key[,id:key…] (default: ANJU_SIM_MERCHANTS or the dev merchant)."
)
def channel_sim_serve(port: int, host: str, merchant: str | None) -> None:
    """Run the simulator on loopback (payer action: POST /sim/pay/{order_no})."""
    from hub.sim.app import parse_merchants, serve

    serve(port, host, parse_merchants(merchant or os.environ.get("ANJU_SIM_MERCHANTS")))


def _register_top_level() -> None:
    """Add `hub serve` to the `hub` group (another module may own it) and `channel-sim` to `anju`."""
    cli = sys.modules.get("console.cli")
    main = getattr(cli, "main", None)
    if main is None:
        return
    hub = main.commands.get("hub")
    if not isinstance(hub, click.Group):
        hub = click.Group("hub", help="The central hub.")
        main.add_command(hub)
    hub.add_command(hub_serve)
    main.add_command(channel_sim)


_register_top_level()
