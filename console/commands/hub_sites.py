"""The `anju hub` group holding the sync commands (`hub sites …`, `hub verify-site`) while no other module owns
`hub`; a module that does should call console.commands.sync.add_hub_commands(its group) instead.
"""

from __future__ import annotations

import click

from console.commands.sync import add_hub_commands


@click.group(name="hub")
def group() -> None:
    """The central hub: enrolled sites and their consistency."""


add_hub_commands(group)
