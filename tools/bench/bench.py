#!/usr/bin/env python3
"""Side-by-side benchmark of Remora, HAProxy and nginx as reverse proxies (tools/bench/README.md).

One nginx backend; each proxy runs ONE worker in front of it; the same load generators (wrk,
h2load) drive every target, the backend itself included ("direct", the ceiling). Proxies are
pinned to one CPU, backend and load generator to another, and every repetition visits the targets
in a rotated order so that drift on a busy machine hits them all alike. Python 3 stdlib only.
"""

import argparse
import datetime
import http.client
import json
import math
import os
import platform
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NGINX_STREAM_MODULE = "/usr/lib/nginx/modules/ngx_stream_module.so"
SMALL_BODY = "hello, world\n"  # 13 bytes: the request/response cost dominates, not the copy
TARGETS = ["direct", "remora", "haproxy", "nginx"]
PROXIES = ["remora", "haproxy", "nginx"]
# --baseline PATH: a second Remora binary (an older build, say), started exactly like "remora"
# and measured as one more target under this name, right after "remora" in the rotation.
BASELINE = "remora-before"
STARTUP_TIMEOUT_S = 20
MIB = 1 << 20


class BenchError(Exception):
    """A failure that makes the measurement meaningless: reported, and the run exits non-zero."""


# --------------------------------------------------------------------------------------------
# Scenarios. Each has its full-run and smoke-run load; the smoke load is small because the test
# suite only asks "does every path work", on a machine that may be busy with other tests.
# --------------------------------------------------------------------------------------------

# Metric columns: key in a sample, label, which direction is better (None: no ratio), format.
RPS = ("rps", "req/s", "higher", "{:,.0f}")
P50 = ("p50_us", "p50 µs", "lower", "{:,.0f}")
P99 = ("p99_us", "p99 µs", "lower", "{:,.0f}")
P999 = ("p99_9_us", "p99.9 µs", "lower", "{:,.0f}")
MIBS = ("mib_s", "MiB/s", "higher", "{:,.1f}")
CPU = ("cpu_s_per_1k_req", "CPU s/1k req", "lower", "{:.4f}")
CPU_GIB = ("cpu_s_per_gib", "CPU s/GiB", "lower", "{:.3f}")
ADDED_P50 = ("added_p50_us", "added p50 µs", None, "{:+,.0f}")
ADDED_P99 = ("added_p99_us", "added p99 µs", None, "{:+,.0f}")
ERRORS = ("errors", "errors", None, "{:,.0f}")

def keepalive(conns, smoke_conns):
    return dict(
        tool="wrk", path="/small", listener="http", conns=conns, smoke_conns=smoke_conns,
        what="HTTP/1.1 keep-alive, {conns} connections, 13-byte responses, as fast as possible",
        columns=[RPS, P50, P99, P999, CPU, ERRORS])


SCENARIOS = {
    "keepalive-64": keepalive(64, 4),
    "keepalive-256": keepalive(256, 8),
    "fixed-rate": dict(
        tool="h2load", path="/small", listener="http", conns=16, smoke_conns=4,
        what="HTTP/1.1 at a fixed {rate:,} req/s in total over {conns} connections, well below "
             "saturation (h2load --rps); latency of every request",
        columns=[RPS, P50, P99, P999, ADDED_P50, ADDED_P99, CPU, ERRORS]),
    "new-connection": dict(
        tool="wrk", path="/small", listener="http", conns=64, smoke_conns=4,
        headers=["Connection: close"],
        what="a new TCP connection per request (Connection: close), {conns} at a time",
        columns=[RPS, P50, P99, CPU, ERRORS]),
    "1mib-responses": dict(
        tool="wrk", path="/1m", listener="http", conns=16, smoke_conns=2,
        what="1 MiB responses over HTTP/1.1 keep-alive, {conns} connections",
        columns=[RPS, MIBS, P99, CPU, CPU_GIB, ERRORS]),
    "tcp-bulk": dict(
        tool="wrk", path="/16m", listener="tcp", conns=8, smoke_conns=2,
        what="16 MiB HTTP responses through each proxy's plain TCP proxy listener, {conns} "
             "connections",
        columns=[MIBS, RPS, CPU_GIB, CPU, ERRORS]),
}

# wrk reports through this script: one JSON line instead of its rounded, unit-switching text.
WRK_SCRIPT = r"""
-- Written by tools/bench/bench.py. Prints the run as one line, "BENCH_JSON {...}".
-- wrk itself counts only status >= 400 as errors. With BENCH_WRK_STRICT=1 (smoke runs) every
-- non-2xx response is counted too; that needs response(), which makes wrk hand each response,
-- body included, to Lua: too costly for the load generator in measured runs.
local threads = {}
local strict = os.getenv("BENCH_WRK_STRICT") == "1"

function setup(thread)
  table.insert(threads, thread)
end

if strict then
  non2xx = 0
  function response(status, headers, body)
    if status < 200 or status > 299 then
      non2xx = non2xx + 1
    end
  end
end

function done(summary, latency, requests)
  local n = -1
  if strict then
    n = 0
    for _, t in ipairs(threads) do
      n = n + (t:get("non2xx") or 0)
    end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %.0f, "duration_us": %.0f, "bytes": %.0f, ' ..
    '"errors": {"connect": %.0f, "read": %.0f, "write": %.0f, "timeout": %.0f, ' ..
    '"status": %.0f}, "non2xx": %.0f, ' ..
    '"latency_us": {"p50": %.1f, "p99": %.1f, "p99_9": %.1f, "max": %.1f}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.timeout, e.status, n,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9), latency.max))
end
"""


