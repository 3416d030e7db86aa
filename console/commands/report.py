"""`anju report`: print any registered report to PDF or Excel, and list the reports there are.

anju report list [--json]
anju report NAME --period 2026-11 [--book B] [--community C] [--account A] [--building N] [--house CODE]
                 --format pdf|xlsx -o FILE
(--building and --house narrow the batch notices to one building or one house.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from console.cli import Site, echo_json
from core.i18n import _


def _report_command(name: str, title: str) -> click.Command:
    @click.pass_obj
    def run(
        site: Site,
        period: str | None,
        book: str | None,
        community: str | None,
        account: str | None,
        building: str | None,
        house: str | None,
        fmt: str | None,
        output: Path,
        as_json: bool,
    ) -> None:
        from reports import registry
        from reports.period import parse_period

        ctx = site.context()
        chosen = fmt or output.suffix.lstrip(".").lower()
        if chosen not in registry.FORMATS:
            raise click.BadParameter(_("Give --format pdf or xlsx."), param_hint="--format")
        params = registry.default_params(
            ctx,
            period=parse_period(period) if period else None,
            book=book,
            community=community,
            account=account,
            options={k: v for k, v in (("building", building), ("house", house)) if v},
        )
        content = registry.render(ctx, name, params, chosen)
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_bytes(content)
        if as_json:
            echo_json({"name": name, "format": chosen, "path": str(output), "bytes": len(content)})
        else:
            click.echo(
                _("{title} written to {path} ({size} bytes).").format(
                    title=title, path=output, size=len(content)
                )
            )

    params: list[click.Parameter] = [
        click.Option(["--period"], help="2026-11, 2026-Q4, 2026, 2026-11-03 or 2026-11-01..2026-11-30 (default: this month)."),
        click.Option(["--book"], help="Ledger book code, e.g. PROPERTY."),
        click.Option(["--community"], help="Community code."),
        click.Option(["--account"], help="Account code (account statement)."),
        click.Option(["--building"], help="Building number (notices: one building)."),
        click.Option(["--house"], help="House code such as 3-2-1201 (notices: one house)."),
        click.Option(["--format", "fmt"], type=click.Choice(["pdf", "xlsx"]), help="Default: from the file name."),
        click.Option(["-o", "--output"], type=click.Path(dir_okay=False, path_type=Path), required=True),
        click.Option(["--json", "as_json"], is_flag=True),
    ]  # fmt: skip
    return click.Command(name, callback=run, params=params, help=title)


class ReportGroup(click.Group):
    """`list`, plus one command per registered report (looked up when named, so the list is always current)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        from reports import registry

        return ["list", *(d.name for d in registry.all_reports())]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            return command
        from reports import registry

        for d in registry.all_reports():
            if d.name == cmd_name:
                return _report_command(d.name, registry.listing_title(d))
        return None


@click.group("report", cls=ReportGroup)
def group() -> None:
    """Reports (报表) as PDF or Excel."""


@group.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def list_(site: Site, as_json: bool) -> Any:
    """The reports you may produce: name and title."""
    from reports import registry

    rows = registry.listing(actor=site.context().actor if site.home.exists() else None)
    if as_json:
        echo_json(rows)
        return
    for row in rows:
        click.echo(f"{row['name']:<24} {row['title']}")
