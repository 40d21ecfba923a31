"""The catalogue benchmark: production profile, PostgreSQL, Redis, gunicorn, wrk.

For each size: generate the catalogue, start gunicorn (2 workers, DEBUG off, throttling off),
warm up, then measure every scenario in interleaved rounds and keep the medians. Writes
bench/results.md. Only touches its own database (formulary_bench), Redis database 5 under the
key prefix ``bench``, and port 8105.
"""

import argparse
import datetime
import json
import os
import platform
import re
import secrets
import signal
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
DATABASE = "formulary_bench"
PORT = 8105
BASE = f"http://127.0.0.1:{PORT}"
BYPASS_TOKEN = secrets.token_hex(16)
WEBSHOP_QUERY = (
    "indication=sleep&dosage_form=capsule&min_elemental_mg=100"
    "&max_elemental_mg=300&ordering=-elemental_mg_per_day"
)
LIST = f"/api/v1/products/?{WEBSHOP_QUERY}"
MATCH_QUERY = "indication=sleep,sport"
MATCH = f"/api/v1/products/match/?{MATCH_QUERY}"
BYPASS = {"X-Cache-Bypass": BYPASS_TOKEN}
FACETS = f"{LIST}&facets=indication,compound,dosage_form,brand,vegan&count=true"
# The oldest page of the change log: the generator's writes, a hundred products to read.
CHANGES = "/api/v1/changes/?after=0-0&page_size=100"

ENVIRONMENT = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    # Plain HTTP on the loopback: there is no TLS proxy in front of the benchmark.
    "SECURE_SSL_REDIRECT": "false",
    "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
    "REDIS_URL": "redis://127.0.0.1:6379/5",
    "CACHE_KEY_PREFIX": "bench",
    "API_THROTTLE_ANON": "off",
    "API_THROTTLE_USER": "off",
    "API_CACHE_BYPASS_TOKEN": BYPASS_TOKEN,
    "WEB_CONCURRENCY": "2",
    "GUNICORN_BIND": f"127.0.0.1:{PORT}",
    "LOG_LEVEL": "WARNING",
}

EXPLAIN_QUERIES = [
    WEBSHOP_QUERY,
    "search=citr",
    "ordering=price",
    "brand=synthetic-00007",
    f"match:{MATCH_QUERY}",
]


def env():
    return {**os.environ, **ENVIRONMENT}


def run(*args, **kwargs):
    return subprocess.run(args, cwd=ROOT, env=env(), check=True, **kwargs)


def manage(*args, capture=False):
    result = run(PYTHON, "manage.py", *args, capture_output=capture, text=True)
    return result.stdout if capture else None


def psql(sql, database="postgres"):
    return subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atqc", sql, database],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def fetch(path, headers=None):
    request = urllib.request.Request(BASE + path, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def create_database():
    """A new, empty benchmark database: an old one may carry another branch's migrations."""
    psql(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    psql(f"CREATE DATABASE {DATABASE}")


def prepare(size, seed):
    manage("migrate", "--noinput", "-v0")
    manage("load_knowledge_base")
    started = time.monotonic()
    manage("generate_catalog", "--products", str(size), "--seed", str(seed), "--replace")
    seconds = time.monotonic() - started
    psql("VACUUM ANALYZE", DATABASE)
    return seconds


SERVER_LOG = Path("/tmp/formulary-bench-gunicorn.log")


def start_server():
    # A file, not a pipe: a pipe nobody reads fills up and then blocks the server's logging.
    with SERVER_LOG.open("w") as log:
        server = subprocess.Popen(
            [GUNICORN, "--config", str(ROOT / "gunicorn.conf.py")],
            cwd=ROOT,
            env=env(),
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,
        )
    for _ in range(60):
        time.sleep(0.5)
        try:
            if fetch("/healthz")[0] == 200:
                return server
        except OSError:
            continue
    server.kill()
    raise SystemExit("gunicorn did not start: " + SERVER_LOG.read_text()[-2000:])


def server_errors() -> list[str]:
    """The server log's error lines (gunicorn's and Django's), to name in the results."""
    return [
        line
        for line in SERVER_LOG.read_text().splitlines()
        if "[ERROR]" in line or line.startswith(("Traceback", "Internal Server Error"))
    ]


def stop_server(server):
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=30)


def worker_rss_mb(server):
    out = subprocess.run(
        ["ps", "-o", "rss=", "--ppid", str(server.pid)], capture_output=True, text=True
    ).stdout.split()
    return [round(int(kb) / 1024) for kb in out]


def to_ms(text):
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def wrk(path, headers, seconds, connections, threads):
    args = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    out = subprocess.run([*args, BASE + path], capture_output=True, text=True, check=True).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": to_ms(re.search(r"\s50%\s+(\S+)", out).group(1)),
        "p99": to_ms(re.search(r"\s99%\s+(\S+)", out).group(1)),
        "errors": int(errors.group(1)) if errors else 0,
    }


