"""A smaller run of the fuzzer `l1emu fuzz` runs at 100 000 messages."""

from __future__ import annotations

import json
import logging

import pytest

from streams.fuzz import fuzz_decoder, fuzz_node, malformed_messages
from tests.helpers import run_cli


def test_decoder_rejects_or_decodes_every_message_and_never_crashes() -> None:
    tally = fuzz_decoder(3000, seed=11)
    assert sum(tally.values()) == 3000
    rejected = {k for k in tally if not k.startswith("valid:")}
    assert {"header", "truncated", "frames", "version"} <= rejected


def test_live_worker_accounts_for_every_message(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)
    result = fuzz_node(2000, seed=12)
    assert result["accounted"] == result["sent"] == 2020
    assert sum(result["bad_messages"].values()) > 1000


def test_messages_replay_from_the_seed() -> None:
    a = [b"|".join(m) for m in malformed_messages(50, seed=3)]
    b = [b"|".join(m) for m in malformed_messages(50, seed=3)]
    assert a == b


def test_cli_reports_json() -> None:
    proc = run_cli("fuzz", "--frames", "300", "--target", "decoder")
    assert json.loads(proc.stdout)["decoder"]["messages"] == 300
