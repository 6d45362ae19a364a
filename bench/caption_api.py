"""Caption API under load: GET captions.vtt of a ready clip, ours vs static file servers.

Captions one clip on the embedded default (gunicorn + a Celery worker, then the worker is
stopped so it takes no CPU), copies its captions.vtt into a folder, and loads each server in
turn with ``wrk --latency`` (``--connections`` concurrent connections, same duration):

- ``python -m http.server`` serving that folder (reference),
- nginx serving that folder from a config of its own in a temp dir (reference, if installed),
- ours: gunicorn ``web:create_app()`` (gthread), each ``--web-workers`` count with each
  ``--web-threads`` count. Published caption files are answered by ``CaptionFastPath`` (plain
  WSGI, one indexed lookup, the file from memory); threads share one GIL per process, so on
  2 cores one thread per process gives the shortest tail (see bench/README.md).

Per server: requests/s, p50 and p99 latency for a plain GET, a conditional GET with the ETag it
sent (304 path) and a GET with ``Accept-Encoding: gzip``, each only where the server answers
that way. Headline: ours / reference ratios measured in the same run; the issue's target is
>= 1,000 requests/s with p99 < 50 ms at 64 connections. wrk runs on the same machine, so it
competes with the server for the CPUs; that holds for the references too.

    .venv/bin/python bench/caption_api.py [--duration 10] [--web-workers 2,3] [--web-threads 1,4]
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

import harness
import psutil
import requests

TARGET_RPS, TARGET_P99_MS = 1000.0, 50.0
WRK_HELP = ("wrk is not installed. It is a Debian package: `apt-get install -y wrk` (as root), "
            "or build it from https://github.com/wg/wrk; then run this again.")
UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


@dataclass
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    bad: int  # non-2xx/3xx answers plus socket errors
    mb_per_s: float
    cpu_ms_per_request: float | None = None  # the server's processes only, not wrk


@dataclass
class Server:
    name: str
    url: str  # the captions.vtt URL on this server
    reference: bool
    pid: int = 0  # the server's main process; its children are counted too
    status: dict[str, str] = field(default_factory=dict)  # case -> what a probe request showed
    loads: dict[str, Load] = field(default_factory=dict)  # case -> wrk figures


# ---- wrk -----------------------------------------------------------------------------------

def to_ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip()).groups()
    return float(number) * UNITS_MS[unit]


def to_mb(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)([KMG]?B)", text.strip()).groups()
    return float(number) * {"B": 1e-6, "KB": 1e-3, "MB": 1.0, "GB": 1e3}[unit] * 1.048576


def parse_wrk(out: str) -> Load:
    def find(pattern: str, default: str | None = None) -> str:
        found = re.search(pattern, out, re.MULTILINE)
        if found:
            return found.group(1)
        if default is None:
            raise RuntimeError(f"unexpected wrk output:\n{out}")
        return default

    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    bad = int(find(r"Non-2xx or 3xx responses: (\d+)", "0"))
    bad += sum(int(x) for x in errors.groups()) if errors else 0
    return Load(rps=float(find(r"^Requests/sec:\s+([\d.]+)")),
                p50_ms=to_ms(find(r"^\s+50%\s+(\S+)")), p99_ms=to_ms(find(r"^\s+99%\s+(\S+)")),
                requests=int(find(r"^\s+(\d+) requests in")), bad=bad,
                mb_per_s=round(to_mb(find(r"^Transfer/sec:\s+(\S+)")), 3))


def wrk(url: str, headers: dict[str, str], connections: int, threads: int,
        seconds: int) -> Load:
    cmd = ["wrk", "--latency", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s",
           "--timeout", "5s"]
    for name, value in headers.items():
        cmd += ["-H", f"{name}: {value}"]
    done = subprocess.run([*cmd, url], capture_output=True, text=True, timeout=seconds + 60)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed: {done.stderr.strip() or done.stdout.strip()}")
    return parse_wrk(done.stdout)


# ---- the cases -----------------------------------------------------------------------------

def cases(url: str, body: str) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """Probe the server once per case: the headers to load it with, where it answers that way,
    and a line per case saying what it answered."""
    plain = requests.get(url, timeout=10)
    status = {"GET": f"{plain.status_code}, {len(plain.content)} bytes, "
                     f"{plain.headers.get('Content-Type', '?')}"}
    if plain.status_code != 200 or plain.text != body:
        raise RuntimeError(f"{url} does not serve the captions: {status['GET']}")
    loads: dict[str, dict[str, str]] = {"GET": {}}
    etag = plain.headers.get("ETag")
    if etag:
        again = requests.get(url, headers={"If-None-Match": etag}, timeout=10)
        status["304"] = f"If-None-Match -> {again.status_code}"
        if again.status_code == 304:
            loads["304"] = {"If-None-Match": etag}
    else:
        status["304"] = "no ETag sent, so no If-None-Match path"
    zipped = requests.get(url, headers={"Accept-Encoding": "gzip"}, stream=True, timeout=10)
    encoding = zipped.headers.get("Content-Encoding", "none")
    size = len(zipped.raw.read())
    status["gzip"] = f"Content-Encoding {encoding}, {size} bytes on the wire"
    if encoding == "gzip":
        loads["gzip"] = {"Accept-Encoding": "gzip"}
    return loads, status


def measure(server: Server, body: str, args: argparse.Namespace) -> None:
    headers, server.status = cases(server.url, body)
    if args.warmup:  # imports, connection pools and caches are warm before anything counts
        wrk(server.url, {}, args.connections, args.wrk_threads, args.warmup)
    for case, extra in headers.items():
        harness.log(f"  {server.name}: {case} for {args.duration} s at {args.connections} "
                    "connections")
        before = cpu_seconds(server.pid)
        load = wrk(server.url, extra, args.connections, args.wrk_threads, args.duration)
        if server.pid and load.requests:
            load.cpu_ms_per_request = round(
                1000 * (cpu_seconds(server.pid) - before) / load.requests, 3)
        server.loads[case] = load


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children, so far."""
    if not pid:
        return 0.0
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for proc in procs:
        try:
            t = proc.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