def scenarios(size):
    status, headers, body = fetch(LIST)
    if status != 200:
        raise SystemExit(f"{LIST} answered {status}: {body[:500]!r}")
    etag = headers["ETag"]
    results = json.loads(body)["results"]
    gtin = (
        results[0]["gtin"]
        if results
        else json.loads(fetch("/api/v1/products/?page_size=1")[2])["results"][0]["gtin"]
    )
    found = {
        "floor: /healthz": ("/healthz", {}),
        "products/ filtered, uncached": (LIST, BYPASS),
        "products/ filtered, conditional GET (304)": (LIST, {"If-None-Match": etag}),
        "products/ filtered, cache hit": (LIST, {}),
        "products/{gtin}/ uncached": (f"/api/v1/products/{gtin}/", BYPASS),
        "compounds/ uncached": ("/api/v1/compounds/", BYPASS),
        "compounds/ cache hit": ("/api/v1/compounds/", {}),
    }
    status, _, body = fetch(MATCH, BYPASS)
    if status != 200 or not json.loads(body)["results"]:
        raise SystemExit(f"{MATCH} answered {status} without results: {body[:500]!r}")
    found["products/match/ sleep+sport, uncached"] = (MATCH, BYPASS)
    found["products/match/ sleep+sport, cache hit"] = (MATCH, {})
    found["products/ filtered + 5 facets + count, uncached"] = (FACETS, BYPASS)
    found["changes/ a page of 100 changes"] = (CHANGES, {})
    return found, [feed_note()]


SCENARIO_COUNT = 11  # how many scenarios() measures, for the duration estimate


def feed_note() -> str:
    """The full feed once, gzip-compressed as a webshop would fetch it nightly."""
    request = urllib.request.Request(BASE + "/api/v1/feed/", headers={"Accept-Encoding": "gzip"})
    started, size, lines = time.monotonic(), 0, 0
    with urllib.request.urlopen(request, timeout=3600) as response:
        inflate = zlib.decompressobj(zlib.MAX_WBITS | 16)
        while chunk := response.read(1 << 16):
            size += len(chunk)
            lines += inflate.decompress(chunk).count(b"\n")
    seconds = time.monotonic() - started
    return (
        f"feed/: {lines - 1} products as JSON Lines in {seconds:.1f} s "
        f"({(lines - 1) / seconds:.0f} products/s), {size / 1e6:.1f} MB gzip-compressed"
    )


