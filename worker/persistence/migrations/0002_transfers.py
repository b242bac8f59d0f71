from tortoise import migrations


class Migration(migrations.Migration):
    dependencies = [("worker", "0001_initial")]

    initial = False

    # TransferRow moved to app "transfers" (its 0001_initial adopts the table). This
    # migration stays, empty: 0003 depends on it and older databases have it recorded.
    operations = []
