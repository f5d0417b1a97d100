"""Turn ``wrk --latency`` outputs into the benchmark table, as text, markdown and JSON.

    report.py --manifest runs.tsv --meta meta.json --seed seed.json --out bench/results

``runs.tsv`` has one ``name<TAB>url<TAB>wrk output file`` line per run. Runs named ``floor``
(measured first) and ``floor-end`` (measured last) are the floor; every page is compared with
their mean requests/s, and a large difference between the two is reported as drift (the
machine got faster or slower during the run). Exits 1 when a run had errors (non-2xx
responses, socket errors), or when ``--strict`` is given and a target is missed.
"""

import argparse
import json
import re
import sys
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

FLOOR_RUNS = ("floor", "floor-end")
MAX_FLOOR_DRIFT_PERCENT = 10.0

# page name → minimum % of the floor's requests/s
MIN_PERCENT_OF_FLOOR = {"listing": 50.0, "search": 35.0, "product": 50.0}
MAX_P99_MS = 100.0

LABELS = {
    "floor": "floor: listing template, no DB (start)",
    "floor-end": "floor: listing template, no DB (end)",
    "listing": "/products",
    "search": "/products?q=",
    "product": "/products/<slug>",
}

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_DURATION = r"([\d.]+)(us|ms|s|m|h)"


class WrkOutputError(ValueError):
    pass


@dataclass
class Run:
    name: str
    url: str
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
    percent_of_floor: float | None = None

    @property
    def label(self) -> str:
        label = LABELS.get(self.name, self.name)
        if self.name == "search":
            return "/products?" + self.url.split("?", 1)[1]
        return label


def to_ms(value: str, unit: str) -> float:
    return float(value) * _UNITS_MS[unit]


def to_bytes(value: str, unit: str) -> float:
    factor = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}[unit]
    return float(value) * factor


def parse_wrk(name: str, url: str, text: str) -> Run:
    """Requests/s, the latency distribution and the error counts of one ``wrk`` run."""
    percentiles = {
        int(match[1]): to_ms(match[2], match[3])
        for match in re.finditer(rf"^\s+(50|75|90|99)(?:\.\d+)?%\s+{_DURATION}\s*$", text, re.M)
    }
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.M)
    done = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m|h), ([\d.]+)(B|KB|MB|GB|TB) read", text)
    if not rate or not done or set(percentiles) != {50, 75, 90, 99}:
        raise WrkOutputError(f"{name}: not a `wrk --latency` output:\n{text}")
    requests = int(done[1])
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    socket = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text
    )
    return Run(
        name=name,
        url=url,
        requests_per_sec=float(rate[1]),
        p50_ms=percentiles[50],
        p75_ms=percentiles[75],
        p90_ms=percentiles[90],
        p99_ms=percentiles[99],
        requests=requests,
        seconds=to_ms(done[2], done[3]) / 1000,
        non_2xx_3xx=int(non_2xx[1]) if non_2xx else 0,
        socket_errors=sum(int(n) for n in socket.groups()) if socket else 0,
        bytes_per_request=round(to_bytes(done[4], done[5]) / requests) if requests else 0,
    )


def floor_reference(runs: list[Run]) -> tuple[float | None, float | None]:
    """The floor's mean requests/s, and how far apart its runs were (% of that mean)."""
    rates = [run.requests_per_sec for run in runs if run.name in FLOOR_RUNS]
    if not rates or not sum(rates):
        return None, None
    mean = sum(rates) / len(rates)
    return mean, round(100 * (max(rates) - min(rates)) / mean, 1)


def compare_with_floor(runs: list[Run], reference: float | None) -> None:
    if not reference:
        return
    for run in runs:
        run.percent_of_floor = round(100 * run.requests_per_sec / reference, 1)


def check_targets(runs: list[Run]) -> list[dict]:
    checks = []
    for run in runs:
        minimum = MIN_PERCENT_OF_FLOOR.get(run.name)
        if minimum is not None and run.percent_of_floor is not None:
            checks.append(
                {
                    "page": run.label,
                    "metric": "% of floor req/s",
                    "target": f">= {minimum:g}",
                    "actual": run.percent_of_floor,
                    "met": run.percent_of_floor >= minimum,
                }
            )
        if run.name not in FLOOR_RUNS:
            checks.append(
                {
                    "page": run.label,
                    "metric": "p99 ms",
                    "target": f"< {MAX_P99_MS:g}",
                    "actual": round(run.p99_ms, 2),
                    "met": run.p99_ms < MAX_P99_MS,
                }
            )
    return checks


