import pytest
from django.core.management import call_command
from django.core.management.base import CommandError


@pytest.mark.parametrize("options", [{"workers": 0}, {"seed_products": -1}])
def test_serve_refuses_bad_options_before_touching_anything(options):
    with pytest.raises(CommandError, match="--workers must be >= 1"):
        call_command("serve", **options)
