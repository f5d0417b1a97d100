"""The demo: a realistic catalogue, accounts, orders and schools for trying the shop.

The data lives in ``data/`` (JSON); the modules here read it and build rows with the
domain's models and functions, the way the shop would. Only the ``seed-demo`` command
(``shop/cli.py``) and the tests import this package: nothing in the shop depends on it
(``tests/demo/test_boundary.py`` checks).
"""
