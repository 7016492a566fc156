from __future__ import annotations

import subprocess
import sys

import pytest

import labkit as lk
from labkit import lab
from labkit.cli import main
from tests.conftest import complete_plan


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
    code = main(argv)
    assert code == 64
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1 and "error" in captured.err


@pytest.mark.parametrize("command,value", [("complete", "soon"), ("rollback", "-5"), ("start", "1.5s")])
def test_a_lock_timeout_that_is_not_milliseconds_is_one_line_of_usage_error(command, value, capsys):
    plan = ["plan.json"] if command == "start" else []
    with pytest.raises(SystemExit) as done:  # argparse's exit, as for every other bad flag
        main([command, *plan, "--db", "sqlite:///nowhere.db", "--lock-timeout", value])
    assert done.value.code == 64
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--lock-timeout" in err and "milliseconds" in err and repr(value) in err


def test_python_dash_m_labkit_runs():
    proc = subprocess.run(
        [sys.executable, "-m", "labkit", "add-column", "--rows", "8", "--batch-size", "3"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "email_domain" in proc.stdout


def test_sql_prints_the_statements_of_a_migration_on_a_scratch_table(capsys):
    assert main(["sql", "rename", "--batch-size", "4"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("-- plan 'rename users.name to full_name' on users (sqlite)")
    assert "UPDATE `users` SET `full_name` = `name` WHERE `id` BETWEEN ? AND ?;" in out
    assert "ALTER TABLE `users` DROP COLUMN `name`;" in out


def test_sql_on_a_real_database_changes_nothing(tmp_path, capsys):
    url = f"sqlite:///{tmp_path}/app.db"
    with lk.connect(url) as db:
        users = db.import_table(lab.make_users(12, seed=3))
        before, rows = users.catalog(), users.rows()
    assert main(["sql", "add-column", "--db", url]) == 0
    assert "ALTER TABLE `users` ADD COLUMN `email_domain` TEXT;" in capsys.readouterr().out
    with lk.connect(url) as db:
        assert db.table("users").catalog() == before and db.table("users").rows() == rows
        assert "labkit_migrations" not in db.tables()


def test_sql_on_postgresql_shows_the_lock_timeout_and_the_server_placeholders(pg, pg_url, capsys):
    pg.import_table(lab.make_users(10, seed=1))
    assert main(["sql", "rename", "--db", pg_url, "--batch-size", "3"]) == 0
    out = capsys.readouterr().out
    assert "SET LOCAL lock_timeout = '500ms';" in out
    assert 'UPDATE "users" SET "full_name" = "name" WHERE "id" BETWEEN $1 AND $2;' in out


@pytest.mark.parametrize(
    ("argv", "says"),
    [(["sql", "rename", "--table", "nope"], "'nope' does not exist"), (["sql", "nope"], "is not one of the demos"),
     (["sql", "rename", "--batch-size", "0"], "batch_size")],
)  # fmt: skip
def test_sql_refuses_bad_input_in_one_line(argv, says, tmp_path, capsys):
    if "--table" in argv:
        url = f"sqlite:///{tmp_path}/app.db"
        with lk.connect(url) as db:
            db.import_table(lab.make_users(3, seed=1))
        argv = [*argv, "--db", url]
    assert main(argv) == 64
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and says in err


def test_sql_runnable_gives_psql_a_procedure_for_the_backfill_and_sqlite_a_reason(pg, pg_url, capsys):
    pg.import_table(lab.make_users(10, seed=1))
    assert main(["sql", "add-column", "--db", pg_url, "--runnable", "--batch-size", "4"]) == 0
    out = capsys.readouterr().out
    assert 'CREATE PROCEDURE "labkit_backfill_users_backfill"()' in out
    assert "LIMIT 1 OFFSET $3' INTO labkit_hi USING labkit_lo, labkit_last, labkit_rows - 1;" in out
    assert "labkit_rows bigint := 4;" in out and "labkit_rows := greatest(" not in out  # a fixed size: no resizing
    assert 'CALL "labkit_backfill_users_backfill"();' in out and "COMMIT;  -- one short transaction" in out
    assert main(["sql", "add-column", "--runnable"]) == 64
    assert "sqlite has no loops in SQL" in capsys.readouterr().err


# ---------------------------------------------------------------- the tools as a newcomer meets them (issue 23.9)


def test_help_lists_every_command_and_each_has_its_own_help(capsys):
    from labkit import lifecycle
    from labkit.cli import COMMANDS, MIGRATIONS

    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    listed = {line.split()[0] for line in out.split("commands:\n")[1].splitlines() if line.startswith("  ")}
    dispatched = {*MIGRATIONS, "sql", "lint", "export", "convert", "db", *lifecycle.COMMANDS}
    assert listed == dispatched == set(COMMANDS)
    assert "docs/plan-file.md" in out
    for command in sorted(dispatched):
        with pytest.raises(SystemExit) as done:
            main([command, "--help"])
        assert done.value.code == 0, command
        assert f"usage: labkit {command}" in capsys.readouterr().out.replace("labkit [", f"labkit {command} [")
    assert main([]) == 64 and "commands:" in capsys.readouterr().err
    assert main(["statsu"]) == 64 and "unknown command 'statsu'" in capsys.readouterr().err


def test_a_reader_that_stops_early_gets_no_traceback(tmp_path):
    """`labkit sql ... | head -1`: the pipe closes under the writer; the command ends quietly, as a Unix tool does."""
    proc = subprocess.run(f"{sys.executable} -m labkit sql rename --rows 200 | head -1", shell=True,
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert proc.stdout.startswith("-- plan 'rename users.name to full_name'") and proc.stdout.count("\n") == 1
    assert "Traceback" not in proc.stderr and "BrokenPipeError" not in proc.stderr, proc.stderr


def test_sql_prints_a_plan_file_on_its_database(tmp_path, capsys):
    url = f"sqlite:///{tmp_path}/app.db"
    with lk.connect(url) as db:
        users = db.import_table(lab.make_users(12, seed=3))
        plan = lk.build_rename_column_migration(users, "name", "full_name", batch_size=5)
        expected = str(lk.plan_sql(plan, users))
    lk.save_plan(plan, tmp_path / "plan.json")
    assert main(["sql", str(tmp_path / "plan.json"), "--db", url]) == 0
    assert capsys.readouterr().out == expected
    assert main(["sql", str(tmp_path / "plan.json")]) == 64
    assert "needs --db URL" in capsys.readouterr().err
    assert main(["sql", str(tmp_path / "nope.json"), "--db", url]) == 64
    assert "nope.json: no such file" in capsys.readouterr().err


def _squawk(path) -> subprocess.CompletedProcess:
    from labkit.safety.squawk import squawk_path

    return subprocess.run([squawk_path(), str(path)], capture_output=True, text=True, check=False)


def test_plain_squawk_passes_labkits_sql_of_a_safe_plan_and_fails_the_naive_one(pg, pg_url, tmp_path, capsys):
    """What a CI job runs: `labkit sql PLAN --db URL > plan.sql && squawk plan.sql`. squawk itself skips what the
    plan answers by design (its own ignore comment, with the reason, on the line before) and nothing else."""
    users = pg.import_table(lab.make_users(30, seed=2))
    plans = {"safe": lk.build_rename_column_migration(users, "name", "full_name"),
             "naive": lk.build_naive_rename_migration(users, "name", "full_name")}  # fmt: skip
    for name, plan in plans.items():
        lk.save_plan(plan, tmp_path / f"{name}.json")
        assert main(["sql", str(tmp_path / f"{name}.json"), "--db", pg_url]) == 0
        (tmp_path / f"{name}.sql").write_text(capsys.readouterr().out)
    safe, naive = (tmp_path / "safe.sql").read_text(), (tmp_path / "naive.sql").read_text()
    assert "-- squawk-ignore ban-drop-column -- expected: the contract phase" in safe
    assert not [line for line in naive.splitlines() if "squawk-ignore" in line and "renaming-column" in line]
    assert _squawk(tmp_path / "safe.sql").returncode == 0, _squawk(tmp_path / "safe.sql").stdout
    flagged = _squawk(tmp_path / "naive.sql")
    assert flagged.returncode == 1 and "renaming-column" in flagged.stdout
    # without its comments the safe plan's SQL is what squawk flags: the comments are doing the work
    bare = "\n".join(line for line in safe.splitlines() if "squawk-ignore" not in line)
    (tmp_path / "bare.sql").write_text(bare)
    assert _squawk(tmp_path / "bare.sql").returncode == 1


def test_lint_runs_labkits_rules_then_squawk_and_exits_1_only_for_a_plan_to_fix(pg, pg_url, tmp_path, capfd):
    users = pg.import_table(lab.make_users(30, seed=2))
    lk.save_plan(lk.build_rename_column_migration(users, "name", "full_name"), tmp_path / "safe.json")
    lk.save_plan(lk.build_naive_rename_migration(users, "name", "full_name"), tmp_path / "naive.json")
    assert main(["lint", str(tmp_path / "safe.json"), "--db", pg_url, "--sql-out", str(tmp_path / "s.sql")]) == 0
    out = capfd.readouterr().out
    assert "labkit's rules: 0 finding(s)" in out and "ignore comment(s)" in out and "no finding left to fix" in out
    assert "squawk-ignore" in (tmp_path / "s.sql").read_text()
    assert main(["lint", str(tmp_path / "naive.json"), "--db", pg_url]) == 1
    out = capfd.readouterr().out
    assert "rename-in-place" in out and "renaming-column" in out  # labkit's rule, then squawk's own report
    url = f"sqlite:///{tmp_path}/app.db"
    with lk.connect(url) as db:
        db.import_table(lab.make_users(5, seed=1))
    assert main(["lint", str(tmp_path / "safe.json"), "--db", url]) == 0
    assert "squawk: not run (it reads PostgreSQL's SQL; this database is sqlite)" in capfd.readouterr().out


DJANGO_ADD_FIELD = """BEGIN;
--
-- Add field visits to user; alter field title on user (Django 5.1's sqlmigrate)
--
ALTER TABLE "users" ADD COLUMN "visits" integer DEFAULT 0 NOT NULL;
ALTER TABLE "users" ALTER COLUMN "visits" DROP DEFAULT;
CREATE INDEX "users_email_idx" ON "users" ("email");
ALTER TABLE "users" RENAME COLUMN "name" TO "full_name";
COMMIT;
"""


def test_lint_reads_a_sql_migration_as_written_and_says_what_needs_a_plan(pg, pg_url, tmp_path, capfd):
    pg.import_table(lab.make_users(30, seed=2))
    (tmp_path / "0002_django.sql").write_text(DJANGO_ADD_FIELD)
    assert main(["lint", str(tmp_path / "0002_django.sql"), "--db", pg_url]) == 1
    out = capfd.readouterr().out
    said = dict(zip(out.splitlines()[1::2], out.splitlines()[2::2]))  # statement -> its verdict
    verdicts = {k.strip().split(" ")[0] + " " + k.strip().split(" ")[-1]: v.strip().split(":")[0]
                for k, v in said.items() if k.startswith("  ") and v.startswith("    ")}  # fmt: skip
    assert verdicts == {"BEGIN BEGIN": "ok", 'ALTER NULL': "brief", 'ALTER DEFAULT': "brief",
                        'CREATE ("email")': "needs a plan", 'ALTER "full_name"': "needs a plan",
                        "COMMIT COMMIT": "ok"}, out  # fmt: skip
    assert "2 statement(s) would lock the table or break the app as written: labkit convert" in out
    assert "require-concurrent-index-creation" in out and "renaming-column" in out  # squawk, on the file itself
    assert "warnings (--strict makes them failures): prefer-bigint-over-int" in out
    # the same change, safe as written: a lock timeout, a statement timeout, a nullable text column
    (tmp_path / "safe.sql").write_text("SET lock_timeout = '2s';\nSET statement_timeout = '5s';\n"
                                       "ALTER TABLE users ADD COLUMN IF NOT EXISTS title text NULL;\n")  # fmt: skip
    assert main(["lint", str(tmp_path / "safe.sql"), "--db", pg_url]) == 0, capfd.readouterr().out
    url = f"sqlite:///{tmp_path}/app.db"
    with lk.connect(url) as db:
        db.import_table(lab.make_users(5, seed=1))
    (tmp_path / "rename.sql").write_text('ALTER TABLE users RENAME COLUMN "name" TO full_name;\n')
    assert main(["lint", str(tmp_path / "rename.sql"), "--db", url]) == 1
    assert "squawk: not run (it reads PostgreSQL's SQL; this database is sqlite)" in capfd.readouterr().out
    (tmp_path / "broken.sql").write_text("ALTER TABLE users RENAM COLUMN a TO b;\n")
    assert main(["lint", str(tmp_path / "broken.sql"), "--db", url]) == 64


def test_lint_warns_of_the_schema_a_converted_plan_keeps_and_fails_on_it_only_when_strict(pg, pg_url, tmp_path,
                                                                                        capfd):  # fmt: skip
    pg.import_table(lab.make_users(30, seed=2))
    (tmp_path / "add.sql").write_text('ALTER TABLE "users" ADD COLUMN "visits" integer DEFAULT 0 NOT NULL;\n')
    assert main(["convert", str(tmp_path / "add.sql"), "--db", pg_url, "-o", str(tmp_path / "add.json")]) == 0
    capfd.readouterr()
    assert main(["lint", str(tmp_path / "add.json"), "--db", pg_url]) == 0  # integer is the user's choice
    out = capfd.readouterr().out
    assert "warnings (--strict makes them failures): prefer-bigint-over-int" in out
    assert "adding-field-with-default" not in out  # a constant default: answered (PostgreSQL 11+, no rewrite)
    assert main(["lint", str(tmp_path / "add.json"), "--db", pg_url, "--strict"]) == 1
    assert "failures (--strict): prefer-bigint-over-int" in capfd.readouterr().out


def test_the_commands_a_lifecycle_suggests_can_be_pasted_back(pg, pg_url, tmp_path, capsys):
    """A URL with ? and & (a query string), a path with a space: one shell word in every command labkit prints."""
    import shlex

    users = pg.import_table(lab.make_users(8, seed=1))
    lk.save_plan(lk.build_rename_column_migration(users, "name", "full_name", batch_size=4), tmp_path / "p.json")
    url = pg_url + ("&" if "?" in pg_url else "?") + "application_name=labkit&connect_timeout=10"
    with lk.connect(f"sqlite:///{tmp_path}/a b.db") as db:
        db.import_table(lab.make_users(8, seed=1))
    for db_url in (url, f"sqlite:///{tmp_path}/a b.db"):
        assert main(["start", str(tmp_path / "p.json"), "--db", db_url]) == 0
        said, legs = capsys.readouterr().out, 0
        while "Then: labkit complete" in said:  # each deploy stop names the command that carries on
            line = next(x for x in said.splitlines() if x.startswith("Then: labkit complete"))
            command = shlex.split(line.split("Then: ", 1)[1].split("    To undo")[0])
            assert command[:3] == ["labkit", "complete", "--db"] and command[3] == db_url, line
            assert main(command[1:]) == 0
            said, legs = capsys.readouterr().out, legs + 1
        assert legs == 2 and "completed" in said  # v2 rolls out, then v3 before the drop


def test_a_table_named_with_its_schema_finds_the_plan_started_on_its_bare_name(pg, pg_url, tmp_path, capsys):
    """Issue 34: `labkit complete --table public.users` said no plan was under way on the plan started on `users`
    (the state row names it bare: the current schema's tables are named bare everywhere)."""
    users = pg.import_table(lab.make_users(8, seed=1))
    lk.save_plan(lk.build_rename_column_migration(users, "name", "full_name", batch_size=4), tmp_path / "p.json")
    assert main(["start", str(tmp_path / "p.json"), "--db", pg_url]) == 0
    assert main(["status", "--db", pg_url, "--table", "public.users"]) == 0
    assert "under way" in capsys.readouterr().out
    assert complete_plan(pg_url, "--table", "public.users") == 0
    assert pg.table("users").column_names == ["id", "email", "full_name"]
    assert main(["complete", "--db", pg_url, "--table", "elsewhere.users"]) == 3  # another schema's: not this one
    assert "no plan is under way on table 'elsewhere.users'" in capsys.readouterr().err


def test_labkit_db_runs_a_postgresql_and_a_standby_until_ctrl_c_then_leaves_nothing(tmp_path):
    """`labkit db --standby` for an app of one's own: the URLs it prints work (a write on the primary reaches the
    read-only standby), and Ctrl-C stops both servers and deletes their files."""
    import os
    import re
    import signal
    import subprocess
    import sys
    import time

    proc = subprocess.Popen([sys.executable, "-m", "labkit", "db", "--standby"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        lines: list[str] = []
        deadline = time.monotonic() + 180
        while not any(line.startswith("Ctrl-C stops it") for line in lines):
            line = proc.stdout.readline()  # type: ignore[union-attr]
            assert line and time.monotonic() < deadline, (lines, proc.stderr.read())  # type: ignore[union-attr]
            lines.append(line)
        said = "".join(lines)
        primary = re.search(r"PostgreSQL is running: (\S+)", said)[1]  # type: ignore[index]
        standby = re.search(r"its streaming standby \(read-only\): (\S+)", said)[1]  # type: ignore[index]
        assert "postgresql+psycopg://" in said and "'ENGINE': 'django.db.backends.postgresql'" in said
        with lk.connect(primary) as db:
            db.execute("CREATE TABLE seen (id bigint PRIMARY KEY)")
            db.execute("INSERT INTO seen VALUES (42)")
        with lk.connect(standby) as replica:
            assert replica.query("SELECT pg_is_in_recovery()") == [(True,)]
            while ("seen",) not in replica.query("SELECT relname::text FROM pg_class WHERE relname = 'seen'") or (
                    replica.query("SELECT count(*) FROM seen") != [(1,)]):  # fmt: skip
                assert time.monotonic() < deadline, "the standby never replayed the write"
                time.sleep(0.1)
        folders = [re.search(r"host=(\S+)", u)[1] for u in (primary, standby)]  # type: ignore[index]
        assert all(os.path.isdir(f) for f in folders)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, out + err
    assert "labkit db: stopped" in out and "Traceback" not in err
    assert not any(os.path.exists(f) for f in folders)  # both servers' files are gone
