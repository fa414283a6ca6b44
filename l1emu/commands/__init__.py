"""Subcommands of ``l1emu`` (one module each; registered in :data:`l1emu.cli.COMMANDS`)."""
