"""Small windows (issue 17): resellers show the factory's goods from a window of their own
at ``/w/<handle>``. This package holds the reseller's profile, picks and collections; the
rules are in ``service``, the pages in ``views`` (the admin's in ``shop.admin.resellers``)."""