# ---- servers -------------------------------------------------------------------------------

def ready_clip(procs: harness.Procs, clip: Path) -> tuple[str, str, str]:
    """Caption ``clip`` on the embedded default; returns the env's data dir, clip id and VTT."""
    env = harness.service_env(procs.folder / "data")
    harness.init_store(env)
    url = harness.start_web(procs, env, workers=1, threads=4, name="web-setup")
    harness.start_worker(procs, env)
    client = harness.Client(url, harness.producer_token(env))
    doc, _ = client.upload(clip)
    harness.log(f"captioning {clip.name} for the load test ...")
    client.wait_ready(doc["id"], every=0.5)
    body = client.captions(doc["id"]).text
    for proc in list(procs.started):
        procs.stop(proc)  # the worker (and its sweep) must not take CPU from the load test
    return env["CAPTIONER_DATA_DIR"], doc["id"], body


def static_folder(procs: harness.Procs, body: str) -> Path:
    folder = procs.folder / "static"
    folder.mkdir(exist_ok=True)
    folder.chmod(0o755)
    (folder / "captions.vtt").write_text(body, encoding="utf-8")
    return folder


def start_http_server(procs: harness.Procs, folder: Path) -> str:
    port = harness.free_port()
    proc = procs.start("http.server", [harness.PY, "-m", "http.server", str(port), "--bind",
                                       "127.0.0.1", "--directory", str(folder)])
    harness.wait_port(port, proc)
    return f"http://127.0.0.1:{port}/captions.vtt"


NGINX_CONF = """\
{user}worker_processes auto;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    types {{ text/vtt vtt; }}
    default_type application/octet-stream;
    charset utf-8;
    charset_types text/vtt;
    access_log off;
    sendfile on;
    etag on;
    gzip on;
    gzip_types text/vtt;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    server {{
        listen 127.0.0.1:{port} backlog=2048;
        root {root};
        add_header Cache-Control no-cache;
        add_header Access-Control-Allow-Origin *;
    }}
}}
"""


def start_nginx(procs: harness.Procs, folder: Path) -> str | None:
    binary = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.path.exists(p)), None)
    if binary is None:
        harness.log("nginx is not installed (apt-get install -y nginx); http.server only")
        return None
    prefix = procs.folder / "nginx"
    (prefix / "tmp").mkdir(parents=True, exist_ok=True)
    port = harness.free_port()
    conf = prefix / "nginx.conf"
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must read the temp folder
    conf.write_text(NGINX_CONF.format(user=user, prefix=prefix, port=port, root=folder))
    proc = procs.start("nginx", [binary, "-p", str(prefix), "-c", str(conf), "-e",
                                 str(prefix / "error.log")])
    harness.wait_port(port, proc)
    return f"http://127.0.0.1:{port}/captions.vtt"


# ---- report --------------------------------------------------------------------------------

