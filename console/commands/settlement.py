"""`anju settlement`: settle a day per app (ledger entries and the bank transfer file), payee accounts."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click

from core.i18n import _
from core.money import format_fen

if TYPE_CHECKING:  # console.cli imports this module: importing it back at run time would be circular
    from console.cli import Site


def _echo_json(value: object) -> None:
    from console.cli import echo_json

    echo_json(value)


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(_("Use the form YYYY-MM-DD.")) from None


@click.group("settlement")
def group() -> None:
    """Settlement (结算) of what the hub collected for each app."""


@group.command("run")
@click.option("--date", "day", required=True, help="Business date to settle, YYYY-MM-DD.")
@click.option("--app", "app_id", default=None, help="Only this app.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Bank transfer file (default: settlement/transfer_<date>.csv in the site directory).",
)
@click.option(
    "--override-reason",
    default=None,
    help="Settle although the day's reconciliation is not clean, for this reason (audited).",
)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def run(
    site: Site, day: str, app_id: str | None, out: Path | None, override_reason: str | None, as_json: bool
) -> None:
    """Settle a day: one batch per app, its ledger entry, and the bank transfer file."""
    from core.payments.settlement.services import run_settlement, transfer_file

    ctx = site.context()
    when = _day(day)
    batches = run_settlement(ctx, when, app_id, override_reason)
    target = out or site.home.root / "settlement" / f"transfer_{when.isoformat()}.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(transfer_file(ctx, when, app_id), encoding="utf-8", newline="")
    if as_json:
        _echo_json({"batches": batches, "transfer_file": str(target)})
        return
    for b in batches:
        click.echo(
            f"{b.batch_no}  {b.app_id:<16} gross={format_fen(b.gross_fen)} refunds={format_fen(b.refunds_fen)} "
            f"fees={format_fen(b.fees_fen)} net={format_fen(b.net_fen)}"
        )
    click.echo(_("Bank transfer file: {path}").format(path=target))


@group.command("list")
@click.option("--date", "day", default=None)
@click.option("--app", "app_id", default=None)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def list_(site: Site, day: str | None, app_id: str | None, as_json: bool) -> None:
    """List settlement batches."""
    from core.payments.settlement.services import list_settlements

    rows = list_settlements(site.context(), _day(day) if day else None, app_id)
    if as_json:
        _echo_json(rows)
        return
    for b in rows:
        click.echo(f"{b.batch_no}  {b.business_date}  {b.app_id:<16} net={format_fen(b.net_fen)}")


@group.command("payee")
@click.argument("app_id")
@click.option("--name", "payee_name", required=True, help="Payee (account holder) name.")
@click.option("--account", required=True, help="Bank account number.")
@click.option("--bank", "bank_name", default="", help="Bank and branch.")
@click.pass_obj
def payee(site: Site, app_id: str, payee_name: str, account: str, bank_name: str) -> None:
    """Set the bank account an app's settlements are paid to."""
    from core.payments.settlement.services import set_payee

    view = set_payee(site.context(), app_id, payee_name, account, bank_name)
    click.echo(
        _("Payee of {app}: {name} {account}.").format(
            app=app_id, name=view.payee_name, account=view.account_masked
        )
    )
