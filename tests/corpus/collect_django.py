"""Collect the SQL that real Django projects' migrations run on PostgreSQL, for the corpus test (issue 32).

Not part of the suite: run once, by hand, to (re)make ``tests/corpus/django/*.sql``. It needs Django, psycopg and
the apps, which labkit itself does not depend on:

    python3 -m venv /tmp/dj && /tmp/dj/bin/pip install "django>=5.0,<5.2" "psycopg[binary]" django-taggit \\
        django-celery-results django-celery-beat django-oauth-toolkit django-reversion django-axes \\
        django-guardian django-allauth
    /tmp/dj/bin/python tests/corpus/collect_django.py POSTGRES_URL

Every migration of each app (and of the contrib apps they depend on) is printed by ``sqlmigrate`` exactly as Django
would run it, then applied (``migrate``), so the next one is printed against the schema as the project has it
(Django reads constraint names from the live catalog). The files keep Django's own text, with a header saying
where it came from: ``-- corpus: <app> <migration> (<distribution> <version>)``.
"""

from __future__ import annotations

import io
import sys
from importlib import metadata
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

APPS = {  # app label -> the distribution that ships its migrations
    "taggit": "django-taggit",
    "django_celery_results": "django_celery_results",
    "django_celery_beat": "django-celery-beat",
    "oauth2_provider": "django-oauth-toolkit",
    "reversion": "django-reversion",
    "axes": "django-axes",
    "guardian": "django-guardian",
    "account": "django-allauth",
    "socialaccount": "django-allauth",
}
OUT = Path(__file__).resolve().parent / "django"


def main(url: str) -> int:
    import django
    from django.conf import settings

    parts = urlsplit(url)
    settings.configure(
        INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes", "django.contrib.sites",
                        "taggit", "django_celery_results", "django_celery_beat", "oauth2_provider", "reversion",
                        "axes", "guardian", "allauth", "allauth.account", "allauth.socialaccount"],
        DATABASES={"default": {"ENGINE": "django.db.backends.postgresql", "NAME": parts.path.lstrip("/") or "postgres",
                               "USER": parts.username or "postgres", "PASSWORD": parts.password or "",
                               "HOST": parse_qs(parts.query).get("host", [parts.hostname or ""])[0],
                               "PORT": parts.port or ""}},
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField", USE_TZ=True, SITE_ID=1,
        AUTHENTICATION_BACKENDS=["django.contrib.auth.backends.ModelBackend"],
        MIDDLEWARE=["django.contrib.sessions.middleware.SessionMiddleware",
                    "django.contrib.auth.middleware.AuthenticationMiddleware",
                    "allauth.account.middleware.AccountMiddleware"],
    )  # fmt: skip
    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    with connection.cursor() as cur:
        cur.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes(), clean_start=True)
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.sql"):
        old.unlink()
    for n, (migration, _) in enumerate(plan, 1):
        app, name = migration.app_label, migration.name
        out = io.StringIO()
        call_command("sqlmigrate", app, name, stdout=out)
        dist = APPS.get(app, "Django")
        version = metadata.version(dist)
        head = f"-- corpus: {app} {name} ({dist} {version})\n"
        (OUT / f"{n:03d}_{app}_{name}.sql").write_text(head + out.getvalue(), encoding="utf-8")
        call_command("migrate", app, name, verbosity=0)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
