"""The demo's data files (``shop/demo/data/``), shipped with the package."""

import json
from importlib import resources
from typing import Any


def read_json(name: str) -> Any:
    """The parsed contents of ``data/<name>``."""
    return json.loads(resources.files("shop.demo").joinpath("data", name).read_text("utf-8"))
