"""Turn bench/run.sh's ``wrk --latency`` outputs into the benchmark tables: text, markdown
and JSON.

    report.py --manifest runs.tsv --sets sets.tsv --meta meta.json --out bench/results [--strict]

``runs.tsv``: one ``database<TAB>products<TAB>server<TAB>page<TAB>label<TAB>wrk output file
[<TAB>pass]`` line per run (no pass: pass 1). A *set* is one database at one catalogue size,
measured in one or more *passes* over all its pages. A pass's ``floor`` server's runs
``bare-floor-start`` and ``bare-floor-end`` (bench/bare_floor.py, measured first and last)
are its floor, and every run of the pass is divided by their mean requests/s. A row of the
set (a page on a server) is the median of its passes: its ratio the median of their ratios,
its req/s and latencies the medians of theirs. When a pass's two floor runs differ by more
than 10 % the machine's speed drifted during it and a warning says so.

``sets.tsv`` (optional): ``database<TAB>products<TAB>seed summary JSON<TAB>seed seconds<TAB>
set seconds`` per set.

Targets (issue 13), as a ratio to the bare floor:

- template floor (bench/floor.py) >= 0.6;
- listing (``/products?page=N``), category pages and the product page >= 0.5 uncached and
  >= 1.0 cached (so is a reseller's window of 48 picks, `/w/bench`); search >= 0.35 and
  cart add >= 0.7, cached and uncached;
- scale, per database and server: the listing at 100,000 products / at 1,000 >= 0.8, search
  >= 0.6. Each size's req/s is first divided by its own set's floor, so a machine that got
  slower between the two sets does not count as the catalogue's fault.

Exits 1 when a run had failed requests (non-2xx/3xx responses, socket errors), or when
``--strict`` is given and a target is missed.
"""

import argparse
import json
import re
import statistics
import sys
import unicodedata
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

FLOOR_RUNS = ("bare-floor-start", "bare-floor-end")
MAX_FLOOR_DRIFT_PERCENT = 10.0

# (page, server) → minimum ratio to the bare floor's requests/s
TARGETS = {
    ("template-floor", "floor"): 0.6,
    ("listing", "uncached"): 0.5,
    ("listing", "cached"): 1.0,
    ("category", "uncached"): 0.5,
    ("category", "cached"): 1.0,
    ("product", "uncached"): 0.5,
    ("product", "cached"): 1.0,
    ("search", "uncached"): 0.35,
    ("search", "cached"): 0.35,
    # A reseller's window of 48 picks (issue 17): the catalogue's budget.
    ("window", "uncached"): 0.5,
    ("window", "cached"): 1.0,
    ("cart-add", "uncached"): 0.7,
    ("cart-add", "cached"): 0.7,
    # A group buy's progress JSON while participants join (issue 18). The endpoint keeps
    # its own cache (keyed by the campaign's version), so PAGE_CACHE=0 does not change it.
    ("progress", "uncached"): 0.5,
    ("progress", "cached"): 0.5,
}
# page → minimum (ratio at the large size) / (ratio at the small size)
SCALE_TARGETS = {"listing": 0.8, "search": 0.6}
SCALE_SIZES = (1_000, 100_000)  # the sizes the scale targets are defined for

PAGE_NAMES = {
    "bare-floor-start": "bare floor (start)",
    "bare-floor-end": "bare floor (end)",
    "template-floor": "template floor",
    "listing": "listing",
    "category": "category",
    "product": "product page",
    "search": "search",
    "window": "window (48)",
    "cart-add": "cart add",
    "progress": "group-buy progress",
}

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_DURATION = r"([\d.]+)(us|ms|s|m|h)"


class WrkOutputError(ValueError):
    pass


@dataclass
class Run:
    database: str
    products: int
    server: str
    page: str
    label: str
    requests_per_sec: float
    p50_ms: float
    p75_ms: float
    p90_ms: float
    p99_ms: float
    requests: int
    seconds: float
    non_2xx_3xx: int
    socket_errors: int
    bytes_per_request: int
    pass_number: int = 1
    ratio: float | None = None  # to its pass's bare floor

    @property
    def name(self) -> str:
        return PAGE_NAMES.get(self.page, self.page)

    @property
    def failed(self) -> bool:
        return bool(self.non_2xx_3xx or self.socket_errors)


def to_ms(value: str, unit: str) -> float:
    return float(value) * _UNITS_MS[unit]


