"""The tests' own layout: shared helpers live in tests/helpers/ (or the factories beside it)
and fixtures in conftest.py files, so no test module imports from a conftest.py or from
another test module (pytest imports those itself; a helper inside one is hidden there)."""

import ast
from pathlib import Path

TESTS = Path(__file__).parent


def imported_modules(source: str, path: Path) -> list[str]:
    """Every module ``source`` (the file at ``path``) imports from, as dotted names."""
    package = ".".join(path.relative_to(TESTS.parent).parts[:-1])
    modules: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(part for part in (base, node.module) if part)
            modules.append(module)
            if node.module is None:  # from . import conftest
                modules.extend(f"{module}.{alias.name}" for alias in node.names)
    return modules


def conftests_and_test_modules(source: str, path: Path) -> list[str]:
    return [
        module
        for module in imported_modules(source, path)
        if module.rsplit(".", 1)[-1] == "conftest" or module.rsplit(".", 1)[-1].startswith("test_")
    ]


def test_no_file_imports_a_conftest_or_a_test_module():
    offenders = {
        str(path.relative_to(TESTS)): found
        for path in sorted(TESTS.rglob("*.py"))
        if (found := conftests_and_test_modules(path.read_text(encoding="utf-8"), path))
    }
    assert offenders == {}


def test_the_check_sees_every_way_of_importing_one():
    source = (
        "from tests.admin.conftest import x\n"
        "from .test_products import y\n"
        "from . import conftest\n"
        "import tests.payments.test_webhook\n"
        "from ..payments.test_webhook import deliver\n"
        "from tests.helpers.desk import reload\n"
        "from tests.factories import make_product\n"
    )
    assert conftests_and_test_modules(source, TESTS / "admin" / "test_sample.py") == [
        "tests.admin.conftest",
        "tests.admin.test_products",
        "tests.admin.conftest",
        "tests.payments.test_webhook",
        "tests.payments.test_webhook",
    ]
