"""A Django project of one app (`shop`), for tests/test_django.py. The database comes from SHOP_DATABASE_URL (the
embedded PostgreSQL the tests start); SHOP_SEARCH_PATH is what a release sets to reach its app version's view, as
labkit start names it (the README's Django section)."""

import os
from urllib.parse import parse_qs, unquote, urlsplit

_url = urlsplit(os.environ["SHOP_DATABASE_URL"])
_host = parse_qs(_url.query).get("host", [_url.hostname or ""])[0]
_path = os.environ.get("SHOP_SEARCH_PATH")

SECRET_KEY = "not-a-secret: a test project"
INSTALLED_APPS = ["shop"]
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _url.path.lstrip("/") or "postgres",
        "USER": unquote(_url.username or "postgres"),
        "PASSWORD": unquote(_url.password or ""),
        "HOST": _host,
        "PORT": str(_url.port or ""),
        "OPTIONS": {"options": f"-c search_path={_path}"} if _path else {},
    }
}
