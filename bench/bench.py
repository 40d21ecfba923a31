"""The catalogue benchmark: production profile, PostgreSQL, Redis, gunicorn, wrk.

For each size: generate the catalogue (or, with --reuse, keep the one a former run left),
start gunicorn (2 workers, DEBUG off, throttling off) and, when the checkout ships
config/varnish/default.vcl, varnishd in front of it; warm up, then measure every scenario in
interleaved rounds and keep the medians; then the hit ratio on product details and
compounds/ while bench/writer.py saves one product a second. Writes bench/results.md with
every target row per size. Only touches its own databases (``<--database>_<size>``), its
Redis database (--redis-db) under the key prefix ``bench``, and ports --port and --port + 1.
"""

import argparse
import datetime
import json
import os
import platform
import re
import secrets
import shutil
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
# Set from the command line in main(): --database, --redis-db, --port.
DATABASE = "formulary_bench"
PORT = 8105
BASE = f"http://127.0.0.1:{PORT}"
VARNISH_PORT = PORT + 1
VCL = ROOT / "config" / "varnish" / "default.vcl"
BYPASS_TOKEN = secrets.token_hex(16)
WEBSHOP_QUERY = (
    "indication=sleep&dosage_form=capsule&min_elemental_mg=100"
    "&max_elemental_mg=300&ordering=-elemental_mg_per_day"
)
LIST = f"/api/v1/products/?{WEBSHOP_QUERY}"
MATCH_QUERY = "indication=sleep,sport"
MATCH = f"/api/v1/products/match/?{MATCH_QUERY}"
BYPASS = {"X-Cache-Bypass": BYPASS_TOKEN}
FLOOR = "floor: /healthz"
# Measured again with one connection after the rounds: the request's own tail.
UNLOADED = {"the filtered list": LIST, "match/ sleep+sport": MATCH}
FACETS = f"{LIST}&facets=indication,compound,dosage_form,brand,vegan&count=true"
# The oldest page of the change log: the generator's writes, a hundred products to read.
CHANGES = "/api/v1/changes/?after=0-0&page_size=100"

ENVIRONMENT = {
    "DJANGO_ENV": "production",
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    # Plain HTTP on the loopback: there is no TLS proxy in front of the benchmark.
    "SECURE_SSL_REDIRECT": "false",
    "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
    "REDIS_URL": "redis://127.0.0.1:6379/5",
    "CACHE_KEY_PREFIX": "bench",
    "API_THROTTLE_ANON": "off",
    "API_THROTTLE_USER": "off",
    # match/ counts against the per-client uncached limit even when its answer is cached:
    # the benchmark's one client would be refused after 300 requests a minute.
    "API_THROTTLE_UNCACHED": "off",
    "API_CACHE_BYPASS_TOKEN": BYPASS_TOKEN,
    "WEB_CONCURRENCY": "2",
    # The floor runs at 3,000 requests a second: recycling after 20,000 restarted a worker
    # every few seconds, cold, in the middle of a measurement.
    "GUNICORN_MAX_REQUESTS": "0",
    # A socket per worker (gunicorn.conf.py): on one shared socket the first worker to wake
    # took all of wrk's eight connections in a quarter of the measurements, which then
    # measured one worker. Nothing here replaces a worker, so nothing is reset.
    "GUNICORN_REUSE_PORT": "true",
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


def use_database(name):
    global DATABASE
    DATABASE = name
    ENVIRONMENT["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{name}"


def generated_count():
    """Generated products in the current database, or None when it has no catalogue."""
    exists = psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'")
    if not exists:
        return None
    try:
        return int(psql("SELECT count(*) FROM products_product WHERE gtin LIKE '29%'", DATABASE))
    except subprocess.CalledProcessError:
        return None


def prepare(size, seed, reuse):
    """A database with ``size`` generated products: generated afresh (a new database: an old
    one may carry another branch's migrations), or with --reuse the one a former run left.

    Nothing is done by hand after the generator: no VACUUM or ANALYZE, so the benchmark
    measures what a user gets after ``generate_catalog`` (which analyses its tables).
    """
    if reuse and generated_count() == size:
        manage("migrate", "--noinput", "-v0")
        return None
    psql(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    psql(f"CREATE DATABASE {DATABASE}")
    manage("migrate", "--noinput", "-v0")
    manage("load_knowledge_base")
    started = time.monotonic()
    manage("generate_catalog", "--products", str(size), "--seed", str(seed), "--replace")
    return time.monotonic() - started


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


def wrk(path, headers, seconds, connections, threads, base=None):
    args = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    out = subprocess.run(
        [*args, (base or BASE) + path], capture_output=True, text=True, check=True
    ).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": to_ms(re.search(r"\s50%\s+(\S+)", out).group(1)),
        "p99": to_ms(re.search(r"\s99%\s+(\S+)", out).group(1)),
        "errors": int(errors.group(1)) if errors else 0,
    }


def settle(server, longest=120):
    """Waits until the database runs no query of the server's and its workers use no CPU:
    wrk stops at its timeout, but the requests it gave up on run on (the facets at 1M take
    longer) and would load the next measurement (at 1M they once took the floor from 3,000 to
    800 req/s)."""
    busy = (
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND state = 'active' AND pid <> pg_backend_pid()"
    )
    deadline = time.monotonic() + longest
    idle = 0
    used = workers_cpu_ticks(server)
    while idle < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
        before, used = used, workers_cpu_ticks(server)
        # A tick is 10 ms: an idle gthread worker spends a little on its heartbeat.
        quiet = used - before <= 2 and psql(busy, DATABASE) == "0"
        idle = idle + 1 if quiet else 0


def workers_cpu_ticks(server) -> int:
    """The CPU time (user and system, in clock ticks) gunicorn's workers have used so far."""
    pids = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(server.pid)], capture_output=True, text=True
    ).stdout.split()
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # a worker that has just exited
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime and stime, fields 14 and 15
    return ticks


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
        FLOOR: ("/healthz", {}),
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
# What wrk reports of a measurement, kept as the median of the rounds.
MEASURED = ("rps", "p50", "p99", "errors")


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


