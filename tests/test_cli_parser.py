"""The top-level parser: one subcommand's process builds (and imports) that subcommand only."""

from __future__ import annotations

import subprocess
import sys

import pytest

from l1emu.cli import COMMANDS, _command_named, build_parser


@pytest.mark.parametrize(("argv", "named"), [
    (["node", "--launch-plan", "p.json"], "node"),
    (["-v", "replay"], "replay"),
    (["-vv", "--verbose", "scrape-config"], "scrape-config"),
    (["--help"], None),
    ([], None),
    (["nonsense"], None),
    (["-x", "replay"], None),
])  # fmt: skip
def test_the_command_is_the_first_positional_word(argv: list[str], named: str | None) -> None:
    assert _command_named(argv) == named


def test_one_command_builds_only_its_parser_and_all_build_every_one() -> None:
    def choices(only: str | None) -> set[str]:
        (sub,) = (a for a in build_parser(only)._actions if a.dest == "command")
        return set(sub.choices or {})

    assert choices("collect") == {"collect"}
    assert choices(None) == set(COMMANDS)


def test_a_node_process_does_not_import_the_other_commands() -> None:
    code = ("import sys; from l1emu.cli import main\n"
            "try:\n    main(['collect', '--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.startswith('l1emu.commands.')))\n"
            "print('scipy.stats' in sys.modules)")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    mods, scipy_stats = out.strip().splitlines()[-2:]
    assert mods == "['l1emu.commands._common', 'l1emu.commands.collect']"
    assert scipy_stats == "False"  # the studies' scipy (1-2 s of import) is not paid by a node
