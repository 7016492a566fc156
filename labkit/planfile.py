"""Plans as files: a plan round-trips through JSON (``plan_to_dict`` / ``plan_from_dict``, ``save_plan`` /
``load_plan``), so that a terminal (``labkit start plan.json``) or a review can take it.

The format, version 1::

    {
      "labkit_plan": 1,                       # the format's version: a reader refuses one it does not know
      "name": "rename users.name to full_name",
      "apps": [{"name": "v1", "reads": ["id", "name"], "writes": ["name"]}, ...],   # optional
      "steps": [
        {"op": "add_column", "table": "users", "column": "full_name"},
        {"op": "backfill", "table": "users", "target": "full_name", "source": "name", "batch_size": 1000},
        ...
      ]
    }

Each step is ``op`` (the operation's ``kind``) and the fields of its class that differ from their defaults.
Values are JSON's own, with three spellings for the rest: an SQL expression ``{"sql": "now()"}``, a decimal
``{"decimal": "1.50"}``, an SQL expression per engine ``{"postgresql": "...", "sqlite": "..."}`` (the ``sql`` field of
backfills and dual writes). Python functions cannot travel in a file: a step whose ``compute`` function has an SQL
twin (``sql``) is written with the SQL alone (it then runs on databases, not on the in-memory table); one without
is refused. A file that is not a valid plan is refused with the field that is wrong (``PlanFileError``).
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from decimal import Decimal
from pathlib import Path
from typing import Any, Union

from ._common import SQL
from .apps import AppVersion
from .errors import LabkitError, PlanFileError
from .plan import MAX_PLAN_NAME, MigrationPlan
from .steps import Step

FORMAT = "labkit_plan"
VERSION = 1
MAX_BYTES = 10_000_000  # a plan file larger than this is not a plan
MAX_STEPS = 10_000


def operations() -> dict[str, type[Step]]:
    """Every step class by its ``op`` name (its ``kind``), from the subclasses of ``Step`` that labkit defines."""
    found: dict[str, type[Step]] = {}
    todo = list(Step.__subclasses__())
    while todo:
        cls = todo.pop()
        todo += cls.__subclasses__()
        ours = cls.__module__.startswith("labkit.")  # (a subclass a test or a user defines is not an op of plan files)
        if ours and dataclasses.is_dataclass(cls) and cls.kind != "step" and not cls.__name__.startswith("_"):
            found.setdefault(cls.kind, cls)
    return dict(sorted(found.items()))


# ---------------------------------------------------------------- writing


def _encode(value: Any, where: str) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, SQL):
        return {"sql": value.text}
    if isinstance(value, Decimal):
        return {"decimal": str(value)}
    if isinstance(value, (tuple, list)):
        return [_encode(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if callable(value):
        raise PlanFileError(where, "holds a Python function, which a file cannot carry: give its SQL twin (sql=...)")
    raise PlanFileError(where, f"holds a {type(value).__name__}, which a plan file cannot carry")


def _step_to_dict(step: Step, where: str) -> dict[str, Any]:
    out: dict[str, Any] = {"op": step.kind}
    values = {f.name: getattr(step, f.name) for f in dataclasses.fields(step) if not f.name.startswith("_")}
    for f in dataclasses.fields(step):
        value = values.get(f.name)
        if f.name.startswith("_") or value == f.default:
            continue
        if callable(value) and f.name == "compute" and values.get("sql") is not None:
            continue  # the SQL twin travels; the function stays behind (a file plan runs on databases)
        if f.name == "sql" and isinstance(value, tuple):
            out[f.name] = {dialect: expr for dialect, expr in value}
            continue
        out[f.name] = _encode(value, f"{where}.{f.name}")
    return out


def plan_to_dict(plan: MigrationPlan) -> dict[str, Any]:
    """The plan as JSON-ready data (format version 1); ``PlanFileError`` for what a file cannot carry."""
    data: dict[str, Any] = {FORMAT: VERSION, "name": plan.name}
    if plan.apps:
        never = [{"never_null": list(a.never_null)} if a.never_null else {} for a in plan.apps]
        data["apps"] = [{"name": a.name, "reads": list(a.reads), "writes": list(a.writes), **n}
                        for a, n in zip(plan.apps, never)]  # fmt: skip
    data["steps"] = [_step_to_dict(s, f"steps[{i}] ({s.name})") for i, s in enumerate(plan.steps)]
    return data


def save_plan(plan: MigrationPlan, path: str | Path) -> Path:
    """Write ``plan`` to ``path`` as JSON (indented, keys in a stable order); returns the path."""
    target = Path(path)
    target.write_text(json.dumps(plan_to_dict(plan), indent=2) + "\n")
    return target


# ---------------------------------------------------------------- reading


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_decode(v) for v in value)
    if isinstance(value, dict) and set(value) == {"sql"}:
        return SQL(value["sql"])
    if isinstance(value, dict) and set(value) == {"decimal"}:
        return Decimal(value["decimal"])
    return value


def _accepts(hint: Any, value: Any) -> bool:
    """Does ``value`` (decoded) fit the field's type? Loose where the type is loose (``Any``, callables)."""
    if hint is Any or hint is typing.Any:
        return True
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        return any(_accepts(h, value) for h in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if origin is tuple or hint is tuple:
        return isinstance(value, tuple)
    if origin is not None and origin.__module__ == "collections.abc":  # Callable[...]: never from a file
        return False
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(hint, type):
        return isinstance(value, hint)
    return True


def _step_from_dict(data: Any, where: str, ops: dict[str, type[Step]]) -> Step:
    if not isinstance(data, dict):
        raise PlanFileError(where, f"a step is an object with an 'op', got {type(data).__name__}")
    op = data.get("op")
    if op not in ops:
        raise PlanFileError(f"{where}.op", f"unknown operation {op!r}; known: {', '.join(ops)}")
    cls = ops[op]
    fields = {f.name: f for f in dataclasses.fields(cls) if not f.name.startswith("_")}
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for key, raw in data.items():
        if key == "op":
            continue
        if key not in fields:
            raise PlanFileError(f"{where}.{key}", f"not a field of {op} (its fields: {', '.join(fields)})")
        value = _decode(raw)
        if key == "sql" and isinstance(raw, dict):
            value = raw  # {engine: expression}: the step normalizes it
        elif not _accepts(hints.get(key, Any), value):
            raise PlanFileError(f"{where}.{key}", f"{raw!r} is not a valid {op}.{key} ({hints.get(key)})")
        kwargs[key] = value
    missing = [n for n, f in fields.items() if n not in kwargs and f.default is dataclasses.MISSING
               and f.default_factory is dataclasses.MISSING]  # fmt: skip
    if missing:
        raise PlanFileError(where, f"{op} needs {', '.join(repr(m) for m in missing)}")
    try:
        return cls(**kwargs)
    except LabkitError as exc:
        raise PlanFileError(where, str(exc)) from exc
    except (TypeError, ValueError) as exc:
        raise PlanFileError(where, f"{op}: {exc}") from exc


def plan_from_dict(data: Any) -> MigrationPlan:
    """A plan from JSON data written by ``plan_to_dict`` (or by hand); ``PlanFileError`` names what is wrong."""
    if not isinstance(data, dict):
        raise PlanFileError("", f"a plan file holds one JSON object, got {type(data).__name__}")
    version = data.get(FORMAT)
    if version is None:
        raise PlanFileError(FORMAT, f'missing: a plan file starts with "{FORMAT}": {VERSION}')
    if version != VERSION or type(version) is not int:  # (true == 1 and 1.0 == 1 in Python: not the version)
        raise PlanFileError(FORMAT, f"version {version!r} is not one this labkit reads ({VERSION})")
    unknown = sorted(set(data) - {FORMAT, "name", "apps", "steps", "$schema"})  # $schema: for an editor, ignored
    if unknown:
        raise PlanFileError(unknown[0], "not a field of a plan (its fields: labkit_plan, name, apps, steps, $schema)")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise PlanFileError("name", f"a plan needs a non-empty name, got {name!r}")
    if not name.isprintable():  # a terminal escape in a name would be printed raw by every command
        raise PlanFileError("name", f"a plan's name is printable text, got {name[:80]!r}")
    if len(name) > MAX_PLAN_NAME:  # it keys the plan's row in labkit_migrations (an index entry has a limit)
        raise PlanFileError("name", f"a plan's name is at most {MAX_PLAN_NAME} characters, got {len(name):,}")
    steps_data = data.get("steps")
    if not isinstance(steps_data, list) or not steps_data:
        raise PlanFileError("steps", "a plan needs a list of at least one step")
    if len(steps_data) > MAX_STEPS:
        raise PlanFileError("steps", f"{len(steps_data):,} steps: a plan has at most {MAX_STEPS:,}")
    apps = []
    for i, a in enumerate(data.get("apps") or []):
        where = f"apps[{i}]"
        if not isinstance(a, dict) or not {"name", "reads", "writes"} <= set(a) <= {"name", "reads", "writes",
                                                                                  "never_null"}:  # fmt: skip
            raise PlanFileError(where, 'an app version is {"name": ..., "reads": [...], "writes": [...]} and '
                                       'optionally "never_null": [...]')  # fmt: skip
        try:
            apps.append(AppVersion(a["name"], a["reads"], a["writes"], a.get("never_null", ())))
        except (LabkitError, TypeError, ValueError) as exc:
            raise PlanFileError(where, str(exc)) from exc
    ops = operations()
    steps = [_step_from_dict(s, f"steps[{i}]", ops) for i, s in enumerate(steps_data)]
    try:
        return MigrationPlan(name, steps, apps=apps)
    except LabkitError as exc:
        raise PlanFileError("", str(exc)) from exc


def load_plan(path: str | Path) -> MigrationPlan:
    """Read a plan file; ``PlanFileError`` (with the file and the field) when it is not a valid plan."""
    source = Path(path)
    try:
        if source.is_dir():
            raise PlanFileError(str(source), "a directory, not a plan file")
        if source.exists() and source.stat().st_size > MAX_BYTES:
            raise PlanFileError(str(source), f"{source.stat().st_size:,} bytes: a plan file is at most {MAX_BYTES:,}")
        data = json.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PlanFileError(str(source), "no such file") from None
    except UnicodeDecodeError as exc:
        raise PlanFileError(str(source), f"not UTF-8 text (byte {exc.start})") from None
    except RecursionError:
        raise PlanFileError(str(source), "nested too deep to be a plan") from None
    except json.JSONDecodeError as exc:
        raise PlanFileError(f"{source}:{exc.lineno}:{exc.colno}", f"not JSON: {exc.msg}") from exc
    try:
        return plan_from_dict(data)
    except PlanFileError as exc:
        raise PlanFileError(f"{source}: {exc.where}" if exc.where else str(source), exc.reason) from exc
