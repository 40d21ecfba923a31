"""Where an uncached request's time goes: pyinstrument over repeated requests, in process.

    DATABASE_URL=... REDIS_URL=... .venv/bin/python bench/profile.py [--requests 300] [PATH ...]

Runs the production profile's middleware and views through Django's test client (no network,
no gunicorn) against the database in DATABASE_URL, after one warm-up request per path, with
the cache bypass header so every request is rendered afresh. Prints pyinstrument's text
report per path; bench/bench.py --profile writes it into bench/results.md.
"""

import argparse
import os
import secrets
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
TOKEN = secrets.token_hex(16)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.update(
    {
        "DJANGO_ENV": "production",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "testserver,127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "API_THROTTLE_ANON": "off",
        "API_THROTTLE_USER": "off",
        # The per-client limit on uncached work (300 a minute) would refuse repeated runs.
        "API_THROTTLE_UNCACHED": "off",
        "API_CACHE_BYPASS_TOKEN": TOKEN,
        "LOG_LEVEL": "WARNING",
    }
)

import django  # noqa: E402

django.setup()

from django.test import Client  # noqa: E402
from pyinstrument import Profiler  # noqa: E402

DEFAULT_PATHS = [
    "/api/v1/products/?indication=sleep&dosage_form=capsule&min_elemental_mg=100"
    "&max_elemental_mg=300&ordering=-elemental_mg_per_day",
    "/api/v1/products/{gtin}/",
    "/api/v1/products/match/?indication=sleep,sport",
]


def profile(path: str, requests: int) -> str:
    client = Client(headers={"X-Cache-Bypass": TOKEN})
    warm = client.get(path)
    if warm.status_code != 200:
        raise SystemExit(f"{path} answered {warm.status_code}: {warm.content[:300]!r}")
    profiler = Profiler(interval=0.0005)
    with profiler:
        for _ in range(requests):
            client.get(path)
    text = profiler.output_text(unicode=True, color=False, show_all=False)
    return f"### {path} ({requests} requests)\n\n```\n{text}\n```\n"


def main(arguments=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("paths", nargs="*", default=DEFAULT_PATHS)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args(arguments)
    first = Client().get("/api/v1/products/?page_size=1").json()["results"]
    gtin = first[0]["gtin"] if first else "0"
    for path in args.paths:
        print(profile(path.replace("{gtin}", gtin), args.requests))


if __name__ == "__main__":
    main()
