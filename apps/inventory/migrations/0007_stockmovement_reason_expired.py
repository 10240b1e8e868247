"""A stock movement may be an expired reservation's return."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('inventory', '0006_stock_functions'),
    ]

    operations = [
        migrations.AlterField(
            model_name='stockmovement',
            name='reason',
            field=models.CharField(choices=[('sale', 'Sale'), ('cancel', 'Cancel'), ('payment_failed', 'Payment Failed'), ('expired', 'Expired')], max_length=20),
        ),
    ]
