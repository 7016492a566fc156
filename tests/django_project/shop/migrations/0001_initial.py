# as makemigrations writes it (Django 5.2)
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Order",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("status", models.CharField(max_length=20)),
                ("note", models.TextField(null=True)),
                ("total", models.DecimalField(decimal_places=2, default=0, max_digits=10)),
            ],
        ),
    ]