def to_bytes(value: str, unit: str) -> float:
    factor = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}[unit]
    return float(value) * factor


def parse_wrk(text: str, what: str = "wrk") -> dict:
    """Requests/s, the latency distribution and the error counts of one ``wrk`` run."""
    percentiles = {
        int(match[1]): to_ms(match[2], match[3])
        for match in re.finditer(rf"^\s+(50|75|90|99)(?:\.\d+)?%\s+{_DURATION}\s*$", text, re.M)
    }
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.M)
    done = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m|h), ([\d.]+)(B|KB|MB|GB|TB) read", text)
    if not rate or not done or set(percentiles) != {50, 75, 90, 99}:
        raise WrkOutputError(f"{what}: not a `wrk --latency` output:\n{text}")
    requests = int(done[1])
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    socket = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text
    )
    return {
        "requests_per_sec": float(rate[1]),
        "p50_ms": percentiles[50],
        "p75_ms": percentiles[75],
        "p90_ms": percentiles[90],
        "p99_ms": percentiles[99],
        "requests": requests,
        "seconds": to_ms(done[2], done[3]) / 1000,
        "non_2xx_3xx": int(non_2xx[1]) if non_2xx else 0,
        "socket_errors": sum(int(n) for n in socket.groups()) if socket else 0,
        "bytes_per_request": round(to_bytes(done[4], done[5]) / requests) if requests else 0,
    }


def read_manifest(path: Path) -> list[Run]:
    runs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        database, products, server, page, label, output, *rest = line.split("\t")
        pass_number = int(rest[0]) if rest else 1
        text = Path(output).read_text(encoding="utf-8")
        what = f"{database} {products} {server} {page} (pass {pass_number})"
        measured = parse_wrk(text, what)
        runs.append(
            Run(database, int(products), server, page, label, **measured, pass_number=pass_number)
        )
    return runs


@dataclass
class Row:
    """One page on one server in a set: the median of its passes."""

    server: str
    page: str
    label: str
    passes: list[Run]
    requests_per_sec: float = field(init=False)
    p50_ms: float = field(init=False)
    p99_ms: float = field(init=False)
    ratio: float | None = field(init=False)

    def __post_init__(self):
        self.requests_per_sec = statistics.median(r.requests_per_sec for r in self.passes)
        self.p50_ms = statistics.median(r.p50_ms for r in self.passes)
        self.p99_ms = statistics.median(r.p99_ms for r in self.passes)
        ratios = [r.ratio for r in self.passes if r.ratio is not None]
        self.ratio = statistics.median(ratios) if ratios else None

    @property
    def name(self) -> str:
        return PAGE_NAMES.get(self.page, self.page)

    @property
    def ratios(self) -> list[float | None]:
        return [r.ratio for r in self.passes]

    @property
    def failed(self) -> bool:
        return any(r.failed for r in self.passes)


def summarise(runs: list[Run]) -> list[Row]:
    """The set's rows, in the order their first runs were measured."""
    order = list(dict.fromkeys((run.server, run.page) for run in runs))
    return [
        Row(
            server,
            page,
            next(r.label for r in runs if (r.server, r.page) == (server, page)),
            sorted(
                (r for r in runs if (r.server, r.page) == (server, page)),
                key=lambda r: r.pass_number,
            ),
        )
        for server, page in order
    ]


@dataclass
class SetResult:
    database: str
    products: int
    runs: list[Run]
    rows: list[Row]
    floor_rps: float | None
    floor_drift_percent: float | None
    seed: dict
    seed_seconds: float | None
    set_seconds: float | None

    @property
    def title(self) -> str:
        active = self.seed.get("active_products")
        parts = [f"{self.database}, {self.products:,} products"]
        if active is not None:
            parts.append(f"{active:,} active")
        if self.seed_seconds is not None:
            parts.append(f"seeded in {self.seed_seconds:.0f} s")
        if self.set_seconds is not None:
            parts.append(f"set took {self.set_seconds:.0f} s")
        return parts[0] + (f" ({'; '.join(parts[1:])})" if parts[1:] else "")

    @property
    def passes(self) -> list[int]:
        return sorted({run.pass_number for run in self.runs})

    def run(self, server: str, page: str) -> Row | None:
        return next((r for r in self.rows if r.server == server and r.page == page), None)


