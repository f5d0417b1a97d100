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


# --- the back office only calls the rules ----------------------------------------------

ADMIN = SHOP / "admin"
# Objects of the web layer a view may set attributes on: the WTForm (``form``,
# ``matrix_form``, one of its fields picked as ``field``), Flask's request and globals,
# and ``self`` inside a form's own methods.
VIEW_OBJECTS = {"form", "field", "request", "g", "session", "response", "self", "current_app"}
SESSION_NAMES = {"db", "session"}  # the SQLAlchemy session, as the views name it
SESSION_WRITES = {"add", "add_all", "delete", "merge"}
WRITE_STATEMENTS = {"update", "insert", "delete"}  # sa.update(...) and the like
LIST_WRITES = {"append", "extend", "insert", "remove", "clear", "pop"}


def _root(node: ast.expr) -> str | None:
    """The name an attribute chain starts from: ``form.slug.errors`` → ``form``,
    ``rows[0].position`` → ``rows``; ``None`` when it starts from a call."""
    while isinstance(node, ast.Attribute | ast.Subscript):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _view_object(node: ast.expr) -> bool:
    root = _root(node)
    return root is not None and (root in VIEW_OBJECTS or root.endswith("_form"))


def _is_session(node: ast.expr) -> bool:
    if isinstance(node, ast.Call):  # get_session().add(...)
        node = node.func
    return isinstance(node, ast.Name) and node.id in SESSION_NAMES | {"get_session"}


def _write_call(node: ast.Call) -> str | None:
    func = node.func
    if isinstance(func, ast.Name) and func.id == "setattr" and node.args:
        return None if _view_object(node.args[0]) else "setattr on a model"
    if not isinstance(func, ast.Attribute):
        return None
    if func.attr in SESSION_WRITES and _is_session(func.value):
        return f"session.{func.attr}()"
    if func.attr in WRITE_STATEMENTS and _root(func.value) == "sa":
        return f"sa.{func.attr}() statement"
    if (
        func.attr in LIST_WRITES
        and isinstance(func.value, ast.Attribute)
        and _root(func.value) is not None
        and not _view_object(func.value)
    ):
        return f"{ast.unparse(func.value)}.{func.attr}() on a model's collection"
    return None


def _assigned_attributes(targets: list[ast.expr]) -> list[ast.Attribute]:
    """The attributes an assignment sets (``a.b, c.d = ...`` sets two); an item set on a
    local dict (``totals[key] = ...``, ``period.revenue[key] = ...``) is not one."""
    found: list[ast.Attribute] = []
    for target in targets:
        if isinstance(target, ast.Attribute):
            found.append(target)
        elif isinstance(target, ast.Tuple | ast.List):
            found.extend(_assigned_attributes(list(target.elts)))
        elif isinstance(target, ast.Starred):
            found.extend(_assigned_attributes([target.value]))
    return found


def session_writes(source: str) -> list[str]:
    """Where ``source`` writes to the database itself instead of calling a rule, as
    ``"line: what"``. A heuristic over the syntax tree, strict by design:

    - ``.add``, ``.add_all``, ``.delete``, ``.merge`` called on ``db``, ``session`` or
      ``get_session()``;
    - any ``sa.update(...)``, ``sa.insert(...)``, ``sa.delete(...)``: a view has no use
      for a write statement, whether it executes it or hands it to a helper;
    - an assignment to an attribute (``product.active = ...``, ``rows[0].position += 1``,
      also in a tuple) or ``setattr(obj, ...)``, unless the chain starts at one of the
      view layer's own objects (``VIEW_OBJECTS``, or a name ending in ``_form``). Setting
      an item (``role_forms[member.id] = ...``) is not an attribute assignment: a view
      fills its own dicts, and a model's collections are lists (next rule);
    - ``append``/``extend``/``insert``/``remove``/``clear``/``pop`` on an attribute of
      something other than a view object (``product.images.append(image)`` adds a row;
      ``form.slug.errors.append(...)`` and a local ``rows.append(...)`` do not).

    Plain local variables (``errors.append``) are never flagged, and neither are reads:
    ``db.execute(sa.select(...))``, ``db.rollback()`` and ``db.commit()`` are the
    boundary's to call."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        what = None
        if isinstance(node, ast.Call):
            what = _write_call(node)
        elif isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for attribute in _assigned_attributes(targets):
                if not _view_object(attribute):
                    what = f"{ast.unparse(attribute)} = ..."
        if what:
            found.append(f"{node.lineno}: {what}")
    return sorted(found, key=lambda entry: int(entry.split(":")[0]))


def test_session_writes_finds_the_writes_and_nothing_else():
    writes = """
db.add(product)
get_session().delete(category)
session.merge(row)
db.execute(sa.update(Variant).values(on_hand=0))
product.active = True
variant.sku, x = "A", 1
rows[0].position += 1
setattr(product, "name", "x")
product.images.append(image)
"""
    assert len(session_writes(writes)) == 9
    view_code = """
form.slug.errors.append("taken")
form.slug.data = form.slug.data.strip()
matrix_form.sizes.errors = ["no"]
field.errors = list(field.errors) + messages
request.max_content_length = 10
self.reason = "why"
errors.append("x")
db.execute(sa.select(Product.id))
db.rollback()
db.commit()
storage.delete(name)
by_parent.setdefault(key, []).append(category)
role_forms[member.id] = RoleForm()
period.revenue[currency] = 0
"""
    assert session_writes(view_code) == []


@pytest.mark.parametrize("path", sorted(ADMIN.glob("*.py")), ids=lambda path: path.name)
def test_the_back_office_only_calls_the_rules(path):
    """Every write of the back office goes through a rule module (``shop/catalog``,
    ``shop/images.py``, ``shop/schools``, …), which also writes the audit row: the views
    parse, call, flash and commit."""
    assert session_writes(path.read_text()) == []