def table_rows(runs: list[Run]) -> list[list[str]]:
    return [
        [
            run.label,
            f"{run.requests_per_sec:,.1f}",
            f"{run.p50_ms:.2f}",
            f"{run.p99_ms:.2f}",
            "-" if run.percent_of_floor is None else f"{run.percent_of_floor:.1f}%",
        ]
        for run in runs
    ]


HEADER = ["page", "req/s", "p50 ms", "p99 ms", "% of floor"]


def text_table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in [HEADER, *rows]) for i in range(len(HEADER))]

    def line(cells):
        return " | ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        )

    return "\n".join([line(HEADER), "-+-".join("-" * w for w in widths), *map(line, rows)])


def markdown_table(rows: list[list[str]], header: list[str] = HEADER) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * len(header)) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def target_lines(checks: list[dict]) -> list[str]:
    return [
        f"{'met   ' if c['met'] else 'MISSED'} {c['page']}: {c['metric']} {c['actual']} "
        f"(target {c['target']})"
        for c in checks
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--manifest", required=True, type=Path)
    parser.add_argument("--meta", type=Path)
    parser.add_argument("--seed", type=Path)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)

    runs = []
    for line in args.manifest.read_text(encoding="utf-8").splitlines():
        if line.strip():
            name, url, path = line.split("\t")
            runs.append(parse_wrk(name, url, Path(path).read_text(encoding="utf-8")))
    reference, drift = floor_reference(runs)
    compare_with_floor(runs, reference)
    checks = check_targets(runs)
    rows = table_rows(runs)
    meta = json.loads(args.meta.read_text(encoding="utf-8")) if args.meta else {}
    seed = json.loads(args.seed.read_text(encoding="utf-8")) if args.seed else {}
    errors = [run for run in runs if run.non_2xx_3xx or run.socket_errors]

    print(text_table(rows))
    print()
    print("\n".join(target_lines(checks)))
    notes = []
    if reference is not None:
        notes.append(f"floor reference: {reference:,.1f} req/s (mean of its runs, {drift}% apart)")
        if drift > MAX_FLOOR_DRIFT_PERCENT:
            notes.append(
                f"warning: the floor's runs differ by {drift}% (> {MAX_FLOOR_DRIFT_PERCENT:g}%):"
                " the machine's speed drifted; ratios are approximate, re-run on a quiet machine"
            )
    print("\n".join(notes))
    for run in errors:
        print(
            f"ERROR {run.label}: {run.non_2xx_3xx} non-2xx/3xx responses, "
            f"{run.socket_errors} socket errors: the numbers for this page are not valid"
        )

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    args.out.mkdir(parents=True, exist_ok=True)
    result = {
        "timestamp": stamp,
        "meta": meta,
        "seed": seed,
        "floor_reference_rps": round(reference, 1) if reference else None,
        "floor_drift_percent": drift,
        "runs": [{**asdict(run), "label": run.label} for run in runs],
        "targets": checks,
        "all_targets_met": all(check["met"] for check in checks),
        "errors": [run.label for run in errors],
    }
    setup = ", ".join(f"{key}={value}" for key, value in meta.items())
    markdown = "\n".join(
        [
            f"# Sourcefront benchmark {stamp}",
            "",
            setup,
            "",
            markdown_table(rows),
            "",
            "## Targets",
            "",
            *(f"- {line}" for line in target_lines(checks)),
            *(f"- ERROR: {run.label} had failed requests" for run in errors),
            "",
            *notes,
            "",
        ]
    )
    for name in (f"bench-{stamp}", "latest"):
        (args.out / f"{name}.md").write_text(markdown, encoding="utf-8")
        (args.out / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n", "utf-8")
    print(f"\nwrote {args.out / f'bench-{stamp}.md'} and .json")

    if errors:
        return 1
    if args.strict and not result["all_targets_met"]:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
