"""The plan file's reference, generated from the operation classes: ``docs/plan-file.md`` (every operation, what it
does, each field with its JSON type, default and meaning) and ``docs/plan-file.schema.json`` (JSON Schema, for
editors: VS Code validates and completes a plan file that names it in ``"$schema"``).

    python -m labkit.planref            # writes both files under docs/ (tests/test_planref.py fails if they differ)

Each field's meaning is the comment beside it in its class (``table: str  # ...``), else the one the fields of that
name share (``COMMON``); a field with neither is a test failure, so a new operation cannot ship undocumented.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import json
import sys
import textwrap
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any, Union

from .plan import MAX_PLAN_NAME
from .planfile import FORMAT, VERSION, operations
from .steps import Step

DOCS = Path(__file__).resolve().parent.parent / "docs"
SCHEMA_ID = "https://labkit.invalid/plan-file.schema.json"  # an identifier, not a place to fetch (no network needed)

COMMON = {
    "table": "the table the step changes (schema.table on PostgreSQL)",
    "label": "the step's name in the history, the progress bar and fail_at (default: made from its kind and column)",
    "deploy": "the app version (a name in apps) that rolls out with this step: after it in expand and migrate, "
    "before it in the contract phase",
    "column": "the column the step acts on",
    "old": "the column's name now",
    "new": "the name the column is given",
    "source": "the column the value comes from",
    "target": "the column that is filled",
    "version": "the app version (a name in apps) whose view this is",
    "index": "the index's name",
    "constraint": "the constraint's name",
    "previous": "what the step replaces (labkit's builders read it from the catalog), which a rollback puts back",
}
_SKIP = ("compute",)  # Python functions: a file cannot carry them (the SQL twin ``sql`` travels instead)


def documented() -> dict[str, type[Step]]:
    """labkit's own operations (a program's subclass of ``Step`` reads from a file too, but is not labkit's to
    document: a test that defines one must not change the reference)."""
    return {op: cls for op, cls in operations().items() if cls.__module__.startswith("labkit.")}


def _field_comments(cls: type) -> dict[str, str]:
    """The comment beside (or just above) each field in the source of ``cls`` and of the classes it extends."""
    out: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if not dataclasses.is_dataclass(klass):
            continue
        lines = textwrap.dedent(inspect.getsource(klass)).splitlines()
        node = ast.parse("\n".join(lines)).body[0]
        assert isinstance(node, ast.ClassDef)
        for item in node.body:
            if not (isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)):
                continue
            above: list[str] = []
            j = item.lineno - 2
            while j >= 0 and lines[j].strip().startswith("#"):
                above.insert(0, lines[j].strip().lstrip("#").strip())
                j -= 1
            beside = lines[(item.end_lineno or item.lineno) - 1].partition("  # ")[2].strip()
            text = " ".join([*above, beside]).strip()
            if text and not (item.target.id == "table" and klass is Step):  # Step's note is for its subclasses
                out[item.target.id] = text
    return out


def _schema_of(hint: Any) -> dict[str, Any]:
    """A field's type as JSON Schema (the spellings ``labkit.planfile`` reads)."""
    if hint is Any:  # a constant, or an SQL expression / a decimal in their objects
        return {"anyOf": [{"type": ["string", "number", "boolean", "null"]}, {"$ref": "#/$defs/sql"},
                          {"$ref": "#/$defs/decimal"}]}  # fmt: skip
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        options = [_schema_of(h) for h in typing.get_args(hint)]
        plain = [o["type"] for o in options if set(o) == {"type"} and isinstance(o["type"], str)]
        if len(plain) == len(options):
            return {"type": plain}
        return {"anyOf": options}
    if hint is type(None):
        return {"type": "null"}
    if origin is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return {"type": "array", "items": _schema_of(args[0])}
        return {"type": "array", "prefixItems": [_schema_of(a) for a in args], "minItems": len(args),
                "maxItems": len(args)}  # fmt: skip
    simple = {str: "string", bool: "boolean", int: "integer", float: "number"}
    if hint in simple:
        return {"type": simple[hint]}
    raise TypeError(f"no JSON spelling for {hint!r}: teach labkit.planref and labkit.planfile")


