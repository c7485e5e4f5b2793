"""`coffer serve --workers N` for real: its worker processes start with a bounded malloc arena count."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


def test_workers_of_a_multi_process_server_bound_glibc_malloc(tmp_path):
    port = _free_port()
    unset = ("MALLOC_ARENA_MAX", "MALLOC_MMAP_THRESHOLD_", "DATABASE_URL", "MEMCACHED_URL")
    env = {key: value for key, value in os.environ.items() if key not in unset}
    env.update(COFFER_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="coffer.settings",
               REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13"))  # /healthz never reaches it
    coffer = Path(sys.executable).with_name("coffer")
    subprocess.run([str(coffer), "migrate", "--noinput"], env=env, check=True, capture_output=True)
    server = subprocess.Popen([str(coffer), "serve", "--port", str(port), "--workers", "2"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.3)
        children = _children(server.pid)  # the two workers (and multiprocessing's helper)
        assert len(children) >= 2
        assert all(_environ(pid).get("MALLOC_ARENA_MAX") == "2" for pid in children)
        assert all(_environ(pid).get("MALLOC_MMAP_THRESHOLD_") == "131072" for pid in children)
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_several_workers_without_a_shared_cache_are_refused(tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "MEMCACHED_URL", "DATABASE_URL")}
    env.update(COFFER_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="coffer.settings")
    coffer = Path(sys.executable).with_name("coffer")
    result = subprocess.run([str(coffer), "serve", "--port", str(_free_port()), "--workers", "2"], env=env,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode != 0
    assert "--workers above 1 needs a cache the workers share: set REDIS_URL or MEMCACHED_URL" in result.stderr
