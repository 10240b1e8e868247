"""The shared import command: how many writers it uses, and its option checks."""

import os

import pytest
from django.core.management import CommandError
from django.db import transaction

from apps.core.bulk.command import MAX_AUTO_WRITERS, BulkImportCommand


@pytest.mark.django_db(transaction=True)
def test_auto_uses_one_writer_per_core_up_to_two_outside_a_transaction():
    assert BulkImportCommand._writers("auto") == min(MAX_AUTO_WRITERS, os.cpu_count() or 1)
    assert BulkImportCommand._writers("3") == 3
    with pytest.raises(CommandError, match="--writers must be an integer >= 1"):
        BulkImportCommand._writers("0")
    with pytest.raises(CommandError, match="--writers must be an integer >= 1"):
        BulkImportCommand._writers("many")


@pytest.mark.django_db(transaction=True)
def test_inside_a_transaction_there_is_one_writer_whatever_was_asked():
    with transaction.atomic():
        assert BulkImportCommand._writers("auto") == 1
        assert BulkImportCommand._writers("4") == 1
