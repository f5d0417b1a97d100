"""Helpers shared by test modules: plain functions and constants.

Fixtures live in conftest.py files; a test module imports helpers from here (or from the
factories beside it), never from a conftest.py or another test module
(tests/test_layout.py checks)."""
