"""The benchmark's floors: ``floor.py`` renders the real listing template, so when the
layout gains a link or a global, the floor must keep up, or the benchmark breaks silently;
``bare_floor.py``, the anchor every ratio is measured against, must serve the same 24
cards."""

import importlib.util
import re

import pytest

from shop import PROJECT_ROOT


def load_bench_module(monkeypatch, name: str):
    monkeypatch.syspath_prepend(str(PROJECT_ROOT / "bench"))  # both import seed_bulk
    spec = importlib.util.spec_from_file_location(name, PROJECT_ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def slugs(text: str) -> list[str]:
    return re.findall(r'data-testid="product-card" data-slug="([^"]+)"', text)


def test_floor_app_renders_the_listing_template(monkeypatch):
    floor = load_bench_module(monkeypatch, "floor")
    response = floor.create_app(total=100).test_client().get("/products")
    assert response.status_code == 200
    assert response.text.count('data-testid="product-card"') == 24


@pytest.mark.parametrize("lang", ["zh_CN", "ja"])
def test_floor_app_renders_in_every_language(monkeypatch, lang):
    floor = load_bench_module(monkeypatch, "floor")
    response = floor.create_app(total=100).test_client().get(f"/products?lang={lang}&page=3")
    assert response.status_code == 200
    assert len(slugs(response.text)) == 24


def test_bare_floor_serves_the_same_24_cards(monkeypatch):
    floor = load_bench_module(monkeypatch, "floor")
    bare = load_bench_module(monkeypatch, "bare_floor")
    floor_page = floor.create_app(total=100).test_client().get("/products")
    response = bare.create_app(total=100).test_client().get("/products?page=2")

    assert response.status_code == 200
    assert slugs(response.text) == slugs(floor_page.text)
    assert len(slugs(response.text)) == 24
    assert response.text.count('href="/products/') == 24
    assert 'aria-current="page">2</span>' in response.text


WRK_OUTPUT = """Running 2s test @ http://127.0.0.1:8000
  2 threads and 16 connections
  Latency Distribution
     50%   20.00ms
     75%   30.00ms
     90%   40.00ms
     99%   1.00s
  {requests} requests in 2.00s, 10.00MB read
{errors}Requests/sec:    {rps}
Transfer/sec:      5.00MB
"""


def test_report_divides_by_each_sets_bare_floor_and_checks_targets(tmp_path):
    """bench/report.py (run.sh's report): each set's runs over the mean of its two bare-floor
    runs, the targets, the scale ratios (of ratios) and failed requests."""
    import json

    spec = importlib.util.spec_from_file_location("report", PROJECT_ROOT / "bench" / "report.py")
    report = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(report)
    rates = {  # (products, server, page) → req/s; the floor is 1,000 at 1k, 500 at 100k
        (1000, "floor", "bare-floor-start"): 1100,
        (1000, "floor", "bare-floor-end"): 900,
        (1000, "floor", "template-floor"): 700,
        (1000, "cached", "listing"): 1200,
        (1000, "uncached", "listing"): 600,
        (1000, "uncached", "search"): 400,
        (1000, "uncached", "cart-add"): 300,
        (100000, "floor", "bare-floor-start"): 500,
        (100000, "floor", "bare-floor-end"): 500,
        (100000, "cached", "listing"): 600,
        (100000, "uncached", "listing"): 150,
        (100000, "uncached", "search"): 200,
    }
    lines = []
    for index, ((products, server, page), rps) in enumerate(rates.items()):
        errors = "  Non-2xx or 3xx responses: 3\n" if page == "cart-add" else ""
        output = tmp_path / f"wrk-{index}.txt"
        output.write_text(WRK_OUTPUT.format(requests=rps * 2, errors=errors, rps=rps))
        lines.append(f"sqlite\t{products}\t{server}\t{page}\t/products\t{output}")
    manifest = tmp_path / "runs.tsv"
    manifest.write_text("\n".join(lines) + "\n")
    out = tmp_path / "results"

    assert report.main(["--manifest", str(manifest), "--out", str(out)]) == 1  # cart-add errors
    result = json.loads((out / "latest.json").read_text())
    small, large = result["sets"]
    assert small["floor_reference_rps"] == 1000 and small["floor_drift_percent"] == 20.0
    assert small["runs"][0]["p99_ms"] == 1000.0
    ratios = {(run["server"], run["page"]): run["ratio"] for run in small["runs"]}
    assert ratios[("floor", "template-floor")] == 0.7
    assert ratios[("cached", "listing")] == 1.2 and ratios[("uncached", "listing")] == 0.6
    met = {
        (t["products"], t["server"], t["page"]): t["met"]
        for t in result["targets"]
        if "products" in t  # the scale targets have none
    }
    assert met[(1000, "floor", "template-floor")] and met[(1000, "cached", "listing")]
    assert met[(1000, "uncached", "search")] and not met[(1000, "uncached", "cart-add")]
    assert not met[(100000, "uncached", "listing")]  # 0.3 < 0.5
    scale = {(row["page"], row["server"]): row for row in result["scale"]}
    assert scale[("listing", "cached")]["actual"] == 1.0  # 1.2 × floor at both sizes
    assert scale[("listing", "uncached")]["actual"] == 0.5
    assert not scale[("listing", "uncached")]["met"]  # target 0.8
    assert scale[("search", "uncached")]["actual"] == 1.0 and scale[("search", "uncached")]["met"]
    assert result["errors"] == ["sqlite 1000 uncached cart-add"]
    assert "WARNING: the bare floor's runs differ by 20.0%" in (out / "latest.md").read_text()


def test_report_divides_each_pass_by_its_own_floor_and_takes_the_median_pass(tmp_path):
    """With passes (run.sh's BENCH_PASSES), a run is divided by its own pass's bare floor and
    a row is the median of its passes, so one slow pass does not decide a target."""
    import json

    spec = importlib.util.spec_from_file_location("report", PROJECT_ROOT / "bench" / "report.py")
    report = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(report)
    rates = {  # pass → (floor start, floor end, uncached listing)
        1: (1000, 1000, 600),  # 0.6
        2: (2000, 2000, 800),  # 0.4: the machine was twice as fast for the floor only
        3: (500, 500, 275),  # 0.55: the whole machine was slow
    }
    lines = []
    for pass_number, (start, end, listing) in rates.items():
        for page, server, rps in (
            ("bare-floor-start", "floor", start),
            ("listing", "uncached", listing),
            ("bare-floor-end", "floor", end),
        ):
            output = tmp_path / f"wrk-{server}-{page}-{pass_number}.txt"
            output.write_text(WRK_OUTPUT.format(requests=rps * 2, errors="", rps=rps))
            lines.append(f"sqlite\t1000\t{server}\t{page}\t/products\t{output}\t{pass_number}")
    manifest = tmp_path / "runs.tsv"
    manifest.write_text("\n".join(lines) + "\n")
    out = tmp_path / "results"

    assert report.main(["--manifest", str(manifest), "--out", str(out)]) == 0
    (result_set,) = json.loads((out / "latest.json").read_text())["sets"]
    assert result_set["passes"] == 3
    rows = {(row["server"], row["page"]): row for row in result_set["rows"]}
    listing = rows[("uncached", "listing")]
    assert listing["pass_ratios"] == [0.6, 0.4, 0.55]
    assert listing["ratio"] == 0.55  # the median pass, not the mean of all floors (0.48)
    assert listing["requests_per_sec"] == 600
    (target,) = [t for t in json.loads((out / "latest.json").read_text())["targets"]]
    assert target["actual"] == 0.55 and target["met"]
    assert "0.60 0.40 0.55" in (out / "latest.md").read_text()
