"""The shape of the import graph: rules below, views above, no cycles.

Domain modules (pricing, stock, orders, schools, …) decide; view modules (blueprints,
``shop/admin/``) parse, call and render. A rule module that imports a view module, or two
modules that import each other at load time, would blur that line again."""

import ast
from pathlib import Path

import pytest

SHOP = Path(__file__).resolve().parent.parent / "shop"
# Wire the app together, so they may import anything.
ASSEMBLERS = {"shop", "shop.cli"}


def module_name(path: Path) -> str:
    parts = path.relative_to(SHOP.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_view_layer(module: str) -> bool:
    """The back office and the ``*views`` modules. (``shop.health`` and
    ``shop.monitoring`` serve endpoints too, but as plumbing: others register checks and
    metrics with them.)"""
    last = module.rpartition(".")[2]
    return (
        module == "shop.admin"
        or module.startswith("shop.admin.")
        or last == "views"
        or last.endswith("_views")
    )


def imports_of(path: Path, *, top_level_only: bool) -> set[str]:
    """The ``shop`` modules ``path`` imports: ``from shop.x import y`` counts ``shop.x.y``
    when that is a module, else ``shop.x``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("shop"))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("shop"):
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in MODULES else node.module)
    return found


MODULES = {module_name(path): path for path in sorted(SHOP.rglob("*.py"))}


def test_the_module_list_is_real():
    assert "shop.cart.pricing" in MODULES and "shop.admin.orders" in MODULES
    assert is_view_layer("shop.admin.orders") and is_view_layer("shop.schools.invoice_views")
    assert not is_view_layer("shop.orders.lifecycle")


@pytest.mark.parametrize(
    "module", [m for m in MODULES if not is_view_layer(m) and m not in ASSEMBLERS]
)
def test_rules_never_import_views(module):
    """Also imports inside functions: a lazy import of a view is still a dependency."""
    views = {
        name
        for name in imports_of(MODULES[module], top_level_only=False)
        if name in MODULES and is_view_layer(name)
    }
    assert not views, f"{module} imports the view layer: {sorted(views)}"


def load_time_graph() -> dict[str, set[str]]:
    return {
        module: {
            name
            for name in imports_of(path, top_level_only=True)
            if name in MODULES and name != module
        }
        for module, path in MODULES.items()
    }


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a path that ends where it starts, or ``None``."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                return [*stack[stack.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_find_cycle_finds_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a"}}) is None


def test_no_import_cycle_at_load_time():
    """Package ``__init__`` modules that only register blueprints aside, nothing imported at
    load time leads back to the importer."""
    graph = load_time_graph()
    graph["shop"] = set()  # the app factory imports every blueprint by design
    assert find_cycle(graph) is None
