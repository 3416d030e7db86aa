"""`anju desktop`: open the PySide6 counter app on the site database."""

from __future__ import annotations

import click


@click.command("desktop")
@click.pass_obj
def group(site) -> None:
    """Open the counter app (收银台) for counter clerks."""
    from desktop.app import run

    raise SystemExit(run(site.context()))