def floor_reference(runs: list[Run]) -> tuple[float | None, float | None]:
    """The floor's mean requests/s, and how far apart its runs were (% of that mean)."""
    rates = [run.requests_per_sec for run in runs if run.page in FLOOR_RUNS]
    if not rates or not sum(rates):
        return None, None
    mean = sum(rates) / len(rates)
    return mean, round(100 * (max(rates) - min(rates)) / mean, 1)


def build_sets(runs: list[Run], sets_info: dict) -> list[SetResult]:
    keys = list(dict.fromkeys((run.database, run.products) for run in runs))
    results = []
    for database, products in keys:
        mine = [run for run in runs if (run.database, run.products) == (database, products)]
        drifts = []
        for pass_number in sorted({run.pass_number for run in mine}):
            in_pass = [run for run in mine if run.pass_number == pass_number]
            reference, drift = floor_reference(in_pass)
            if reference:
                drifts.append(drift)
                for run in in_pass:
                    run.ratio = run.requests_per_sec / reference
        reference, _ = floor_reference(mine)
        info = sets_info.get((database, products), {})
        results.append(
            SetResult(
                database,
                products,
                mine,
                summarise(mine),
                reference,
                max(drifts) if drifts else None,
                info.get("seed", {}),
                info.get("seed_seconds"),
                info.get("set_seconds"),
            )
        )
    return results


def read_sets(path: Path | None) -> dict:
    info = {}
    if path is None or not path.exists():
        return info
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        database, products, seed_path, seed_seconds, set_seconds = line.split("\t")
        seed_file = Path(seed_path)
        info[(database, int(products))] = {
            "seed": json.loads(seed_file.read_text("utf-8")) if seed_file.exists() else {},
            "seed_seconds": float(seed_seconds),
            "set_seconds": float(set_seconds),
        }
    return info


