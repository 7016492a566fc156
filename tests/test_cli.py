from __future__ import annotations

import subprocess
import sys

import pytest

from labkit.cli import main


def test_rename_with_a_failure_at_backfill_3_rolls_back_to_the_exact_start(capsys):
    assert main(["rename", "--fail-at", "backfill:3"]) == 1
    out = capsys.readouterr().out
    assert "fail            backfill batch 3" in out
    assert "Table equals its starting snapshot: True" in out


def test_completed_rollback_failed_and_traffic_exit_codes(capsys):
    assert main(["rename"]) == 0
    assert main(["rename", "--fail-at", "backfill:3,rollback:add_column"]) == 2
    assert main(["naive-rename", "--traffic"]) == 0
    out = capsys.readouterr().out
    assert "failed requests by app version: v1=" in out


@pytest.mark.parametrize(
    "argv",
    [["bogus"], ["rename", "--rows", "-1"], ["rename", "--batch-size", "0"], ["rename", "--fail-at", "nope"]],
    ids=["unknown-migration", "negative-rows", "zero-batch", "unknown-step"],
)
def test_bad_arguments_print_one_line_and_exit_64(argv, capsys):
    with pytest.raises(SystemExit) if argv == ["bogus"] else _nothing():
        code = main(argv)
        assert code == 64
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1 and "error" in captured.err


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_python_dash_m_labkit_runs():
    proc = subprocess.run(
        [sys.executable, "-m", "labkit", "add-column", "--rows", "8", "--batch-size", "3"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "email_domain" in proc.stdout
