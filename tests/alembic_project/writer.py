"""One process of the service (SHOP_CODE=old or new; SHOP_SEARCH_PATH: the app version's view, as labkit names it):
it inserts orders and updates its own share of them through a SQLAlchemy ORM Session, until the file given as its
first argument exists. Each write the database acknowledged is a JSON line {"id", "state"} on stdout; a failed
one, {"error"}. tests/test_alembic_app.py reads them.

    python writer.py STOP_FILE SHARE    (SHARE: it updates the rows whose id % 3 == SHARE)
"""

import json
import os
import pathlib
import random
import sys
import time

from shopapp.models import Order
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

stop, share = pathlib.Path(sys.argv[1]), int(sys.argv[2])
path = os.environ.get("SHOP_SEARCH_PATH")
engine = create_engine(os.environ["SHOP_SA_URL"],
                       connect_args={"options": f"-c search_path={path}"} if path else {})  # fmt: skip
rng = random.Random(share)
old = os.environ.get("SHOP_CODE") == "old"
mine = [i for i in range(1, 301) if i % 3 == share]
n = 0
while not stop.exists():
    n += 1
    value = f"a{share}-{n}"
    try:
        with Session(engine) as session, session.begin():
            if rng.random() < 0.3:
                order = Order(status=value, note=value) if old else Order(state=value, note=value, priority=n % 5)
                session.add(order)
                session.flush()
                mine.append(order.id)
            else:  # the ORM checks the row count of its UPDATE (StaleDataError when it is not 1)
                order = session.scalars(select(Order).where(Order.id == rng.choice(mine))).one()
                if old:
                    order.status = value
                else:
                    order.state, order.priority = value, n % 5
            written = order.id
        print(json.dumps({"id": written, "state": value}), flush=True)
    except Exception as exc:  # a request that failed: the test counts it
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}), flush=True)
    time.sleep(0.002)
