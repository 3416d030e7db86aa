"""The back office in the terminal: the Textual app (`console.app`) and the `anju` command line (`console.cli`)."""