def measure(size, args):
    server = start_server()
    try:
        found, notes = scenarios(size)
        print(f"   warming up {len(found)} scenarios", flush=True)
        for path, headers in found.values():  # warm-up: connections, caches, code paths
            wrk(path, headers, args.warmup, args.connections, args.threads)
        rounds = {name: [] for name in found}
        for number in range(1, args.rounds + 1):
            for name, (path, headers) in found.items():
                result = wrk(path, headers, args.duration, args.connections, args.threads)
                rounds[name].append(result)
                print(
                    f"   round {number}/{args.rounds}  {name}: {result['rps']:.0f} req/s, "
                    f"p99 {result['p99']:.1f} ms",
                    flush=True,
                )
        unloaded = [wrk(LIST, BYPASS, args.duration, 1, 1)["p99"] for _ in range(args.rounds)]
        print(
            f"   unloaded p99 of the filtered list: {statistics.median(unloaded):.1f} ms",
            flush=True,
        )
        rss = worker_rss_mb(server)
    finally:
        stop_server(server)
    errors = server_errors()
    if errors:
        notes.append(
            f"The server logged {len(errors)} errors (see {SERVER_LOG}), the first: "
            f"`{errors[0][:200]}`"
        )
    medians = {
        name: {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        for name, runs in rounds.items()
    }
    return medians, statistics.median(unloaded), rss, notes


def explain():
    return run(PYTHON, "bench/explain.py", *EXPLAIN_QUERIES, capture_output=True, text=True).stdout


def machine():
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    cpu = next(
        (line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")),
        platform.processor(),
    )
    memory = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal"))
    postgres = psql("SHOW server_version")
    return (
        f"{os.cpu_count()} cores ({cpu}), {memory // 1024**2} GiB RAM, "
        f"{platform.system()} {platform.release()}, PostgreSQL {postgres}, Python "
        f"{platform.python_version()}"
    )


def report(args, sizes, machine_text):
    lines = [
        "# Benchmark results",
        "",
        f"Run {datetime.datetime.now().strftime('%Y-%m-%d %H:%M')} on {machine_text}.",
        f"gunicorn 2 sync workers, production profile, PostgreSQL + Redis; wrk "
        f"{args.threads} threads x {args.connections} connections, {args.duration} s per "
        f"measurement, {args.rounds} interleaved rounds, medians. Filtered list: "
        f"`products/?{WEBSHOP_QUERY}`. Uncached requests carry the bench's `X-Cache-Bypass` "
        "token: rendered afresh and not stored.",
        "",
    ]
    for size, (generated_s, medians, unloaded_p99, rss, notes, plans) in sizes.items():
        floor = medians["floor: /healthz"]["rps"]
        lines += [
            f"## {size:,} products",
            "",
            f"Generated in {generated_s:.0f} s. Unloaded p99 of the filtered list (1 "
            f"connection): **{unloaded_p99:.1f} ms**. Worker RSS after the run: "
            f"{', '.join(f'{mb} MB' for mb in rss)}.",
            "",
            "| request | req/s | p50 ms | p99 ms | share of floor | non-2xx/3xx |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for name, m in medians.items():
            lines.append(
                f"| {name} | {m['rps']:.0f} | {m['p50']:.2f} | {m['p99']:.2f} | "
                f"{m['rps'] / floor:.0%} | {m['errors']:.0f} |"
            )
        lines += [
            "",
            *[f"- {note}" for note in notes],
            "",
            "<details><summary>EXPLAIN ANALYZE</summary>",
            "",
            plans,
            "</details>",
            "",
        ]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--sizes",
        default="10000",
        help="comma-separated catalogue sizes, e.g. 10000,100000,1000000",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--warmup", type=int, default=3, help="seconds per scenario")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--output", default=str(ROOT / "bench" / "results.md"))
    args = parser.parse_args()
    machine_text = machine()
    sizes = {}
    sizes_asked = [int(s) for s in args.sizes.split(",")]
    per_size_s = (
        SCENARIO_COUNT * (args.warmup + args.rounds * args.duration) + args.rounds * args.duration
    )
    print(
        f"Measuring takes about {per_size_s / 60:.0f} min per size, plus generating the "
        "catalogue (about 30 s per 100,000 products).",
        flush=True,
    )
    create_database()
    for size in sizes_asked:
        print(f"== {size} products ({datetime.datetime.now():%H:%M})", flush=True)
        generated_s = prepare(size, args.seed)
        print(f"   generated in {generated_s:.0f} s; measuring", flush=True)
        medians, unloaded_p99, rss, notes = measure(size, args)
        plans = explain()
        for table in sorted(set(re.findall(r"Seq Scan on (products_\w+)", plans))):
            notes.append(f"A plan below scans {table} sequentially.")
        sizes[size] = (generated_s, medians, unloaded_p99, rss, notes, plans)
        Path(args.output).write_text(report(args, sizes, machine_text))
        print(report(args, {size: sizes[size]}, machine_text).split("<details>")[0], flush=True)
    print(f"Written to {args.output}")


if __name__ == "__main__":
    sys.exit(main())
