# as makemigrations writes it (Django 5.2), the one-off default for note's NULLs given at its prompt
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("shop", "0001_initial"),
    ]

    operations = [
        migrations.RenameField(
            model_name="order",
            old_name="status",
            new_name="state",
        ),
        migrations.AddField(
            model_name="order",
            name="priority",
            field=models.IntegerField(default=0),
        ),
        migrations.AlterField(
            model_name="order",
            name="note",
            field=models.TextField(default=""),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="order",
            name="total",
            field=models.DecimalField(decimal_places=2, default=0, max_digits=14),
        ),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(fields=["state"], name="shop_order_state_idx"),
        ),
    ]
