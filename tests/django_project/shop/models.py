"""The shop's Order, in the code of either release: SHOP_CODE=old is the code migration 0001 describes, new the code
of 0002 (status renamed state, priority added, note required, total wider, an index on state). Two releases of one
app, deployed one after the other while both run, as a rolling deploy has them."""

import os

from django.db import models

if os.environ.get("SHOP_CODE", "new") == "old":

    class Order(models.Model):
        status = models.CharField(max_length=20)
        note = models.TextField(null=True)
        total = models.DecimalField(max_digits=10, decimal_places=2, default=0)

else:

    class Order(models.Model):
        state = models.CharField(max_length=20)
        priority = models.IntegerField(default=0)
        note = models.TextField()
        total = models.DecimalField(max_digits=14, decimal_places=2, default=0)

        class Meta:
            indexes = [models.Index(fields=["state"], name="shop_order_state_idx")]
