"""The benchmark's floor renders the real listing template; when the layout gains a link
or a global, the floor must keep up, or the benchmark breaks silently."""

import importlib.util

from shop import PROJECT_ROOT


def test_floor_app_renders_the_listing_template(monkeypatch):
    monkeypatch.syspath_prepend(str(PROJECT_ROOT / "bench"))  # floor imports seed_bulk
    spec = importlib.util.spec_from_file_location("floor", PROJECT_ROOT / "bench" / "floor.py")
    floor = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(floor)
    response = floor.create_app(total=100).test_client().get("/products")
    assert response.status_code == 200
    assert response.text.count('data-testid="product-card"') == 24