def _sql_field() -> dict[str, Any]:
    return {"anyOf": [{"type": ["string", "null"]}, {"type": "object", "minProperties": 1, "additionalProperties":
            False, "properties": {"postgresql": {"type": "string"}, "sqlite": {"type": "string"}}}]}  # fmt: skip


@dataclasses.dataclass(frozen=True)
class FieldDoc:
    name: str
    schema: dict[str, Any]
    required: bool
    default: Any
    meaning: str


def field_docs(cls: type[Step]) -> list[FieldDoc]:
    """Every field a plan file may give for ``cls``, in declaration order (``label`` and ``deploy`` last)."""
    comments = _field_comments(cls)
    hints = typing.get_type_hints(cls)
    out = []
    fields = sorted(dataclasses.fields(cls), key=lambda f: f.name in ("label", "deploy"))
    for f in fields:
        if f.name.startswith("_") or f.name in _SKIP:
            continue
        schema = _sql_field() if f.name == "sql" else _schema_of(hints[f.name])
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        meaning = comments.get(f.name) or COMMON.get(f.name, "")
        out.append(FieldDoc(f.name, schema, required, None if required else f.default, meaning))
    return out


def _summary(cls: type) -> str:
    return " ".join((inspect.getdoc(cls) or "").split("\n\n")[0].split())


def json_schema() -> dict[str, Any]:
    """The plan file's JSON Schema (draft 2020-12): one object per operation, its fields typed, required ones
    required, unknown ones refused (as ``load_plan`` refuses them)."""
    steps = []
    for op, cls in documented().items():
        props: dict[str, Any] = {"op": {"const": op}}
        for fd in field_docs(cls):
            props[fd.name] = {**fd.schema, "description": fd.meaning}
            if not fd.required and fd.default is not None and not callable(fd.default):
                props[fd.name]["default"] = list(fd.default) if isinstance(fd.default, tuple) else fd.default
        steps.append({"title": op, "description": _summary(cls), "type": "object", "properties": props,
                      "required": ["op", *(fd.name for fd in field_docs(cls) if fd.required)],
                      "additionalProperties": False})  # fmt: skip
    names = {"type": "array", "items": {"type": "string"}}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "labkit plan file",
        "description": "A zero-downtime migration plan for labkit (labkit start PLAN.json --db URL).",
        "type": "object",
        "required": [FORMAT, "name", "steps"],
        "additionalProperties": False,
        "properties": {
            "$schema": {"type": "string", "description": "this schema, for an editor (labkit ignores it)"},
            FORMAT: {"const": VERSION, "description": "the format's version"},
            "name": {"type": "string", "pattern": "\\S", "maxLength": MAX_PLAN_NAME,
                     "description": "the plan's name, shown by every command"},
            "apps": {"type": "array", "description": "the app versions the plan deploys, oldest first",
                     "items": {"type": "object", "required": ["name", "reads", "writes"], "additionalProperties":
                               False, "properties": {"name": {"type": "string"}, "reads": names, "writes": names,
                                                     "never_null": {**names, "description": "columns it never writes "
                                                                    "NULL into (optional)"}}}},
            "steps": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/step"}},
        },
        "$defs": {
            "sql": {"type": "object", "required": ["sql"], "additionalProperties": False,
                    "properties": {"sql": {"type": "string"}}, "description": "an SQL expression, e.g. now()"},
            "decimal": {"type": "object", "required": ["decimal"], "additionalProperties": False,
                        "properties": {"decimal": {"type": "string"}}, "description": "an exact decimal, \"1.50\""},
            "step": {"oneOf": steps},
        },
    }  # fmt: skip


def _json(value: Any) -> str:
    return json.dumps(list(value) if isinstance(value, tuple) else value)


