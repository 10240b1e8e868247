"""When a sales report started running: one running past its time limit lost its worker."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('jobs', '0002_reportjob'),
    ]

    operations = [
        migrations.AddField(
            model_name='reportjob',
            name='started_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
