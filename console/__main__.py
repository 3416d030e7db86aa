"""`python -m console` runs the `anju` command line (same as the installed `anju` entry point)."""

from console.cli import main

main(prog_name="anju")