def _type_text(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return str(schema["$ref"]).rpartition("/")[2]
    if "anyOf" in schema:
        return " or ".join(_type_text(s) for s in schema["anyOf"])
    kind = schema.get("type")
    if kind == "array":
        if "prefixItems" in schema:
            return "[" + ", ".join(_type_text(s) for s in schema["prefixItems"]) + "]"
        return f"list of {_type_text(schema['items'])}"
    if kind == "object":
        return "{" + ", ".join(f'"{k}": ...' for k in schema.get("properties", {})) + "}"
    return " or ".join(kind) if isinstance(kind, list) else str(kind)


INTRO = """\
A plan file is the JSON a terminal or a CI job gives labkit (`labkit start PLAN.json --db URL`, `labkit sql`,
`labkit lint`, `labkit export alembic`). `lk.save_plan(plan, path)` writes one from Python;
`docs/plan-file.schema.json` lets an editor check one as you type (`"$schema": "../docs/plan-file.schema.json"`).

```json
{
  "labkit_plan": 1,
  "name": "rename users.name to full_name",
  "apps": [{"name": "v1", "reads": ["name", "email"], "writes": ["name", "email"]},
           {"name": "v2", "reads": ["full_name", "email"], "writes": ["full_name", "email"]}],
  "steps": [
    {"op": "add_column", "table": "users", "column": "full_name"},
    {"op": "start_dual_write", "table": "users", "source": "name", "target": "full_name", "both_ways": true},
    {"op": "backfill", "table": "users", "target": "full_name", "source": "name", "chunk_ms": 200},
    {"op": "switch_reads", "table": "users", "old": "name", "new": "full_name", "deploy": "v2"},
    {"op": "stop_dual_write", "table": "users", "source": "name", "target": "full_name", "both_ways": true},
    {"op": "drop_column", "table": "users", "column": "name"}
  ]
}
```

- `$schema` (optional): the path or URL of `plan-file.schema.json`, for an editor; labkit ignores it.
- `labkit_plan`: the format's version, 1. A reader refuses a version it does not know.
- `name`: the plan's name (printable, at most 200 characters); it keys the run's state in the database.
- `apps` (optional): the app versions, oldest first, each with the columns it reads and writes (and, optionally,
  `never_null`: the columns it never writes NULL into). On a database each version gets a view of its own, and the
  safety rules check every step against every live version.
- `steps`: the steps in order, each an `op` and its fields. A field left out takes its default.

Values are JSON's own, with three spellings for the rest: an SQL expression `{"sql": "now()"}` (where a constant
would go), an exact decimal `{"decimal": "1.50"}`, and an SQL expression per engine
`{"postgresql": "...", "sqlite": "..."}` (the `sql` field of backfills and dual writes). Python functions (`compute`)
cannot travel in a file: give the SQL. A file that is not a valid plan is refused with the field that is wrong.
The builders write plans to start from:
`lk.save_plan(lk.build_rename_column_migration(table, "name", "full_name"), "plan.json")`.

"""


def markdown() -> str:
    """The reference as Markdown: the file's shape, then each operation with its fields."""
    ops = documented()
    out = [
        "# The plan file",
        "",
        "<!-- generated by `python -m labkit.planref` from the operation classes: edit those, not this file -->",
        "",
        *INTRO.splitlines(),
        "## Operations",
        "",
        " · ".join(f"[`{op}`](#{op})" for op in ops),
        "",
    ]
    for op, cls in ops.items():
        engines = ", ".join(e for e in ("memory", "sqlite", "postgresql") if e in cls.engines)
        out += [f"### {op}", "", f"`{cls.__name__}` · phase **{cls.phase}** · runs on {engines}", "",
                " ".join((inspect.getdoc(cls) or "").split()), "",
                "| field | type | default | meaning |", "|---|---|---|---|"]  # fmt: skip
        for fd in field_docs(cls):
            default = "**required**" if fd.required else f"`{_json(fd.default)}`"
            out.append(f"| `{fd.name}` | {_type_text(fd.schema)} | {default} | {fd.meaning.replace('|', '/')} |")
        out.append("")
    return "\n".join(out)


def write(folder: Path = DOCS) -> list[Path]:
    """Write ``plan-file.md`` and ``plan-file.schema.json`` into ``folder``; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    md, schema = folder / "plan-file.md", folder / "plan-file.schema.json"
    md.write_text(markdown(), encoding="utf-8")
    schema.write_text(json.dumps(json_schema(), indent=2) + "\n", encoding="utf-8")
    return [md, schema]


def main(argv: list[str] | None = None, out: Callable[[str], Any] = print) -> int:
    folder = Path((argv or sys.argv[1:] or [str(DOCS)])[0])
    for path in write(folder):
        out(str(path))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
