"""``python -m l1emu`` runs the CLI."""

from l1emu.cli import main

raise SystemExit(main())