# --------------------------------------------------------------------------------------------
# Processes: every process started here is recorded, so that any way out (error, Ctrl-C,
# SIGTERM) ends them all and nothing is left listening or loading the machine.
# --------------------------------------------------------------------------------------------

def session_members(sid):
    """PIDs still in session `sid` (started with start_new_session, so sid = leader's pid)."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid:  # fields after "comm)": state ppid pgrp session ...
            members.append(int(entry))
    return members


class Processes:
    def __init__(self):
        self.live = []  # [name, Popen, own_session, log_path, grace_s]

    def start(self, name, argv, log_path=None, own_session=True, grace_s=5.0, **kwargs):
        # Own session: Ctrl-C on the terminal reaches only bench.py, which then stops everything
        # in order, and a whole process tree (nginx master and worker) is ended by its id.
        log = open(log_path, "wb") if log_path else subprocess.DEVNULL
        try:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=kwargs.pop("stdout", log),
                                 stderr=kwargs.pop("stderr", subprocess.STDOUT if log_path else
                                                   subprocess.DEVNULL),
                                 start_new_session=own_session, **kwargs)
        except OSError as e:
            raise BenchError(f"cannot start {name} ({argv[0]}): {e}") from None
        finally:
            if log_path:
                log.close()
        self.live.append([name, p, own_session, log_path, grace_s])
        return p

    def stop(self, p):
        """SIGTERM, then SIGKILL for whatever is left after the process's grace period."""
        entry = next((e for e in self.live if e[1] is p), None)
        if entry is None:
            return
        self.live.remove(entry)
        own_session, grace_s = entry[2], entry[4]

        def signal_all(sig):
            if own_session:
                # The leader may already be gone while its children (nginx workers) are not.
                for pid in ([p.pid] if p.poll() is None else []) + session_members(p.pid):
                    try:
                        os.kill(pid, sig)
                    except ProcessLookupError:
                        pass
            elif p.poll() is None:
                p.send_signal(sig)

        signal_all(signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline:
            if p.poll() is not None and not (own_session and session_members(p.pid)):
                return
            time.sleep(0.02)
        signal_all(signal.SIGKILL)
        p.wait()

    def stop_all(self):
        for entry in reversed(list(self.live)):
            self.stop(entry[1])

    def check_alive(self, names):
        for name, p, _, log_path, _ in self.live:
            if name in names and p.poll() is not None:
                how = (f"was killed by {signal.Signals(-p.returncode).name}"
                       if p.returncode < 0 else f"exited with status {p.returncode}")
                raise BenchError(f"{name} {how}; its command: "
                                 f"{shlex.join(p.args)}" + log_tail(log_path))


def log_tail(path, lines=15):
    if not path or not os.path.exists(path):
        return ""
    with open(path, errors="replace") as f:
        tail = f.read().splitlines()[-lines:]
    if not tail:
        return f"; {path} is empty"
    return f"; last lines of {path}:\n  " + "\n  ".join(tail)


def run_tool(procs, name, argv, timeout_s, env=None):
    """Runs a load generator to completion; returns its stdout. Registered like the servers so
    that Ctrl-C mid-run does not leave it behind."""
    p = procs.start(name, argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        out, err = p.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        procs.stop(p)
        raise BenchError(f"{name} did not finish within {timeout_s:.0f} s: {shlex.join(argv)}")
    finally:
        procs.stop(p)
    if p.returncode != 0:
        raise BenchError(f"{name} failed (exit {p.returncode}): {shlex.join(argv)}\n"
                         f"{err.decode(errors='replace').strip()}")
    return out.decode(errors="replace")


def free_port():
    # The kernel picks an unused port; closing it leaves a tiny race with other programs, far
    # smaller than with any fixed port (other work on this machine listens on fixed ones).
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(port, path, timeout_s=2.0):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout_s)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def wait_until(procs, what, names, check, timeout_s=STARTUP_TIMEOUT_S):
    """Polls check() until true. Fails at once if a process it depends on died, rather than
    waiting for what will never come, and with the last error at the deadline."""
    deadline = time.monotonic() + timeout_s
    last = "no answer yet"
    while True:
        try:
            procs.check_alive(names)
        except BenchError as e:
            raise BenchError(f"while waiting for {what}: {e}") from None
        try:
            if check():
                return
        except (OSError, http.client.HTTPException) as e:  # not listening or not proxying yet
            last = str(e) or type(e).__name__
        if time.monotonic() > deadline:
            raise BenchError(f"timed out after {timeout_s} s waiting for {what} ({last})")
        time.sleep(0.02)


def answers_small(port):
    status, body = http_get(port, "/small")
    return status == 200 and body == SMALL_BODY.encode()


def cpu_seconds(pid):
    """utime + stime of a process and its children (nginx: master + worker), all threads."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    pids = [pid] + [m for m in session_members(pid) if m != pid]
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15 of stat)
    return total / tick


def rss_kib(pid):
    total = 0
    for p in [pid] + [m for m in session_members(pid) if m != pid]:
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


# --------------------------------------------------------------------------------------------
# Configurations. Every server gets the settings a performance-minded operator would give it
# for this job, and nothing that favours one: one worker, upstream keep-alive, no access logs.
# --------------------------------------------------------------------------------------------

def nginx_temp_paths(work, name):
    # Debian's nginx defaults these to /var/lib/nginx; keep every file this run makes in the work
    # dir, so parallel runs cannot meet.
    return "\n".join(f"  {d}_temp_path {work}/{name}-{d}-temp;"
                     for d in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))


def nginx_preamble(work, name):
    """What the backend's and the proxy's nginx configs share: one worker, files in the work dir,
    no access log, keep-alive connections that are never cut by request count."""
    return f"""daemon off;
worker_processes 1;
worker_rlimit_nofile 16384;
pid {work}/{name}.pid;
error_log {work}/{name}.error.log warn;
events {{ worker_connections 8192; }}
http {{
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 120s;
{nginx_temp_paths(work, name)}
"""


def backend_conf(work, port):
    return f"""# The backend every target is measured against; generated by tools/bench/bench.py.
{nginx_preamble(work, "backend")}  sendfile on;
  tcp_nopush on;
  default_type application/octet-stream;
  server {{
    listen 127.0.0.1:{port} backlog=4096;
    root {work}/www;
    location = /small {{
      default_type text/plain;
      return 200 "{SMALL_BODY.strip()}\\n";
    }}
  }}
}}
"""


def nginx_proxy_conf(work, port, tcp_port, backend):
    # The stream module ships as a dynamic module on Debian; a build with it compiled in has no
    # file to load.
    load = f"load_module {NGINX_STREAM_MODULE};\n" if os.path.exists(NGINX_STREAM_MODULE) else ""
    return f"""# nginx as the reverse proxy under test; generated by tools/bench/bench.py.
{load}{nginx_preamble(work, "nginx")}  upstream backend {{
    server 127.0.0.1:{backend};
    keepalive 256;
    keepalive_requests 1000000;
  }}
  server {{
    listen 127.0.0.1:{port} backlog=4096;
    location / {{
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      # Buffering in memory is nginx's normal mode, but a response that outruns its buffers
      # would spill to a temp file: the other two proxies never touch disk, so neither does it.
      proxy_max_temp_file_size 0;
    }}
  }}
}}
stream {{
  server {{
    listen 127.0.0.1:{tcp_port} backlog=4096;
    proxy_pass 127.0.0.1:{backend};
  }}
}}
"""


def haproxy_conf(port, tcp_port, backend):
    # maxconn 4096: 10000 needs more descriptors than the 20000 this machine allows.
    return f"""# HAProxy as the reverse proxy under test; generated by tools/bench/bench.py.