VARNISH_LOG = Path("/tmp/formulary-bench-varnish.log")


def start_varnish():
    """varnishd in front of gunicorn with the project's VCL (its backend pointed at the bench's
    server), or None where the project ships no VCL yet or varnishd is missing."""
    if not VCL.exists() or not shutil.which("varnishd"):
        return None
    vcl = Path(f"/tmp/formulary-bench-{PORT}.vcl")
    text = re.sub(r'(\.port\s*=\s*)"\d+"', rf'\1"{PORT}"', VCL.read_text(), count=1)
    vcl.write_text(re.sub(r'(\.host\s*=\s*)"[^"]+"', r'\1"127.0.0.1"', text, count=1))
    workdir = f"/tmp/formulary-bench-varnish-{VARNISH_PORT}"
    with VARNISH_LOG.open("w") as log:
        varnish = subprocess.Popen(
            [
                "varnishd",
                "-F",
                "-n",
                workdir,
                "-a",
                f"127.0.0.1:{VARNISH_PORT}",
                "-f",
                str(vcl),
                "-s",
                "malloc,256m",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    for _ in range(40):
        time.sleep(0.5)
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{VARNISH_PORT}/healthz", timeout=5)
            return varnish
        except OSError:
            continue
    varnish.kill()
    raise SystemExit("varnishd did not start: " + VARNISH_LOG.read_text()[-2000:])


def stop(process):
    if process is not None:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def hit_ratio(base, paths, seconds, writes_to):
    """Reads ``paths`` in turn for ``seconds`` while bench/writer.py saves one of the
    ``writes_to`` products per second; the share of answers that came from a cache: Django's
    (``X-App-Cache: hit``) or, through Varnish, the edge's (``Age`` above 0 or two ids in
    ``X-Varnish``)."""
    writer = subprocess.Popen(
        [PYTHON, "bench/writer.py", str(seconds), *writes_to],
        cwd=ROOT,
        env=env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    hits = total = errors = 0
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        for path in paths:
            request = urllib.request.Request(base + path)
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    headers = response.headers
                    response.read()
            except OSError:
                errors += 1
                continue
            total += 1
            edge_hit = (
                int(headers.get("Age") or 0) > 0
                or len((headers.get("X-Varnish") or "").split()) > 1
            )
            hits += headers.get("X-App-Cache") == "hit" or edge_hit
    out, _ = writer.communicate(timeout=120)
    return {
        "ratio": hits / total if total else 0,
        "reads": total,
        "writes": int(out.strip() or 0),
        "errors": errors,
    }


def measure(size, args):
    server = start_server()
    varnish = None
    extra = {}
    try:
        found, notes = scenarios(size)
        varnish = start_varnish()
        if varnish is None:
            notes.append(
                "No Varnish leg: "
                + (
                    "config/varnish/default.vcl is not in this checkout."
                    if not VCL.exists()
                    else "varnishd is not installed."
                )
            )
        else:
            edge = f"http://127.0.0.1:{VARNISH_PORT}"
            for name, path in (
                ("compounds/", "/api/v1/compounds/"),
                ("products/{gtin}/", found["products/{gtin}/ uncached"][0]),
            ):
                # As a webshop's HTTP client asks: compressed (the edge keeps answers so).
                found[f"{name} through Varnish"] = (path, {"Accept-Encoding": "gzip"}, edge)
        print(f"   warming up {len(found)} scenarios", flush=True)
        for scenario in found.values():  # warm-up: connections, caches, code paths
            wrk(*scenario[:2], args.warmup, args.connections, args.threads, *scenario[2:])
        rounds = {name: [] for name in found}
        for number in range(1, args.rounds + 1):
            for name, scenario in found.items():
                settle(server)
                floor_before = None
                if name != FLOOR and args.paired_floor:
                    floor_before = wrk(
                        *found[FLOOR][:2], args.paired_floor, args.connections, args.threads
                    )["rps"]
                    settle(server)
                result = wrk(
                    *scenario[:2], args.duration, args.connections, args.threads, *scenario[2:]
                )
                rounds[name].append({**result, "floor before": floor_before})
                print(
                    f"   round {number}/{args.rounds}  {name}: {result['rps']:.0f} req/s, "
                    f"p99 {result['p99']:.1f} ms"
                    + (f", floor just before {floor_before:.0f}" if floor_before else ""),
                    flush=True,
                )
        settle(server)
        # One connection: a request's own tail, without the queueing that wrk's eight
        # connections on two cores add to every p99 above (and that a busy machine varies).
        unloaded = {}
        for name, path in UNLOADED.items():
            p99s = [wrk(path, BYPASS, args.duration, 1, 1)["p99"] for _ in range(args.rounds)]
            unloaded[name] = statistics.median(p99s)
            print(f"   unloaded p99 of {name}: {unloaded[name]:.1f} ms", flush=True)
        reads, writes_to = hit_ratio_targets()
        extra["hit ratio"] = hit_ratio(BASE, reads, args.hit_seconds, writes_to)
        print(f"   hit ratio while writing: {extra['hit ratio']}", flush=True)
        if varnish is not None:
            edge = f"http://127.0.0.1:{VARNISH_PORT}"
            extra["hit ratio through Varnish"] = hit_ratio(edge, reads, args.hit_seconds, writes_to)
            print(f"   through Varnish: {extra['hit ratio through Varnish']}", flush=True)
        rss = worker_rss_mb(server)
    finally:
        stop(varnish)
        stop_server(server)
    errors = server_errors()
    if errors:
        notes.append(
            f"The server logged {len(errors)} errors (see {SERVER_LOG}), the first: "
            f"`{errors[0][:200]}`"
        )
    # Each round's req/s beside the median: the machine is shared, and one round can halve.
    medians = {
        name: {
            **{key: statistics.median(r[key] for r in runs) for key in MEASURED},
            "rounds": [r["rps"] for r in runs],
            "paired": [r["rps"] / r["floor before"] for r in runs if r["floor before"]],
        }
        for name, runs in rounds.items()
    }
    return medians, unloaded, rss, notes, extra


HIT_RATIO_DETAILS = 20


def hit_ratio_targets():
    """The reads of the hit-ratio scenario (product details and compounds/) and the products
    the writer saves meanwhile: other products than those read."""
    page = json.loads(fetch(f"/api/v1/products/?page_size={2 * HIT_RATIO_DETAILS}")[2])
    gtins = [row["gtin"] for row in page["results"]]
    reads = [f"/api/v1/products/{gtin}/" for gtin in gtins[:HIT_RATIO_DETAILS]]
    return [*reads, "/api/v1/compounds/"], gtins[HIT_RATIO_DETAILS:]


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


TARGETS = [
    # (target, request, share of the floor it must reach)
    ("filtered list, uncached", "products/ filtered, uncached", 0.15),
    ("product detail, uncached", "products/{gtin}/ uncached", 0.30),
    ("match/ two indications, uncached", "products/match/ sleep+sport, uncached", 0.08),
    ("cache hit (filtered list)", "products/ filtered, cache hit", 0.60),
    ("cached read through Varnish (compounds/)", "compounds/ through Varnish", 5.0),
    ("cached read through Varnish (products/{gtin}/)", "products/{gtin}/ through Varnish", 5.0),
]


def share(medians, name):
    """The scenario's req/s as a share of the floor's: the median of each round's ratio to the
    floor measured just before it (--paired-floor), else the ratio of the two medians.

    Pairing each round with its own floor keeps a round the shared machine slowed from
    counting against a floor measured while it was quiet, or the other way round."""
    if name not in medians:
        return None
    if medians[name]["paired"]:
        return statistics.median(medians[name]["paired"])
    return medians_share(medians, name)


def medians_share(medians, name):
    """The ratio of the scenario's median req/s to the floor's."""
    floor = medians[FLOOR]["rps"]
    if name not in medians or not floor:
        return None
    return medians[name]["rps"] / floor


def percent(value):
    return "not measured" if value is None else f"{value:.0%}"


def targets_table(sizes):
    """Every target row at every size measured, from this run."""
    measured = list(sizes)
    head = " | ".join(f"{size:,}" for size in measured)
    lines = [
        f"| target | {head} | target |",
        "|---|" + "---:|" * len(measured) + "---|",
    ]
    for label, name, target in TARGETS:
        values = [share(sizes[size][1], name) for size in measured]
        cells = " | ".join(
            percent(v) + ("" if v is None else " ✓" if v >= target else " ✗") for v in values
        )
        wanted = f"≥ {target:.0%} of the floor" if target < 1 else f"≥ {target:.0f} x the floor"
        lines.append(f"| {label} | {cells} | {wanted} |")
    first = measured[0]
    for label, p99 in (
        (
            "match/ p99 under load (against the smallest size)",
            {s: sizes[s][1]["products/match/ sleep+sport, uncached"]["p99"] for s in measured},
        ),
        (
            "match/ p99 unloaded, 1 connection (against the smallest size)",
            {s: sizes[s][2]["match/ sleep+sport"] for s in measured},
        ),
    ):
        cells = " | ".join(
            f"{p99[size]:.1f} ms ({p99[size] / p99[first]:.2f} x)"
            + (" ✓" if p99[size] <= 1.5 * p99[first] else " ✗")
            for size in measured
        )
        lines.append(f"| {label} | {cells} | ≤ 1.5 x at 1M vs 10k |")
    for key, label in (
        ("hit ratio", "hit ratio, details + compounds/, 1 write/s (Django cache)"),
        ("hit ratio through Varnish", "hit ratio, details + compounds/, 1 write/s (Varnish)"),
    ):
        values = [sizes[size][5].get(key) for size in measured]
        cells = " | ".join(
            "not measured"
            if v is None
            else f"{v['ratio']:.0%} ({v['reads']} reads, "
            f"{v['writes']} writes)" + (" ✓" if v["ratio"] >= 0.9 else " ✗")
            for v in values
        )
        lines.append(f"| {label} | {cells} | ≥ 90 % |")
    return lines


def report(args, sizes, machine_text, profile=""):
    lines = [
        "# Benchmark results",
        "",
        f"Run {datetime.datetime.now().strftime('%Y-%m-%d %H:%M')} on {machine_text}.",
        f"gunicorn 2 workers x 4 threads, production profile, PostgreSQL + Redis; wrk "
        f"{args.threads} threads x {args.connections} connections, {args.duration} s per "
        f"measurement, {args.rounds} interleaved rounds, medians; a share of the floor is the "
        f"median of each round's ratio to {args.paired_floor} s of `/healthz` measured just "
        "before it (with 0 s, the ratio of the medians). Filtered list: "
        f"`products/?{WEBSHOP_QUERY}`. Uncached requests carry the bench's `X-Cache-Bypass` "
        "token: rendered afresh and not stored. Reproduce: `bench/run --sizes "
        f"{','.join(str(size) for size in sizes)} --duration {args.duration} --rounds "
        f"{args.rounds} --paired-floor {args.paired_floor}`.",
        "",
        "## Targets",
        "",
        *targets_table(sizes),
        "",
    ]
    for size, (generated_s, medians, unloaded, rss, notes, extra, plans) in sizes.items():
        generated = (
            "Reused the catalogue a former run generated (--reuse)."
            if generated_s is None
            else f"Generated in {generated_s:.0f} s."
        )
        lines += [
            f"## {size:,} products",
            "",
            f"{generated} Unloaded p99 (1 connection): "
            + ", ".join(f"{name} **{p99:.1f} ms**" for name, p99 in unloaded.items())
            + ". Worker RSS after the run: "
            f"{', '.join(f'{mb} MB' for mb in rss)}.",
            "",
            "| request | req/s | each round | p50 ms | p99 ms | share of floor "
            "| each round's, of the floor just before | medians' ratio | non-2xx/3xx |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for name, m in medians.items():
            each_round = " / ".join(f"{rps:.0f}" for rps in m["rounds"])
            each_paired = " / ".join(percent(ratio) for ratio in m["paired"]) or "—"
            lines.append(
                f"| {name} | {m['rps']:.0f} | {each_round} | {m['p50']:.2f} | {m['p99']:.2f} | "
                f"{percent(share(medians, name))} | {each_paired} | "
                f"{percent(medians_share(medians, name))} | {m['errors']:.0f} |"
            )
        lines += [
            "",
            *[f"- {key}: {value}" for key, value in extra.items()],
            *[f"- {note}" for note in notes],
            "",
            "<details><summary>EXPLAIN ANALYZE</summary>",
            "",
            plans,
            "</details>",
            "",
        ]
    if profile:
        lines += ["## Profile (pyinstrument, in process, uncached)", "", profile]
    return "\n".join(lines)


def run_profile(requests):
    return run(
        PYTHON, "bench/profile.py", "--requests", str(requests), capture_output=True, text=True
    ).stdout


def main():
    global PORT, BASE, VARNISH_PORT
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
    parser.add_argument(
        "--paired-floor",
        type=int,
        default=2,
        help="seconds of /healthz measured just before each scenario in each round, the "
        "floor its share is taken against (0: the floor's median only)",
    )
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--hit-seconds", type=int, default=30, help="seconds of the hit-ratio scenario"
    )
    parser.add_argument(
        "--database",
        default=DATABASE,
        help="database name prefix: each size gets <prefix>_<size> (dropped and generated "
        "afresh unless --reuse)",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep a size's database when it holds that many generated products "
        "(a 1M catalogue takes a while to generate)",
    )
    parser.add_argument("--redis-db", type=int, default=5)
    parser.add_argument("--port", type=int, default=PORT, help="gunicorn; Varnish on port + 1")
    parser.add_argument(
        "--profile", type=int, default=0, help="requests per path for bench/profile.py (0: none)"
    )
    parser.add_argument("--output", default=str(ROOT / "bench" / "results.md"))
    args = parser.parse_args()
    PORT, VARNISH_PORT = args.port, args.port + 1
    BASE = f"http://127.0.0.1:{PORT}"
    ENVIRONMENT["GUNICORN_BIND"] = f"127.0.0.1:{PORT}"
    ENVIRONMENT["REDIS_URL"] = f"redis://127.0.0.1:6379/{args.redis_db}"
    if VCL.exists():
        # Purges by tag go to the bench's Varnish (the cache layer reads this variable).
        ENVIRONMENT["VARNISH_PURGE_URL"] = f"http://127.0.0.1:{VARNISH_PORT}/"
    machine_text = machine()
    sizes = {}
    sizes_asked = [int(s) for s in args.sizes.split(",")]
    per_size_s = (
        SCENARIO_COUNT * (args.warmup + args.rounds * (args.duration + args.paired_floor))
        + len(UNLOADED) * args.rounds * args.duration
        + 2 * args.hit_seconds
    )
    print(
        f"Measuring takes about {per_size_s / 60:.0f} min per size, plus generating the "
        "catalogue (about 30 s per 100,000 products on a quiet machine).",
        flush=True,
    )
    profile = ""
    for size in sizes_asked:
        use_database(f"{args.database}_{size}")
        print(f"== {size} products ({datetime.datetime.now():%H:%M})", flush=True)
        generated_s = prepare(size, args.seed, args.reuse)
        print(f"   generated in {generated_s or 0:.0f} s; measuring", flush=True)
        medians, unloaded, rss, notes, extra = measure(size, args)
        plans = explain()
        for table in sorted(set(re.findall(r"Seq Scan on (products_\w+)", plans))):
            notes.append(f"A plan below scans {table} sequentially.")
        sizes[size] = (generated_s, medians, unloaded, rss, notes, extra, plans)
        if args.profile and size == sizes_asked[-1]:
            profile = f"At {size:,} products.\n\n" + run_profile(args.profile)
        Path(args.output).write_text(report(args, sizes, machine_text, profile))
        print("\n".join(targets_table(sizes)), flush=True)
    print(f"Written to {args.output}")


if __name__ == "__main__":
    sys.exit(main())
