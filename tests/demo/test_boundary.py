"""The demo stays out of the product: only the ``seed-demo`` command (``shop/cli.py``)
and the demo package itself import ``shop.demo``."""

import ast
from pathlib import Path

import shop

SHOP = Path(shop.__file__).parent
ALLOWED = {SHOP / "cli.py"}


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, anywhere in it (functions included)."""
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return modules


def imports_demo(path: Path) -> bool:
    return any(m == "shop.demo" or m.startswith("shop.demo.") for m in imported_modules(path))


def test_only_the_cli_and_the_demo_package_import_the_demo():
    demo = SHOP / "demo"
    importers = {
        path for path in SHOP.rglob("*.py") if demo not in path.parents and imports_demo(path)
    }

    assert importers == ALLOWED


def test_the_check_sees_an_import_inside_a_function(tmp_path):
    module = tmp_path / "module.py"
    module.write_text("def f():\n    from shop.demo.catalogue import PRODUCTS\n", "utf-8")

    assert imports_demo(module)


def test_the_data_files_ship_with_the_package():
    pyproject = (SHOP.parent / "pyproject.toml").read_text("utf-8")
    data = sorted(path.name for path in (SHOP / "demo" / "data").iterdir())

    assert data == ["accounts.json", "catalogue.json", "orders.json", "schools.json"]
    assert '"demo/data/*.json"' in pyproject
