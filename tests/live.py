"""Real processes for the tests that need them: a prepared database, gunicorn, manage.py.

The tests that use these run without pytest's test database: every process (the server's
workers, the management commands) talks to a database of its own that is made here.
"""

import fcntl
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Servers of the tests listen in this range (the first free port is taken); wide enough for
# two runs at once, each holding every port it used (see HELD_PORTS).
PORTS = range(8150, 8350)
# Variables of the developer's own set-up that must not leak into the processes.
OWN_VARIABLES = {
    "DATABASE_URL",
    "DATABASE_REPLICA_URL",
    "REDIS_URL",
    "CACHE_KEY_PREFIX",
    "DJANGO_ENV",
    "VARNISH_PURGE_URL",
    "API_CACHE_BYPASS_TOKEN",
}
# The ports this test process holds, each with its lock file open: two test runs at once (CI
# runs the SQLite and the PostgreSQL suites side by side) must never share a port, or one's
# readiness probe would be answered by the other's server.
HELD_PORTS: dict[int, object] = {}


def free_port(taken: set[int] = frozenset()) -> int:
    for port in PORTS:
        if port in taken:
            continue
        if port not in HELD_PORTS and not hold_port(port):
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"No free port in {PORTS.start}-{PORTS.stop - 1}.")


def hold_port(port: int) -> bool:
    """Takes ``port`` for this process's life, unless another test process holds it."""
    path = Path(tempfile.gettempdir()) / f"formulary-test-port-{port}.lock"
    lock = open(path, "w")  # noqa: SIM115 (held open while the process lives)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        lock.close()
        return False
    HELD_PORTS[port] = lock
    return True


def process_env(**variables: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in OWN_VARIABLES}
    return {
        **env,
        "DEBUG": "false",
        "API_THROTTLE_ANON": "off",
        "API_THROTTLE_USER": "off",
        "PYTHONUNBUFFERED": "1",
        **variables,
    }


def manage(*args: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result


def prepare_database(env: dict[str, str]) -> None:
    """Migrate and load the knowledge base and the demo catalogue, as `make demo` does."""
    manage("migrate", "--noinput", env=env)
    manage("load_knowledge_base", env=env)
    manage("load_demo_products", env=env)


def sqlite_database(folder: Path, template: Path | None = None) -> str:
    """A database file in ``folder`` (a copy of ``template`` when given) as a DATABASE_URL."""
    path = folder / f"live-{uuid.uuid4().hex[:8]}.sqlite3"
    if template is not None:
        shutil.copyfile(template, path)
    return f"sqlite:///{path}"


@contextmanager
def postgres_database(base_url: str):
    """A database of its own beside the one ``base_url`` names, dropped afterwards."""
    import psycopg

    parsed = urllib.parse.urlparse(base_url)
    name = f"{parsed.path.lstrip('/')}_live"
    admin_url = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield parsed._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def redis_forget(url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


class Server:
    """gunicorn with two workers (two processes, each with its own memory) on a free port."""

    def __init__(self, env: dict[str, str], workers: int = 2, port: int | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **env,
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "WEB_CONCURRENCY": str(workers),
        }
        self.process = None

    def __enter__(self):
        # A file, not a pipe: a pipe nobody reads would block the server once full.
        self.log = tempfile.TemporaryFile(mode="w+")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.log.seek(0)
                problem = self.log.read()[-3000:]
                self.log.close()
                raise AssertionError(f"gunicorn stopped:\n{problem}")
            try:
                self.get("/healthz")
                return self
            except OSError:
                time.sleep(0.2)
        raise AssertionError("gunicorn did not answer within 60 s.")

    def __exit__(self, *exc):
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()

    def get(self, path: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
        return request(f"{self.url}{path}", headers=headers)

    def json(self, path: str) -> dict:
        status, _, body = self.get(path)
        assert status == 200, (path, status, body[:500])
        return json.loads(body)


def request(
    url: str, *, method: str = "GET", headers: dict | None = None, body: bytes | None = None
) -> tuple[int, dict, bytes]:
    """Status, headers (lower-case names) and body; an HTTP error status is an answer too."""
    outgoing = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(outgoing, timeout=30) as response:
            return (
                response.status,
                {k.lower(): v for k, v in response.headers.items()},
                response.read(),
            )
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()