def table(servers: list[Server]) -> list[str]:
    lines = [f"{'server':<28}{'case':<6}{'requests/s':>12}{'p50 ms':>9}{'p99 ms':>9}"
             f"{'MB/s':>8}{'errors':>8}{'CPU ms/req':>12}"]
    for s in servers:
        for case, load in s.loads.items():
            lines.append(f"{s.name:<28}{case:<6}{load.rps:>12.0f}{load.p50_ms:>9.2f}"
                         f"{load.p99_ms:>9.2f}{load.mb_per_s:>8.2f}{load.bad:>8}"
                         f"{harness.fmt(load.cpu_ms_per_request, '.3f'):>12}")
    lines += ["", "what each server answered (probe before loading):"]
    for s in servers:
        lines.append(f"  {s.name}: " + "; ".join(f"{k}: {v}" for k, v in s.status.items()))
    return lines


def ratio_lines(servers: list[Server]) -> list[str]:
    refs = [s for s in servers if s.reference]
    lines = [""]
    for ours in (s for s in servers if not s.reference):
        for case, load in ours.loads.items():
            for ref in refs:
                other = ref.loads.get(case)
                if other is None:
                    continue
                lines.append(f"{ours.name} / {ref.name} [{case}]: requests/s "
                             f"{load.rps / other.rps:.2f}, p50 {load.p50_ms / other.p50_ms:.2f}, "
                             f"p99 {load.p99_ms / other.p99_ms:.2f}")
    return lines


def target_lines(servers: list[Server], connections: int) -> list[str]:
    """The verdict for the configuration whose worst case (GET, 304, gzip) has the lowest p99."""
    ours = [s for s in servers if not s.reference and "GET" in s.loads]
    if not ours:
        return []
    best = min(ours, key=lambda s: max(load.p99_ms for load in s.loads.values()))
    lines = ["", f"best of ours: {best.name} (lowest worst-case p99) at {connections} connections"]
    for case, load in best.loads.items():
        ok = load.rps >= TARGET_RPS and load.p99_ms < TARGET_P99_MS and load.bad == 0
        lines.append(f"  {case:<4} {load.rps:6.0f} requests/s ({load.rps / TARGET_RPS:.2f} of the "
                     f"{TARGET_RPS:.0f} target), p99 {load.p99_ms:5.1f} ms "
                     f"({load.p99_ms / TARGET_P99_MS:.2f} of the {TARGET_P99_MS:.0f} ms limit): "
                     f"{harness.verdict(ok)}")
    missing = [case for case in ("304", "gzip") if case not in best.loads]
    if missing:
        lines.append(f"ours does not answer: {', '.join(missing)} "
                     "(see 'what each server answered')")
    return lines


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", type=Path, default=harness.SEED)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--warmup", type=int, default=2,
                        help="seconds of unrecorded load per server first (default 2)")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--web-workers", default="2,3", help="gunicorn worker counts")
    parser.add_argument("--web-threads", default="1,4",
                        help="gthread threads per worker, each tried with each worker count")
    parser.add_argument("--no-nginx", action="store_true")
    parser.add_argument("--keep", type=Path, default=None, help="keep data and logs here")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    args.web_workers = [int(x) for x in args.web_workers.split(",")]
    args.web_threads = [int(x) for x in args.web_threads.split(",")]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not shutil.which("wrk"):
        print(WRK_HELP)
        return 2
    servers: list[Server] = []
    with harness.processes(args.keep) as procs:
        data_dir, clip_id, body = ready_clip(procs, args.clip.resolve())
        env = harness.service_env(Path(data_dir))
        folder = static_folder(procs, body)
        path = f"/api/v1/clips/{clip_id}/captions.vtt"
        servers.append(Server("python -m http.server", start_http_server(procs, folder), True,
                              procs.started[-1].pid))
        nginx = None if args.no_nginx else start_nginx(procs, folder)
        if nginx:
            servers.append(Server("nginx", nginx, True, procs.started[-1].pid))
        for workers, threads in itertools.product(args.web_workers, args.web_threads):
            name = f"gunicorn {workers}w x {threads}t"
            url = harness.start_web(procs, env, workers, threads, name="web")
            servers.append(Server(f"ours ({name})", url + path, False, procs.started[-1].pid))
            measure(servers[-1], body, args)
            procs.stop(procs.started[-1])
        for ref in (s for s in servers if s.reference):
            measure(ref, body, args)
    print(f"GET captions.vtt ({len(body.encode())} bytes) of a ready clip, {args.connections} "
          f"connections, {args.duration} s per run, wrk -t{args.wrk_threads} on the same "
          f"{os.cpu_count()} CPUs")
    print("\n".join(table(servers) + ratio_lines(servers)
                    + target_lines(servers, args.connections)))
    harness.save_json(args.json, {
        "connections": args.connections, "duration_s": args.duration, "cpus": os.cpu_count(),
        "bytes": len(body.encode()), "targets": {"rps": TARGET_RPS, "p99_ms": TARGET_P99_MS},
        "servers": [{**asdict(s)} for s in servers],
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())
