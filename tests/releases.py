"""A release of a real app as a process of its own (tests/django_project/writer.py, tests/alembic_project/writer.py):
what it wrote that the database acknowledged, and what failed. Each writer prints a JSON line per request: {"id",
"state"} for an acknowledged write, {"error"} for a failed one, until its stop file exists."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path


class Release:
    """``python writer.py STOP_FILE SHARE`` in ``project`` with ``env``: the requests it answered, as they come."""

    def __init__(self, project: Path, env: dict[str, str], share: int, tmp: Path) -> None:
        self.stop_file = tmp / f"stop-{share}-{id(self)}"
        self.acked: dict[int, str] = {}
        self.errors: list[str] = []
        self.answered = 0
        self._seen = threading.Condition()
        self.proc = subprocess.Popen([sys.executable, "writer.py", str(self.stop_file), str(share)], cwd=project,
                                     env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            said = json.loads(line)
            with self._seen:
                if "error" in said:
                    self.errors.append(said["error"])
                else:
                    self.acked[said["id"]] = said["state"]
                self.answered += 1
                self._seen.notify_all()

    def wrote(self, n: int = 20) -> Release:
        """Wait for ``n`` more answered requests (a generous deadline, not a window of time)."""
        with self._seen:
            target = self.answered + n
            self._seen.wait_for(lambda: self.answered >= target or self.proc.poll() is not None, timeout=180)
            ok = self.answered >= target
        assert ok, (self.errors[:3], self.proc.stderr.read() if self.proc.poll() is not None else "")  # type: ignore[union-attr]
        return self

    def finish(self) -> None:
        self.stop_file.touch()
        self.proc.wait(timeout=120)
        self._reader.join(timeout=30)
