"""One process of the shop's Django app (SHOP_CODE=old or new; SHOP_SEARCH_PATH: the app version's view, as labkit
start names it): it inserts Orders and updates its own share of them through Django's ORM, as requests would,
until the file given as its first argument exists. Each write Django acknowledged is a JSON line on stdout
({"id", "state"}: the id and the status / state it wrote); a failed one, {"error"}. tests/test_django.py reads them.

    python writer.py STOP_FILE SHARE    (SHARE: it updates the rows whose id % 3 == SHARE)
"""

import json
import os
import pathlib
import random
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopsite.settings")

import django

django.setup()

from shop.models import Order  # noqa: E402

stop, share = pathlib.Path(sys.argv[1]), int(sys.argv[2])
rng = random.Random(share)
old = os.environ.get("SHOP_CODE") == "old"
mine: list[int] = [i for i in range(1, 301) if i % 3 == share]  # the rows the test made, then its own inserts
n = 0
while not stop.exists():
    n += 1
    value = f"w{share}-{n}"
    try:
        if rng.random() < 0.3:  # a new order; the old code leaves its note empty now and then (NULL)
            if old:
                order = Order.objects.create(status=value, note=None if rng.random() < 0.3 else value, total=n)
            else:
                order = Order.objects.create(state=value, priority=n % 5, note=value, total=n)
            mine.append(order.id)
        else:  # an edit: read the order, change it, save() it (every field, as Django does)
            order = Order.objects.get(id=rng.choice(mine))
            if old:
                order.status = value
            else:
                order.state, order.priority = value, n % 5
                order.note = order.note or value
            order.save()
        print(json.dumps({"id": order.id, "state": value}), flush=True)
    except Exception as exc:  # a request that failed: the test counts it
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}), flush=True)
    time.sleep(0.002)