def fmt_ratio(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if value < 0.1 else f"{value:.2f}"


def fmt_target(value: float) -> str:
    return f"{value:.1f}" if value == round(value, 1) else f"{value:g}"


def check_set(result: SetResult) -> list[dict]:
    checks = []
    for run in result.rows:
        minimum = TARGETS.get((run.page, run.server))
        if minimum is None or run.ratio is None:
            continue
        checks.append(
            {
                "database": result.database,
                "products": result.products,
                "what": f"{run.name} ({run.server})" if run.server != "floor" else run.name,
                "server": run.server,
                "page": run.page,
                "actual": round(run.ratio, 3),
                "target": minimum,
                "met": run.ratio >= minimum,
            }
        )
    return checks


def scale_rows(sets: list[SetResult]) -> tuple[list[dict], bool]:
    """Listing and search at the largest size / at the smallest, per database and server.
    Targets apply when the sizes are exactly 1,000 and 100,000 (else shown for information)."""
    rows = []
    targeted = False
    for database in dict.fromkeys(s.database for s in sets):
        mine = {s.products: s for s in sets if s.database == database}
        if len(mine) < 2:
            continue
        small_size, large_size = min(mine), max(mine)
        if (small_size, large_size) == SCALE_SIZES:
            targeted = True
        small, large = mine[small_size], mine[large_size]
        for page in ("listing", "category", "product", "search"):
            for server in ("cached", "uncached"):
                at_small, at_large = small.run(server, page), large.run(server, page)
                if not at_small or not at_large or not at_small.ratio or at_large.ratio is None:
                    continue
                ratio = at_large.ratio / at_small.ratio
                minimum = SCALE_TARGETS.get(page) if targeted else None
                rows.append(
                    {
                        "database": database,
                        "page": page,
                        "server": server,
                        "small": small_size,
                        "large": large_size,
                        "ratio_small": round(at_small.ratio, 3),
                        "ratio_large": round(at_large.ratio, 3),
                        "actual": round(ratio, 3),
                        "raw_rps_ratio": round(
                            at_large.requests_per_sec / at_small.requests_per_sec, 3
                        )
                        if at_small.requests_per_sec
                        else None,
                        "p99_ms_large": round(at_large.p99_ms, 1),
                        "target": minimum,
                        "met": None if minimum is None else ratio >= minimum,
                    }
                )
    return rows, targeted


SET_HEADER = ["page", "server", "req/s", "p50 ms", "p99 ms", "× floor", "passes", "target", ""]


def set_rows(result: SetResult) -> list[list[str]]:
    rows = []
    for run in result.rows:
        minimum = TARGETS.get((run.page, run.server))
        verdict = ""
        if minimum is not None and run.ratio is not None:
            verdict = "met" if run.ratio >= minimum else "MISSED"
        if run.failed:
            verdict = (verdict + " ERRORS").strip()
        rows.append(
            [
                f"{run.name}: {run.label}",
                run.server,
                f"{run.requests_per_sec:,.1f}",
                f"{run.p50_ms:.2f}",
                f"{run.p99_ms:.2f}",
                fmt_ratio(run.ratio),
                " ".join(fmt_ratio(ratio) for ratio in run.ratios),
                "-" if minimum is None else f">= {fmt_target(minimum)}",
                verdict,
            ]
        )
    return rows


SCALE_HEADER = [
    "database",
    "page",
    "server",
    "× floor small",
    "× floor large",
    "large ÷ small",
    "raw req/s ratio",
    "p99 ms large",
    "target",
    "",
]


def scale_table_rows(rows: list[dict]) -> list[list[str]]:
    return [
        [
            row["database"],
            row["page"],
            row["server"],
            fmt_ratio(row["ratio_small"]),
            fmt_ratio(row["ratio_large"]),
            fmt_ratio(row["actual"]),
            fmt_ratio(row["raw_rps_ratio"]),
            f"{row['p99_ms_large']:.1f}",
            "-" if row["target"] is None else f">= {fmt_target(row['target'])}",
            "" if row["met"] is None else ("met" if row["met"] else "MISSED"),
        ]
        for row in rows
    ]


def display_width(text: str) -> int:
    """Columns a terminal gives ``text``: wide (CJK) characters take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def text_table(header: list[str], rows: list[list[str]], left: int = 2) -> str:
    """Columns before ``left``, and the last, are left-aligned (words); the rest right."""
    widths = [max(display_width(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def pad(cell: str, width: int, left: bool) -> str:
        space = " " * (width - display_width(cell))
        return cell + space if left else space + cell

    def line(cells):
        return " | ".join(
            pad(cell, width, left=i < left or i == len(header) - 1)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return "\n".join([line(header), "-+-".join("-" * w for w in widths), *map(line, rows)])


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * len(header)) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def set_notes(result: SetResult) -> list[str]:
    notes = []
    if result.floor_rps is None:
        notes.append("no bare-floor runs: no ratios")
        return notes
    starts = [r.requests_per_sec for r in result.runs if r.page == "bare-floor-start"]
    ends = [r.requests_per_sec for r in result.runs if r.page == "bare-floor-end"]
    passes = len(result.passes)
    notes.append(
        f"bare floor: {result.floor_rps:,.1f} req/s (mean of start "
        f"{', '.join(f'{x:,.1f}' for x in starts) or '-'} and end "
        f"{', '.join(f'{x:,.1f}' for x in ends) or '-'}"
        + (f" over {passes} passes; up to " if passes > 1 else "; ")
        + f"{result.floor_drift_percent}% apart within a pass)"
    )
    if passes > 1:
        notes.append(
            "each run is divided by its own pass's floor; a row is the median of its passes"
        )
    if result.floor_drift_percent > MAX_FLOOR_DRIFT_PERCENT:
        notes.append(
            f"WARNING: the bare floor's runs differ by {result.floor_drift_percent}% "
            f"(> {MAX_FLOOR_DRIFT_PERCENT:g}%) within a pass: the machine's speed drifted; "
            "its ratios are approximate, re-run on a quiet machine"
        )
    for run in result.runs:
        if run.failed:
            notes.append(
                f"ERROR {run.name} ({run.server}, pass {run.pass_number}): "
                f"{run.non_2xx_3xx} non-2xx/3xx responses, "
                f"{run.socket_errors} socket errors: its numbers are not valid"
            )
    return notes


def render(sets, checks, scale, targeted, meta, *, markdown: bool) -> str:

    def table(header, rows, left=2):
        return markdown_table(header, rows) if markdown else text_table(header, rows, left)

    out = []
    for result in sets:
        out += [f"### {result.title}" if markdown else f"== {result.title}", ""]
        out += [table(SET_HEADER, set_rows(result)), ""]
        out += [f"- {note}" if markdown else note for note in set_notes(result)]
        out.append("")
    if scale:
        sizes = f"{scale[0]['large']:,} ÷ {scale[0]['small']:,} products"
        title = f"scale: {sizes} (each side's × floor, divided)"
        out += [f"### {title}" if markdown else f"== {title}", ""]
        out += [table(SCALE_HEADER, scale_table_rows(scale), left=3), ""]
        if not targeted:
            out += [
                "(scale targets are defined for 100,000 ÷ 1,000 products; shown for information)",
                "",
            ]
    missed = [c for c in checks if c["met"] is False]
    counted = [c for c in checks if c["met"] is not None]
    summary = f"targets: {len(counted) - len(missed)} of {len(counted)} met"
    out += [f"### {summary}" if markdown else f"== {summary}", ""]
    for check in missed:
        where = (
            f"{check['database']} {check['products']:,}"
            if "products" in check
            else f"{check['database']} scale"
        )
        line = (
            f"MISSED {where}: {check['what']} {fmt_ratio(check['actual'])} "
            f"(target >= {fmt_target(check['target'])})"
        )
        out.append(f"- {line}" if markdown else line)
    return "\n".join(out).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--manifest", required=True, type=Path)
    parser.add_argument("--sets", type=Path)
    parser.add_argument("--meta", type=Path)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)

    runs = read_manifest(args.manifest)
    sets = build_sets(runs, read_sets(args.sets))
    meta = json.loads(args.meta.read_text(encoding="utf-8")) if args.meta else {}
    checks = [check for result in sets for check in check_set(result)]
    scale, targeted = scale_rows(sets)
    checks += [
        {
            "database": row["database"],
            "what": f"{row['page']} ({row['server']}) at {row['large']:,} ÷ at {row['small']:,}",
            "server": row["server"],
            "page": row["page"],
            "actual": row["actual"],
            "target": row["target"],
            "met": row["met"],
        }
        for row in scale
        if row["target"] is not None
    ]
    failed = [run for run in runs if run.failed]
    drifted = [s for s in sets if (s.floor_drift_percent or 0) > MAX_FLOOR_DRIFT_PERCENT]

    print(render(sets, checks, scale, targeted, meta, markdown=False))
    for run in failed:
        print(
            f"ERROR {run.database} {run.products:,} {run.name} ({run.server}, "
            f"pass {run.pass_number}): failed requests"
        )

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    args.out.mkdir(parents=True, exist_ok=True)
    all_met = all(check["met"] for check in checks if check["met"] is not None)
    result = {
        "timestamp": stamp,
        "meta": meta,
        "sets": [
            {
                "database": s.database,
                "products": s.products,
                "seed": s.seed,
                "seed_seconds": s.seed_seconds,
                "set_seconds": s.set_seconds,
                "floor_reference_rps": round(s.floor_rps, 1) if s.floor_rps else None,
                "floor_drift_percent": s.floor_drift_percent,
                "passes": len(s.passes),
                "rows": [
                    {
                        "server": row.server,
                        "page": row.page,
                        "label": row.label,
                        "requests_per_sec": round(row.requests_per_sec, 1),
                        "p50_ms": row.p50_ms,
                        "p99_ms": row.p99_ms,
                        "ratio": None if row.ratio is None else round(row.ratio, 3),
                        "pass_ratios": [None if r is None else round(r, 3) for r in row.ratios],
                        "target": TARGETS.get((row.page, row.server)),
                    }
                    for row in s.rows
                ],
                "runs": [
                    {
                        **asdict(run),
                        "ratio": None if run.ratio is None else round(run.ratio, 3),
                        "target": TARGETS.get((run.page, run.server)),
                    }
                    for run in s.runs
                ],
            }
            for s in sets
        ],
        "scale": scale,
        "targets": checks,
        "all_targets_met": all_met,
        "floor_drift_warnings": [f"{s.database} {s.products}" for s in drifted],
        "errors": [f"{r.database} {r.products} {r.server} {r.page}" for r in failed],
    }
    setup = ", ".join(f"{key}={value}" for key, value in meta.items())
    markdown = "\n".join(
        [
            f"# Sourcefront benchmark {stamp}",
            "",
            setup,
            "",
            render(sets, checks, scale, targeted, meta, markdown=True),
            *(
                f"- ERROR: {r.database} {r.products} {r.name} ({r.server}) had failed requests"
                for r in failed
            ),
            "",
        ]
    )
    for name in (f"bench-{stamp}", "latest"):
        (args.out / f"{name}.md").write_text(markdown, encoding="utf-8")
        (args.out / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n", "utf-8")
    print(f"wrote {args.out / f'bench-{stamp}.md'} and .json")

    if failed:
        return 1
    if args.strict and not all_met:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
