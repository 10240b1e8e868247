"""Realistic traffic: nine browsing users to one buyer (weights of the user classes).

locust -f locustfiles/mixed.py --host http://127.0.0.1:8000
"""

from locustfiles.browse import BrowseUser
from locustfiles.buyer import BuyerUser


class MixedBrowseUser(BrowseUser):
    weight = 9


class MixedBuyerUser(BuyerUser):
    weight = 1


# Only the weighted subclasses run here: the imported bases would otherwise run as well.
del BrowseUser, BuyerUser
