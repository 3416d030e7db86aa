"""Command groups of business areas, each a click group in its own module, added to `anju` by console.cli.

To add one: write `console/commands/<area>.py` defining `group` (a click.Group), then list the module here.
"""

COMMAND_MODULES: tuple[str, ...] = (
    "recon",
    "settlement",
    "property",
    "sync",
    "hub_sites",
    "payments",
    "report",
    "desktop",
)