global
  nbthread 1
  maxconn 4096

defaults
  mode http
  option http-keep-alive
  http-reuse always
  timeout connect 5s
  timeout client 120s
  timeout server 120s
  timeout http-keep-alive 120s

frontend http_in
  bind 127.0.0.1:{port}
  default_backend http_backend

backend http_backend
  server s1 127.0.0.1:{backend}

frontend tcp_in
  mode tcp
  bind 127.0.0.1:{tcp_port}
  default_backend tcp_backend

backend tcp_backend
  mode tcp
  server s1 127.0.0.1:{backend}
"""


def remora_conf(port, tcp_port, backend):
    # The admin port is 0 (the kernel's pick, read back from --admin-address-path): no race.
    return f"""# Remora as the reverse proxy under test; generated by tools/bench/bench.py.
admin: {{address: {{socket_address: {{address: 127.0.0.1, port_value: 0}}}}}}
static_resources:
  listeners:
  - name: http
    address: {{socket_address: {{address: 127.0.0.1, port_value: {port}}}}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: {{prefix: "/"}}
                route: {{cluster: backend}}
          http_filters:
          - name: envoy.filters.http.router
            typed_config: {{"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}}
  - name: tcp
    address: {{socket_address: {{address: 127.0.0.1, port_value: {tcp_port}}}}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: tcp
          cluster: backend
  clusters:
  - name: backend
    connect_timeout: 1s
    load_assignment:
      cluster_name: backend
      endpoints:
      - lb_endpoints:
        - endpoint: {{address: {{socket_address: {{address: 127.0.0.1, port_value: {backend}}}}}}}
"""


# --------------------------------------------------------------------------------------------
# The bench.
# --------------------------------------------------------------------------------------------

class Bench:
    def __init__(self, args):
        self.args = args
        self.procs = Processes()
        self.targets, self.proxies = list(TARGETS), list(PROXIES)
        if args.baseline:
            for names in (self.targets, self.proxies):
                names.insert(names.index("remora") + 1, BASELINE)
        self.work = None
        self.servers = {}  # target -> dict(proc, http_port, tcp_port, log)
        self.results = {"meta": {}, "scenarios": {}, "problems": [], "warnings": []}
        self.proxy_cpu = self.load_cpu = None
        self.taskset = {}
        self.config_scale_started = None

    # ---- setup ----

    def pin(self, role, argv):
        return self.taskset.get(role, []) + argv

    def choose_cpus(self):
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) >= 2 and shutil.which("taskset"):
            # Proxies alone on one CPU; the backend and the load generator share the other, so
            # a proxy never competes with the traffic it is measured on.
            self.proxy_cpu, self.load_cpu = cpus[0], cpus[1]
            self.taskset = {"proxy": ["taskset", "-c", str(self.proxy_cpu)],
                            "load": ["taskset", "-c", str(self.load_cpu)]}
            return (f"proxies on CPU {self.proxy_cpu}; backend and load generator on CPU "
                    f"{self.load_cpu} (taskset)")
        return (f"NOT pinned: only {len(cpus)} CPU available, so proxies, backend and load "
                "generator share it and the figures understate every proxy")

    def start_backend(self):
        port = free_port()
        www = os.path.join(self.work, "www")
        os.mkdir(www)
        # Random bytes: nothing on the path can shortcut them by compression or caching tricks.
        for name, size in (("1m", MIB), ("16m", 16 * MIB)):
            with open(os.path.join(www, name), "wb") as f:
                f.write(os.urandom(size))
        conf = self.write("backend.conf", backend_conf(self.work, port))
        log = os.path.join(self.work, "backend.log")
        p = self.procs.start("backend", self.pin("load", ["nginx", "-c", conf, "-p", self.work]),
                             log)
        self.servers["direct"] = dict(proc=p, http_port=port, tcp_port=port, log=log)
        wait_until(self.procs, "the nginx backend to answer GET /small", ["backend"],
                   lambda: answers_small(port))
        return port

    def start_proxy(self, name, backend):
        port, tcp_port = free_port(), free_port()
        log = os.path.join(self.work, f"{name}.log")
        admin_file = os.path.join(self.work, f"{name}.admin")
        is_remora = name in ("remora", BASELINE)
        if is_remora:
            # The baseline is started exactly like the binary under test: same configuration
            # (its own ports), same flags, same pinning.
            binary = self.args.remora if name == "remora" else self.args.baseline
            conf = self.write(f"{name}.yaml", remora_conf(port, tcp_port, backend))
            # --drain-time-s 1: on SIGTERM Remora drains for up to that long (default 600 s).
            argv = [binary, "-c", conf, "--concurrency", "1", "-l", "warn",
                    "--drain-time-s", "1", "--admin-address-path", admin_file]
        elif name == "haproxy":
            conf = self.write("haproxy.cfg", haproxy_conf(port, tcp_port, backend))
            argv = ["haproxy", "-db", "-f", conf]  # -db: foreground, one process
        else:
            conf = self.write("nginx.conf", nginx_proxy_conf(self.work, port, tcp_port, backend))
            argv = ["nginx", "-c", conf, "-p", self.work]
        p = self.procs.start(name, self.pin("proxy", argv), log)
        self.servers[name] = dict(proc=p, http_port=port, tcp_port=tcp_port, log=log)
        if is_remora:
            # /ready turns 200 once listeners and clusters are initialised. The admin address
            # file ("127.0.0.1:PORT") may not exist yet, or be half written.
            def ready():
                try:
                    with open(admin_file) as f:
                        admin_port = int(f.read().strip().rsplit(":", 1)[1])
                except (OSError, IndexError, ValueError):
                    return False
                return http_get(admin_port, "/ready")[0] == 200
            wait_until(self.procs, f"{name}'s admin GET /ready = 200", [name, "backend"], ready)
        # A proxy is ready when a request through each of its listeners reaches the backend.
        wait_until(self.procs, f"{name} to proxy GET /small (HTTP listener)", [name, "backend"],
                   lambda: answers_small(port))
        wait_until(self.procs, f"{name} to proxy GET /small (TCP listener)", [name, "backend"],
                   lambda: answers_small(tcp_port))

    def write(self, name, text):
        path = os.path.join(self.work, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    # ---- one run ----

    def load(self, scenario):
        spec = SCENARIOS[scenario]
        if self.args.smoke:
            return spec["smoke_conns"], self.args.rate if self.args.rate_given else 400
        return spec["conns"], self.args.rate

    def wrk_argv(self, spec, conns, seconds, port):
        argv = ["wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "--timeout", "5s",
                "-s", self.wrk_script]
        for h in spec.get("headers", []):
            argv += ["-H", h]
        return self.pin("load", argv + [f"http://127.0.0.1:{port}{spec['path']}"])

    def h2load_argv(self, spec, conns, rate, seconds, port, log_file=None):
        argv = ["h2load", "--h1", "-t1", f"-c{conns}", f"--rps={rate / conns:g}",
                f"-D{seconds}"]
        if log_file:
            argv.append(f"--log-file={log_file}")
        return self.pin("load", argv + [f"http://127.0.0.1:{port}{spec['path']}"])

    def measure(self, scenario, target):
        """One measured run of a scenario against a target; returns its sample."""
        spec = SCENARIOS[scenario]
        server = self.servers[target]
        port = server["tcp_port"] if spec["listener"] == "tcp" else server["http_port"]
        conns, rate = self.load(scenario)
        seconds = self.args.duration
        env = dict(os.environ, BENCH_WRK_STRICT="1" if self.args.smoke else "0")
        log_file = os.path.join(self.work, "h2load.log")
        if spec["tool"] == "wrk":
            argv = self.wrk_argv(spec, conns, seconds, port)
            warm = self.wrk_argv(spec, conns, self.args.warmup, port)
        else:
            argv = self.h2load_argv(spec, conns, rate, seconds, port, log_file)
            warm = self.h2load_argv(spec, conns, rate, self.args.warmup, port)
        # Warm-up as a separate, discarded run: connection pools fill and caches warm before the
        # CPU counters are read, which a tool's built-in warm-up would not keep out of them.
        if self.args.warmup > 0:
            run_tool(self.procs, spec["tool"], warm, self.args.warmup + 30, env)
        proc = server["proc"] if target != "direct" else None
        cpu_before = cpu_seconds(proc.pid) if proc else None
        out = run_tool(self.procs, spec["tool"], argv, seconds + 60, env)
        cpu = cpu_seconds(proc.pid) - cpu_before if proc else None
        self.procs.check_alive(["backend"] + self.proxies)

        if spec["tool"] == "wrk":
            sample = parse_wrk(out)
        else:
            sample = parse_h2load(out, log_file, seconds)
        sample.update(conns=conns, argv=shlex.join(argv))
        if spec["tool"] == "h2load":
            sample["target_rate"] = rate
        sample["cpu_s"] = cpu
        if cpu is not None and sample["requests"] > 0:
            # CPU seconds per 1,000 requests is also vCPU per 1,000 req/s: the same quotient.
            sample["cpu_s_per_1k_req"] = cpu / (sample["requests"] / 1000)
        if cpu is not None and sample["bytes"] > 0 and CPU_GIB in spec["columns"]:
            sample["cpu_s_per_gib"] = cpu / (sample["bytes"] / (1 << 30))
        return sample

    # ---- the whole bench ----

    def run(self):
        a = self.args
        self.work = tempfile.mkdtemp(prefix="remora-bench.")
        # nginx workers run as "nobody" when started by root: they must read the served files.
        os.chmod(self.work, 0o755)
        self.wrk_script = self.write("report.lua", WRK_SCRIPT)
        pinning = self.choose_cpus()
        print(f"bench: work dir {self.work}; {pinning}")

        backend = self.start_backend()
        for name in self.proxies:
            self.start_proxy(name, backend)
        self.results["meta"] = self.meta(pinning)
        print("bench: all targets answer; RSS after start: " + ", ".join(
            f"{t} {self.results['meta']['rss_after_start_kib'][t] / 1024:.1f} MiB"
            for t in self.proxies))

        for scenario in a.scenarios:
            self.run_scenario(scenario)

        self.results["meta"]["loadavg_end"] = read_first_line("/proc/loadavg")
        self.results["meta"]["finished"] = now_utc()

    def run_scenario(self, scenario):
        a = self.args
        conns, rate = self.load(scenario)
        entry = {"what": SCENARIOS[scenario]["what"].format(conns=conns, rate=rate),
                 "samples": {t: [] for t in self.targets},
                 "order": []}
        self.results["scenarios"][scenario] = entry
        for rep in range(a.repeat):
            # Rotated order: over the repetitions each target runs early and late alike, so a
            # slow drift (a compile starting, thermal limits) does not favour one of them.
            targets = self.targets
            order = targets[rep % len(targets):] + targets[:rep % len(targets)]
            entry["order"].append(order)
            for target in order:
                sample = self.measure(scenario, target)
                sample["repetition"] = rep + 1
                entry["samples"][target].append(sample)
                self.check_sample(scenario, target, sample)
                width = max(8, *map(len, self.targets))  # 8 unless remora-before runs
                print(f"  {scenario} [{rep + 1}/{a.repeat}] {target:{width}} " +
                      describe(sample), flush=True)
        entry["median"] = {t: medians(entry["samples"][t]) for t in self.targets}
        add_derived(scenario, entry["median"])
        print()
        print(text_table(scenario, entry))
        print()

    def check_sample(self, scenario, target, s):
        where = f"{scenario} / {target} (repetition {s['repetition']})"
        if s["ok_requests"] <= 0:
            self.results["problems"].append(f"{where}: no successful request")
        elif s["errors"] > 0:
            msg = f"{where}: {s['errors']:.0f} errors {s['error_detail']}"
            # Smoke runs are the test suite's check that every path works; full runs report
            # errors beside the figures (a proxy shedding load at saturation is information).
            (self.results["problems"] if self.args.smoke else self.results["warnings"]).append(msg)

    def meta(self, pinning):
        a = self.args
        rss = {t: rss_kib(self.servers[t]["proc"].pid) for t in self.proxies}
        meta = {
            "date": now_utc(),
            "command": os.environ.get("REMORA_BENCH_COMMAND") or shlex.join(
                ["tools/bench/bench.py"] + sys.argv[1:]),
            "nproc": os.cpu_count(),
            "cpu_model": cpu_model(),
            "kernel": platform.release(),
            "loadavg_start": read_first_line("/proc/loadavg"),
            "pinning": pinning,
            "versions": {
                "remora": version([a.remora, "--version"]),
                "haproxy": version(["haproxy", "-v"]),
                "nginx": version(["nginx", "-v"]),
                "wrk": version(["wrk", "-v"]),
                "h2load": version(["h2load", "--version"]),
            },
            "remora_path": a.remora,
            "duration_s": a.duration, "warmup_s": a.warmup, "repeat": a.repeat,
            "fixed_rate_total_req_s": self.load("fixed-rate")[1],
            "smoke": a.smoke,
            "rss_after_start_kib": rss,
        }
        if a.baseline:  # only then: without --baseline the output is as it always was
            meta["versions"][BASELINE] = version([a.baseline, "--version"])
            meta["baseline_path"] = a.baseline
        return meta

    # ---- config scale (another script, Remora alone) ----

    def run_config_scale(self):
        a = self.args
        script = os.path.join(TOP, "tools", "bench", "config_scale.py")
        if not os.path.exists(script):
            msg = "config scale skipped: tools/bench/config_scale.py does not exist yet"
            print(f"bench: {msg}")
            self.results["config_scale"] = {"skipped": msg}
            return True
        argv = [sys.executable, script, "--remora", a.remora, "--mock-cp",
                os.path.join(os.path.dirname(a.remora), "remora-mock-cp"), "--out", a.out]
        if a.smoke:
            argv.append("--smoke")
        os.makedirs(a.out, exist_ok=True)
        print(f"\nbench: config scale: {shlex.join(argv)}", flush=True)
        # Same session as bench.py: Ctrl-C reaches it directly and it cleans up after itself,
        # which may take a while (several servers of its own), hence the long grace period.
        self.config_scale_started = time.time()
        p = self.procs.start("config_scale.py", argv, own_session=False, grace_s=30,
                             stdout=None, stderr=None)
        code = p.wait()
        self.procs.stop(p)
        self.results["config_scale"] = {"command": shlex.join(argv), "exit_status": code}
        if code != 0:
            self.results["problems"].append(f"config_scale.py failed (exit {code})")
        return code == 0


# --------------------------------------------------------------------------------------------
# Parsing and statistics.
# --------------------------------------------------------------------------------------------

def parse_wrk(out):
    line = next((l for l in out.splitlines() if l.startswith("BENCH_JSON ")), None)
    if line is None:
        raise BenchError(f"wrk printed no BENCH_JSON line:\n{out}")
    r = json.loads(line[len("BENCH_JSON "):])
    seconds = r["duration_us"] / 1e6
    e = r["errors"]
    # wrk's "status" counts responses >= 400; the strict count (smoke) covers every non-2xx.
    bad_status = max(e["status"], r["non2xx"])
    errors = e["connect"] + e["read"] + e["write"] + e["timeout"] + bad_status
    return {
        "requests": r["requests"], "duration_s": seconds, "bytes": r["bytes"],
        "rps": r["requests"] / seconds, "mib_s": r["bytes"] / MIB / seconds,
        "p50_us": r["latency_us"]["p50"], "p99_us": r["latency_us"]["p99"],
        "p99_9_us": r["latency_us"]["p99_9"], "max_us": r["latency_us"]["max"],
        "errors": errors, "ok_requests": r["requests"] - bad_status,
        "error_detail": dict(e, non2xx=r["non2xx"]) if r["non2xx"] >= 0 else e,
    }


def parse_h2load(out, log_file, seconds):
    counts = {}
    for line in out.splitlines():
        # "requests: 800 total, 800 started, 800 done, 800 succeeded, 0 failed, 0 errored, ..."
        # "status codes: 800 2xx, 0 3xx, 0 4xx, 0 5xx"
        if line.startswith("requests:") or line.startswith("status codes:"):
            for part in line.split(":", 1)[1].split(","):
                n, key = part.split()
                counts[key] = int(n)
    if "done" not in counts or "2xx" not in counts:
        raise BenchError(f"cannot read h2load's summary:\n{out}")
    latencies = []
    if os.path.exists(log_file):  # absent when no request completed
        with open(log_file) as f:
            for line in f:  # start time µs since epoch, status, µs until the end of the response
                cols = line.split("\t")
                if len(cols) >= 3:
                    latencies.append(int(cols[2]))
        os.remove(log_file)
    latencies.sort()
    nbytes = traffic_bytes(out)
    non_2xx = counts["3xx"] + counts["4xx"] + counts["5xx"]
    # h2load's "failed" already includes 4xx/5xx responses and network errors ("errored");
    # the larger of the two counts every bad request once.
    errors = max(counts["failed"], non_2xx) + counts.get("timeout", 0)
    return {
        "requests": counts["done"], "duration_s": seconds, "bytes": nbytes,
        "rps": counts["done"] / seconds, "mib_s": nbytes / MIB / seconds,
        "p50_us": percentile(latencies, 50), "p99_us": percentile(latencies, 99),
        "p99_9_us": percentile(latencies, 99.9),
        "max_us": latencies[-1] if latencies else 0,
        "errors": errors, "ok_requests": counts["2xx"],
        "error_detail": {k: counts.get(k, 0) for k in ("failed", "errored", "timeout")} |
                        {"non2xx": non_2xx},
    }


def traffic_bytes(out):
    # "traffic: 125.00KB (128000) total, ...": the exact byte count is in parentheses.
    for line in out.splitlines():
        if line.startswith("traffic:"):
            return int(line.split("(", 1)[1].split(")", 1)[0])
    return 0


def percentile(sorted_values, p):
    """Nearest-rank percentile: a latency some request really had, never an interpolation."""
    if not sorted_values:
        return 0
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


NUMERIC = ("rps", "mib_s", "p50_us", "p99_us", "p99_9_us", "max_us", "cpu_s",
           "cpu_s_per_1k_req", "cpu_s_per_gib")


def medians(samples):
    m = {}
    for key in NUMERIC:
        values = [s[key] for s in samples if s.get(key) is not None]
        if values:
            m[key] = statistics.median(values)
    # Errors are summed, not a median: one bad repetition must stay visible.
    m["errors"] = sum(s["errors"] for s in samples)
    return m


def add_derived(scenario, med):
    if scenario == "fixed-rate":
        # Latency a proxy adds: the same requests at the same rate, minus the backend alone.
        for t in [t for t in med if t != "direct"]:
            for p in ("p50", "p99"):
                if f"{p}_us" in med[t] and f"{p}_us" in med["direct"]:
                    med[t][f"added_{p}_us"] = med[t][f"{p}_us"] - med["direct"][f"{p}_us"]


def describe(s):
    parts = [f"{s['rps']:,.0f} req/s"]
    if s["mib_s"] >= 10:
        parts.append(f"{s['mib_s']:,.0f} MiB/s")
    parts.append(f"p99 {s['p99_us']:,.0f} µs")
    if s.get("cpu_s_per_1k_req") is not None:
        parts.append(f"CPU {s['cpu_s_per_1k_req']:.4f} s/1k req")
    if s["errors"]:
        parts.append(f"ERRORS {s['errors']:.0f} {s['error_detail']}")
    return ", ".join(parts)


# --------------------------------------------------------------------------------------------
# Output.
# --------------------------------------------------------------------------------------------

ARROW = {"higher": "↑", "lower": "↓", None: ""}


def table_rows(scenario, entry):
    """Header and rows of a scenario's table: each target's medians, then Remora's ratios."""
    cols = SCENARIOS[scenario]["columns"]
    header = ["target"] + [f"{label} {ARROW[d]}".strip() for _, label, d, _ in cols]
    rows = []
    for t in entry["median"]:  # the run's targets, in order (remora-before with --baseline)
        med = entry["median"][t]
        rows.append([t] + [fmt.format(med[k]) if med.get(k) is not None else "—"
                           for k, _, _, fmt in cols])
    others = ["haproxy", "nginx"] + ([BASELINE] if BASELINE in entry["median"] else [])
    for other in others:
        row = [f"remora ÷ {other}"]
        for k, _, direction, _ in cols:
            r, o = entry["median"]["remora"].get(k), entry["median"][other].get(k)
            row.append(f"{r / o:.2f}×" if direction and r is not None and o else "")
        rows.append(row)
    return header, rows


RATIO_NOTE = ("Ratios are Remora ÷ the other proxy, on medians. ↑ columns: higher is better, so "
              ">1 means Remora is better; ↓ columns: lower is better, so <1 means Remora is "
              "better. CPU s/1k req is also vCPU per 1,000 req/s (the same quotient).")
BASELINE_NOTE = ("remora-before is the baseline binary (--baseline), started exactly like remora; "
                 "remora ÷ remora-before follows the same rule: >1 on ↑ columns and <1 on ↓ "
                 "columns mean the binary under test is better than the baseline.")


def text_table(scenario, entry):
    header, rows = table_rows(scenario, entry)
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    line = lambda r: "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                               for i, (c, w) in enumerate(zip(r, widths)))
    out = [f"== {scenario}: {entry['what']}", line(header), line(["-" * w for w in widths])]
    out += [line(r) for r in rows]
    return "\n".join(out)


def markdown_table(scenario, entry):
    header, rows = table_rows(scenario, entry)
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def write_results(bench, out_dir, aborted=None):
    res = bench.results
    if aborted:
        res["aborted"] = aborted
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "results.json"), "w") as f:
        json.dump(res, f, indent=2, ensure_ascii=False)
        f.write("\n")
    m = res["meta"]
    md = ["# Remora side-by-side benchmark", ""]
    if aborted:
        md += [f"**Aborted:** {aborted}", ""]
    if m:
        v = m["versions"]
        md += [
            f"- Date: {m['date']}",
            f"- Machine: {m['nproc']} CPUs (nproc), {m['cpu_model']}, kernel {m['kernel']}",
            f"- Load average at start / end: {m['loadavg_start']} / {m.get('loadavg_end', '?')}",
            f"- CPU pinning: {m['pinning']}",
            f"- Remora: {v['remora']} ({m['remora_path']})",
        ]
        if m.get("baseline_path"):
            md += [f"- Remora before (--baseline, shown as {BASELINE}): {v[BASELINE]} "
                   f"({m['baseline_path']})"]
        md += [
            f"- HAProxy: {v['haproxy']}",
            f"- nginx: {v['nginx']}",
            f"- wrk: {v['wrk']}",
            f"- h2load: {v['h2load']}",
            f"- Runs: {m['duration_s']} s each after a {m['warmup_s']} s warm-up, "
            f"{m['repeat']} repetition(s) in rotated target order; figures are medians"
            + (" (SMOKE run: tiny loads, not a measurement)" if m["smoke"] else ""),
            f"- Fixed rate: {m['fixed_rate_total_req_s']:,} req/s in total",
            "- RSS after start (one request served): " + ", ".join(
                f"{t} {kib / 1024:.1f} MiB" for t, kib in m["rss_after_start_kib"].items()),
            f"- Command: `{m['command']}`",
            "",
            RATIO_NOTE + (" " + BASELINE_NOTE if m.get("baseline_path") else ""),
            "",
        ]
    for scenario, entry in res["scenarios"].items():
        if "median" not in entry:
            continue
        md += [f"## {scenario}", "", entry["what"] + ".", "", markdown_table(scenario, entry), ""]
    for title, key in (("Problems", "problems"), ("Warnings", "warnings")):
        if res[key]:
            md += [f"## {title}", ""] + [f"- {p}" for p in res[key]] + [""]
    cs = res.get("config_scale")
    if cs:
        cs_md = os.path.join(out_dir, "config_scale.md")
        if "skipped" in cs:
            md += ["## Config scale", "", cs["skipped"] + ".", ""]
        elif (os.path.exists(cs_md) and
              os.path.getmtime(cs_md) >= bench.config_scale_started - 1):  # not a stale one
            # config_scale.md is a whole section, heading included.
            with open(cs_md) as f:
                md += [f.read().rstrip(), ""]
            md += [f"_Run by bench.py: `{cs['command']}`, exit status {cs['exit_status']}._", ""]
        else:
            md += ["## Config scale", "",
                   f"`{cs['command']}` exited {cs['exit_status']} and wrote no config_scale.md.",
                   ""]
    with open(os.path.join(out_dir, "results.md"), "w") as f:
        f.write("\n".join(md))


# --------------------------------------------------------------------------------------------
# Small helpers.
# --------------------------------------------------------------------------------------------

def now_utc():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def read_first_line(path):
    try:
        with open(path) as f:
            return f.readline().strip()
    except OSError:
        return "?"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def version(argv):
    # Some print their version on stderr (nginx -v), some exit non-zero after it (wrk -v).
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"unknown ({e})"
    text = (r.stdout.strip() or r.stderr.strip()).splitlines()
    return text[0].strip() if text else f"unknown (no output, exit {r.returncode})"


def parse_args():
    p = argparse.ArgumentParser(
        prog="tools/bench/run" if "REMORA_BENCH_COMMAND" in os.environ else None,
        description="Side-by-side benchmark: Remora vs HAProxy vs nginx, one worker each.")
    p.add_argument("--remora", default=os.path.join(TOP, "build", "remora"),
                   help="the Remora binary to measure (default: <repo>/build/remora)")
    p.add_argument("--baseline", metavar="PATH", default=None,
                   help="a second Remora binary (e.g. an older build), measured like --remora "
                        f"as one more target, {BASELINE}, with a remora ÷ {BASELINE} ratio")
    p.add_argument("--duration", type=int, default=10, help="seconds per measured run (10)")
    p.add_argument("--warmup", type=int, default=None,
                   help="seconds of discarded load before each run (1; 0 in --smoke)")
    p.add_argument("--repeat", type=int, default=3, help="repetitions per scenario (3)")
    p.add_argument("--rate", type=int, default=None,
                   help="fixed-rate scenario: total req/s over all connections (5000)")
    p.add_argument("--scenarios", default=",".join(SCENARIOS),
                   help="comma-separated subset of: " + ", ".join(SCENARIOS))
    p.add_argument("--out", default=os.path.join(TOP, "build", "bench"),
                   help="where results.md and results.json go (default: <repo>/build/bench)")
    p.add_argument("--smoke", action="store_true",
                   help="every scenario once, ~1 s, few connections; fails on a proxy that "
                        "cannot start, a run without success or any error; no thresholds")
    cs = p.add_mutually_exclusive_group()
    cs.add_argument("--config-scale", action="store_true", default=None,
                    help="also run tools/bench/config_scale.py (default in full runs)")
    cs.add_argument("--no-config-scale", dest="config_scale", action="store_false")
    a = p.parse_args()
    a.rate_given = a.rate is not None
    if a.rate is None:
        a.rate = 5000
    if a.smoke:
        a.repeat, a.duration = 1, 1
    if a.warmup is None:
        a.warmup = 0 if a.smoke else 1
    if a.config_scale is None:
        a.config_scale = not a.smoke
    a.scenarios = [s.strip() for s in a.scenarios.split(",") if s.strip()]
    unknown = [s for s in a.scenarios if s not in SCENARIOS]
    if unknown:
        p.error(f"unknown scenario(s) {', '.join(unknown)}; known: {', '.join(SCENARIOS)}")
    if a.duration < 1 or a.repeat < 1 or a.warmup < 0 or a.rate < 1:
        p.error("--duration, --repeat and --rate must be >= 1, --warmup >= 0")
    conns = SCENARIOS["fixed-rate"]["smoke_conns" if a.smoke else "conns"]
    if a.rate < conns:
        p.error(f"--rate must be at least {conns} (one request per second per connection)")
    a.remora = os.path.abspath(a.remora)
    if a.baseline is not None:
        a.baseline = os.path.abspath(a.baseline)
    a.out = os.path.abspath(a.out)
    return a


def ignore_stop_signals():
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)


def main():
    args = parse_args()

    # SIGTERM and SIGHUP end the run like Ctrl-C does: through the cleanup below.
    def interrupted(signum, _frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGHUP, interrupted)

    bench = Bench(args)
    code, aborted = 0, None
    try:
        if not (os.path.isfile(args.remora) and os.access(args.remora, os.X_OK)):
            raise BenchError(f"no executable Remora at {args.remora} "
                             "(build it with tools/build remora, or pass --remora PATH)")
        if args.baseline and not (os.path.isfile(args.baseline) and
                                  os.access(args.baseline, os.X_OK)):
            raise BenchError(f"no executable Remora at {args.baseline} (--baseline)")
        for tool in ("nginx", "haproxy", "wrk", "h2load"):
            if not shutil.which(tool):
                raise BenchError(f"{tool} is not installed (tools/bench/run installs it)")
        started = time.monotonic()
        bench.run()
        print(f"bench: side-by-side part took {time.monotonic() - started:.0f} s")
    except BenchError as e:
        print(f"bench: error: {e}", file=sys.stderr)
        code, aborted = 1, str(e).splitlines()[0]
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        code, aborted = 130, "interrupted"
    finally:
        # A second Ctrl-C (or SIGTERM, SIGHUP) must not cut the cleanup short and leave servers
        # running.
        ignore_stop_signals()
        bench.procs.stop_all()
        if bench.work:
            shutil.rmtree(bench.work, ignore_errors=True)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, interrupted)
        signal.signal(signal.SIGHUP, interrupted)

    if code == 0 and args.config_scale:
        try:
            if not bench.run_config_scale():
                code = 1
        except KeyboardInterrupt:
            code, aborted = 130, "interrupted during config scale"
        finally:
            ignore_stop_signals()
            bench.procs.stop_all()

    if bench.results["meta"]:
        write_results(bench, args.out, aborted)
        print(f"bench: wrote {args.out}/results.md and results.json")
    if bench.results["problems"]:
        print("bench: FAILED:\n  " + "\n  ".join(bench.results["problems"]), file=sys.stderr)
        code = code or 1
    for w in bench.results["warnings"]:
        print(f"bench: warning: {w}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
