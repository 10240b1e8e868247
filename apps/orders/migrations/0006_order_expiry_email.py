"""Deferred payments: an expiry for pending orders, the confirmation email's outbox flag."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('orders', '0005_idempotencykey_user_fk_unindexed'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='order',
            name='email_due',
            field=models.BooleanField(db_default=False, default=False),
        ),
        migrations.AddField(
            model_name='order',
            name='email_sent_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='order',
            name='expires_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name='order',
            name='status',
            field=models.CharField(choices=[('placed', 'Placed'), ('pending_payment', 'Pending Payment'), ('paid', 'Paid'), ('fulfilled', 'Fulfilled'), ('cancelled', 'Cancelled'), ('payment_failed', 'Payment Failed'), ('expired', 'Expired')], default='placed', max_length=20),
        ),
        # Orders left "placed" by a process that died between the stock and the payment (the
        # two-commit checkout before 0003) held their units for good and their keys answered 409:
        # they wait as pending payments that have run out (the expiry task returns their units), and
        # their keys, which never got an answer, are freed (the same key buys anew).
        migrations.RunSQL(
            "UPDATE orders_order SET status = 'pending_payment', expires_at = now() "
            "WHERE status = 'placed'; "
            "DELETE FROM orders_idempotencykey WHERE response_status IS NULL;",
            reverse_sql=migrations.RunSQL.noop,
        ),
    ]
