import pytest

from shop.urls import safe_next_path


@pytest.mark.parametrize("target", ["/", "/products?q=polo", "/products/navy-polo#sizes"])
def test_local_paths_are_kept(target):
    assert safe_next_path(target) == target


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "https://evil.example/",
        "//evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "/%2F/evil.example",
        "%2F%2Fevil.example",
        "/%5Cevil.example",
        "javascript:alert(1)",
        "/\t/evil.example",
        "products",
    ],
)
def test_anything_but_a_local_path_falls_back(target):
    assert safe_next_path(target, default="/home") == "/home"
