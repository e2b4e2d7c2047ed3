#!/usr/bin/env python3
"""Config-scale benchmark of Remora alone: what configuration costs in memory and in time.

Measures, on 127.0.0.1 with ephemeral ports and --concurrency 1 unless stated:
  1. idle RSS: a static bootstrap (one listener, one cluster; also --concurrency 2) and an ADS
     bootstrap fed by remora-mock-cp (one listener, one route config, one cluster, one endpoint);
  2. clusters at scale: 1,000 and 10,000 EDS clusters of 10 endpoints each (fresh process each),
     pushed in one PUT to the mock control plane: apply time, phase by phase, and RSS per cluster;
  3. one RouteConfiguration of 10,000 routes served by RDS: apply time and RSS per route;
  4. push to first request: time from the PUT of a route change to the first response from the
     new backend, seen by a client sending back to back on one keep-alive connection;
  5. route swap under load: wrk -t1 -c64 while the route flips between two backends every second.

Writes OUT/config_scale.md (a Markdown section) and OUT/config_scale.json, prints the table, and
exits non-zero when a process does not start, a config is not applied (NACK or timeout) or a
request fails where every request must succeed. Targets are printed beside the figures, never
enforced. Python 3 standard library only.

usage: config_scale.py --remora PATH --mock-cp PATH --out DIR [--backend PATH] [--smoke] [--keep]
"""

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

LISTENER_TYPE = "type.googleapis.com/envoy.config.listener.v3.Listener"
ROUTE_TYPE = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"
CLUSTER_TYPE = "type.googleapis.com/envoy.config.cluster.v3.Cluster"
ENDPOINT_TYPE = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"
HCM_TYPE = ("type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3"
            ".HttpConnectionManager")
ROUTER_TYPE = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"
ADS_SOURCE = {"ads": {}, "resource_api_version": "V3"}

# The targets Remora aims at; reported beside the figures, not enforced.
TARGET_IDLE_RSS_MIB = 8
TARGET_PER_CLUSTER_KIB = 4
TARGET_PER_ENDPOINT_B = 256
TARGET_10K_APPLY_MS = 1000
TARGET_ROUTE_LIVE_MS = 5

ENDPOINTS_PER_CLUSTER = 10


class BenchError(Exception):
    """A failure that makes the benchmark's figures meaningless: exit non-zero."""


class Interrupted(BaseException):
    """SIGTERM/SIGINT: unwinds through the cleanup like KeyboardInterrupt does."""


def on_signal(signum, _frame):
    raise Interrupted(f"signal {signum}")


# --- processes ------------------------------------------------------------------------------

class Processes:
    """Every process the benchmark starts, so that each is stopped, by its own pid, at the end."""

    def __init__(self, work, keep):
        self.work = work
        self.keep = keep  # the work dir, and so the logs, stay
        self.procs = []  # (name, Popen)

    def start(self, name, argv, stdout_file=None):
        log = open(os.path.join(self.work, f"{name}.log"), "wb")
        out = open(os.path.join(self.work, stdout_file), "wb") if stdout_file else log
        try:
            p = subprocess.Popen(argv, stdout=out, stderr=log, stdin=subprocess.DEVNULL)
        except OSError as e:
            raise BenchError(f"cannot start {name} ({argv[0]}): {e}") from e
        finally:
            log.close()
            if out is not log:
                out.close()
        self.procs.append((name, p))
        return p

    def check_alive(self):
        for name, p in self.procs:
            if p.poll() is not None:
                log = os.path.join(self.work, name + ".log")
                where = f"its log: {log}" if self.keep else "--keep keeps its log"
                raise BenchError(f"{name} exited with code {p.returncode} ({where})"
                                 + "".join(f"\n  {line}" for line in tail(log).splitlines()))

    def stop(self, p):
        """SIGTERM, then SIGKILL if it is still there after a few seconds."""
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.procs = [(n, q) for n, q in self.procs if q is not p]

    def stop_all(self):
        for _, p in reversed(list(self.procs)):
            self.stop(p)


def tail(path, lines=15):
    try:
        with open(path, "rb") as f:
            text = f.read().decode(errors="replace").splitlines()
    except OSError:
        return ""
    # Mock CP lines can list thousands of names: keep each one short.
    return "\n".join(line[:300] for line in text[-lines:])


def wait_until(procs, what, timeout, check, interval=0.005):
    """Polls `check` until it returns something truthy; fails at the deadline, or at once when a
    process we started died, rather than waiting for what will never come."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        procs.check_alive()
        if time.monotonic() > deadline:
            raise BenchError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


def rss_kib(pid):
    """VmRSS and VmHWM (peak RSS) of `pid`, in KiB."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0])
    return out["VmRSS"], out["VmHWM"]


# --- HTTP -----------------------------------------------------------------------------------

def http_request(hostport, method, path, body=None, timeout=60):
    """(status, body as str); (0, reason) when the connection fails."""
    host, port = hostport.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request(method, path, body=body)
        r = conn.getresponse()
        return r.status, r.read().decode(errors="replace")
    except OSError as e:
        return 0, str(e)
    finally:
        conn.close()


class KeepAliveClient:
    """Requests over one keep-alive connection, reconnecting after an error."""

    def __init__(self, port):
        self.port = port
        self.conn = None

    def get(self, path):
        """(status, x-backend header); status 0 on a connection error."""
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            self.conn.request("GET", path)
            r = self.conn.getresponse()
            r.read()
            if r.will_close:
                self.close()
            return r.status, r.getheader("x-backend")
        except (OSError, http.client.HTTPException):
            self.close()
            return 0, None

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


# --- xDS resources --------------------------------------------------------------------------

def hcm(route_part):
    return {
        "name": "envoy.filters.network.http_connection_manager",
        "typed_config": dict({
            "@type": HCM_TYPE,
            "stat_prefix": "bench",
            "http_filters": [{"name": "envoy.filters.http.router",
                              "typed_config": {"@type": ROUTER_TYPE}}],
        }, **route_part),
    }


def route_config(name, routes):
    """`routes`: (prefix, cluster) pairs, matched in order."""
    return {
        "name": name,
        "virtual_hosts": [{
            "name": "all",
            "domains": ["*"],
            "routes": [{"match": {"prefix": p}, "route": {"cluster": c}} for p, c in routes],
        }],
    }


def listener(name, route_part):
    """An HTTP listener on a port of the kernel's choosing (read back from /listeners)."""
    return {
        "@type": LISTENER_TYPE,
        "name": name,
        "address": {"socket_address": {"address": "127.0.0.1", "port_value": 0}},
        "filter_chains": [{"filters": [hcm(route_part)]}],
    }


def rds_listener(route_name):
    return listener("bench_http", {"rds": {"route_config_name": route_name,
                                           "config_source": ADS_SOURCE}})


def inline_listener(cluster):
    return listener("bench_http", {"route_config": route_config("local", [("/", cluster)])})


def eds_cluster(name):
    # As Istio sends them: endpoints come by EDS over the same ADS stream.
    return {
        "@type": CLUSTER_TYPE,
        "name": name,
        "type": "EDS",
        "eds_cluster_config": {"eds_config": ADS_SOURCE},
        "connect_timeout": "1s",
        "lb_policy": "ROUND_ROBIN",
    }


def load_assignment(name, addresses, typed=True):
    out = {
        "cluster_name": name,
        "endpoints": [{"lb_endpoints": [
            {"endpoint": {"address": {"socket_address": {"address": a, "port_value": p}}}}
            for a, p in addresses]}],
    }
    if typed:
        out["@type"] = ENDPOINT_TYPE
    return out


def typed_routes(name, routes):
    return dict({"@type": ROUTE_TYPE}, **route_config(name, routes))


def resources_body(resources):
    # JSON is YAML too, and the mock control plane reads it faster than block YAML.
    return json.dumps({"resources": resources}, separators=(",", ":"))


# --- the mock control plane and Remora ------------------------------------------------------

LOG_LINE = re.compile(
    r'^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\.(\d{3})\]\[mock-cp\]\[\w+\] stream \d+ \(\w+\): '
    r'(\w+) (request|response) version="([^"]*)" nonce="[^"]*" (\w+)')


class MockCpLog:
    """Follows the mock control plane's log: one timestamped line per xDS request and response.
    Reading it costs the control plane nothing, whereas polling GET /requests during a large push
    would make it format every recorded request (with thousands of names) under the lock its
    gRPC threads need."""

    def __init__(self, path):
        self.path = path
        self.offset = 0
        self.partial = b""
        self.events = []  # (wall time, type, "request"|"response", version, ACK|NACK|SUBSCRIBE|...)

    def poll(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except OSError:
            return
        self.offset += len(data)
        lines = (self.partial + data).split(b"\n")
        self.partial = lines.pop()
        for raw in lines:
            m = LOG_LINE.match(raw[:400].decode(errors="replace"))
            if m:
                wall = time.mktime(time.strptime(m.group(1), "%Y-%m-%d %H:%M:%S"))
                wall += int(m.group(2)) / 1000
                self.events.append((wall, m.group(3), m.group(4), m.group(5), m.group(6)))

    def first(self, rtype, kind, version=None, what=None, after=0.0):
        """Wall time of the first matching event at or after `after`, else None."""
        for wall, t, k, v, w in self.events:
            if (t == rtype and k == kind and (version is None or v == version)
                    and (what is None or w == what) and wall >= after - 0.001):
                return wall
        return None


class Stack:
    """remora-mock-cp serving `initial` resources and Remora with an ADS bootstrap pointed at it."""

    def __init__(self, bench, name, initial, concurrency=1):
        self.procs = bench.procs
        self.name = name
        work = os.path.join(bench.work, name)
        os.makedirs(os.path.join(work, "xds"))
        with open(os.path.join(work, "xds", "initial.json"), "w") as f:
            f.write(resources_body(initial))
        ports_file = os.path.join(work, "cp.ports")
        self.cp = self.procs.start(f"{name}/mock-cp", [
            bench.args.mock_cp, "--dir", os.path.join(work, "xds"), "--xds-port", "0",
            "--api-port", "0", "--port-file", ports_file])
        wait_until(self.procs, f"{name}: the mock control plane's port file", 15,
                   lambda: os.path.exists(ports_file))
        ports = dict(line.split("=") for line in open(ports_file).read().split())
        self.api = f"127.0.0.1:{ports['api']}"
        self.cp_log = MockCpLog(os.path.join(bench.work, f"{name}/mock-cp.log"))
        bootstrap = {
            "node": {"id": f"bench-{name}", "cluster": "bench"},
            "admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": 0}}},
            "dynamic_resources": {
                "ads_config": {"api_type": "GRPC", "transport_api_version": "V3",
                               "grpc_services": [{"envoy_grpc": {"cluster_name": "xds_cluster"}}]},
                "lds_config": ADS_SOURCE,
                "cds_config": ADS_SOURCE,
            },
            "static_resources": {"clusters": [static_cluster("xds_cluster", int(ports["xds"]))]},
        }
        self.remora = bench.start_remora(name, bootstrap, concurrency)

    def __getattr__(self, attr):
        # admin, listener_port, rss(), stats(), ...: from the Remora handle.
        if attr == "remora":  # not there yet: Remora failed to start
            raise AttributeError(attr)
        return getattr(self.remora, attr)

    def put(self, resources):
        """PUT /resources; returns (version, seconds the PUT took)."""
        body = resources_body(resources)
        t = time.perf_counter()
        status, answer = http_request(self.api, "PUT", "/resources", body, timeout=600)
        took = time.perf_counter() - t
        if status != 200:
            raise BenchError(f"{self.name}: PUT /resources answered {status}: {answer[:500]}")
        return json.loads(answer)["version"], took

    def requests(self):
        status, body = http_request(self.api, "GET", "/requests")
        if status != 200:
            raise BenchError(f"{self.name}: GET /requests answered {status}")
        return json.loads(body)

    def clear_requests(self):
        http_request(self.api, "DELETE", "/requests")

    def acked(self, type_url, version):
        """True once Remora ACKed `version` of `type_url`; fails on a NACK of it."""
        for r in self.requests():
            if r["type_url"] != type_url:
                continue
            if r["ack"] is False:
                raise BenchError(f"{self.name}: Remora NACKed {type_url.rsplit('.', 1)[1]}: "
                                 f"{r['error_detail']}")
            if r["ack"] and r["version_info"] == version:
                return True
        return False

    def wait_acked(self, type_url, version, timeout=30):
        wait_until(self.procs, f"{self.name}: Remora's ACK of {type_url.rsplit('.', 1)[1]} "
                   f"version {version}", timeout, lambda: self.acked(type_url, version), 0.002)


def static_cluster(name, port):
    return {
        "name": name,
        "type": "STATIC",
        "connect_timeout": "1s",
        "load_assignment": load_assignment(name, [("127.0.0.1", port)], typed=False),
    }


class Remora:
    """A running Remora: its admin address, the port of its listener, its RSS."""

    def __init__(self, bench, name, bootstrap, concurrency):
        self.procs = bench.procs
        self.name = name
        work = os.path.join(bench.work, name)
        os.makedirs(work, exist_ok=True)
        config = os.path.join(work, "bootstrap.yaml")
        with open(config, "w") as f:
            json.dump(bootstrap, f, indent=1)  # JSON is YAML
        admin_file = os.path.join(work, "admin")
        started = time.perf_counter()
        self.proc = self.procs.start(f"{name}/remora", [
            bench.args.remora, "-c", config, "--concurrency", str(concurrency),
            "--admin-address-path", admin_file, "--drain-time-s", "1", "-l", "info"])
        self.pid = self.proc.pid
        wait_until(self.procs, f"{name}: Remora's admin address", 15,
                   lambda: os.path.exists(admin_file) and os.path.getsize(admin_file) > 0)
        self.admin = open(admin_file).read().strip()
        # /ready turns 200 once the initial configuration is in place and the listeners are open.
        wait_until(self.procs, f"{name}: Remora's /ready", 30,
                   lambda: http_request(self.admin, "GET", "/ready")[0] == 200)
        self.ready_ms = (time.perf_counter() - started) * 1000
        status, body = http_request(self.admin, "GET", "/listeners?format=json")
        ports = [s["local_address"]["socket_address"]["port_value"]
                 for s in json.loads(body)["listener_statuses"]] if status == 200 else []
        if not ports:
            raise BenchError(f"{name}: Remora is ready but lists no listener: {body}")
        self.listener_port = ports[0]

    def rss(self):
        return rss_kib(self.pid)

    def stats(self, pattern):
        """{name: value} of the counters and gauges matching the RE2 `pattern`."""
        status, body = http_request(self.admin, "GET", f"/stats?format=json&filter={pattern}")
        if status != 200:
            raise BenchError(f"{self.name}: /stats answered {status}: {body[:200]}")
        return {s["name"]: s["value"] for s in json.loads(body)["stats"] if "name" in s}

    def apply_histogram(self):
        """count, sum and max (ms) of control_plane.config_apply_ms over the process' life."""
        status, body = http_request(self.admin, "GET",
                                    "/stats/prometheus?filter=config_apply_ms")
        out = {"count": 0, "sum": 0, "max": None}
        for line in body.splitlines() if status == 200 else []:
            if line.startswith("envoy_control_plane_config_apply_ms_count"):
                out["count"] = int(float(line.split()[-1]))
            elif line.startswith("envoy_control_plane_config_apply_ms_sum"):
                out["sum"] = float(line.split()[-1])
        # The text format's P100 is the exact maximum (the histogram keeps its extremes).
        _, text = http_request(self.admin, "GET", "/stats?filter=config_apply_ms")
        m = re.search(r"P100\(([\d.]+),", text)
        if m:
            out["max"] = float(m.group(1))
        return out

    def requests(self, path, n):
        """Sends `n` GETs over one keep-alive connection; [(status, x-backend)]."""
        client = KeepAliveClient(self.listener_port)
        try:
            return [client.get(path) for _ in range(n)]
        finally:
            client.close()


# --- the measurements -----------------------------------------------------------------------

def mib(kib):
    return kib / 1024


class Bench:
    def __init__(self, args, work):
        self.args = args
        self.work = work
        self.procs = Processes(work, args.keep)
        self.backends = {}  # name -> port
        self.results = {}

    def start_remora(self, name, bootstrap, concurrency):
        return Remora(self, name, bootstrap, concurrency)

    def start_backend(self, name):
        port_file = os.path.join(self.work, f"backend-{name}.port")
        self.procs.start(f"backend-{name}", [self.args.backend, "http", name],
                         stdout_file=f"backend-{name}.port")
        port = wait_until(self.procs, f"backend {name}'s port", 10,
                          lambda: open(port_file).read().strip())
        self.backends[name] = int(port)

    def finish(self, stack_or_remora):
        """Stops what one measurement started (not the shared backends): Remora first, so that
        it never sees its control plane go away."""
        if isinstance(stack_or_remora, Stack):
            self.procs.stop(stack_or_remora.remora.proc)
            self.procs.stop(stack_or_remora.cp)
        else:
            self.procs.stop(stack_or_remora.proc)

    def handful(self, remora, path="/", expect_backend=None, n=10):
        answers = remora.requests(path, n)
        bad = [a for a in answers if a[0] != 200 or (expect_backend and a[1] != expect_backend)]
        if bad:
            raise BenchError(f"{remora.name}: {len(bad)} of {n} requests to {path} failed: "
                             f"{bad[:3]}")

    # 1. Idle RSS -----------------------------------------------------------------------------

    def idle_static(self, concurrency):
        name = f"idle-static-c{concurrency}"
        bootstrap = {
            "node": {"id": f"bench-{name}", "cluster": "bench"},
            "admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": 0}}},
            "static_resources": {
                "listeners": [{k: v for k, v in inline_listener("a").items() if k != "@type"}],
                "clusters": [static_cluster("a", self.backends["a"])],
            },
        }
        remora = self.start_remora(name, bootstrap, concurrency)
        ready, _ = remora.rss()
        self.handful(remora, expect_backend="a")
        after, _ = remora.rss()
        self.finish(remora)
        return {"concurrency": concurrency, "rss_ready_kib": ready, "rss_after_requests_kib": after,
                "ready_ms": remora.ready_ms}

    def idle_ads(self):
        """ADS: one listener (routes by RDS), one route config, one cluster, one endpoint. The
        stack stays up: the route-change measurements run on it afterwards."""
        stack = Stack(self, "ads", [
            rds_listener("bench_routes"),
            typed_routes("bench_routes", [("/", "backend-a")]),
            eds_cluster("backend-a"),
            load_assignment("backend-a", [("127.0.0.1", self.backends["a"])]),
        ])
        stack.route_backend = "a"  # where bench_routes sends / now
        ready, _ = stack.rss()
        self.handful(stack.remora, expect_backend="a")
        after, _ = stack.rss()
        return stack, {"concurrency": 1, "rss_ready_kib": ready, "rss_after_requests_kib": after,
                       "ready_ms": stack.remora.ready_ms}

    # 2. Clusters at scale ----------------------------------------------------------------------

    def clusters_at_scale(self, n):
        """N EDS clusters of 10 endpoints each, pushed at once into a Remora that has a listener
        and no cluster. The listener routes / to the last cluster, whose endpoints are the live
        backend a: the first 200 through the listener shows the worker running the whole push."""
        names = [f"svc-{i:05d}" for i in range(n)]
        stack = Stack(self, f"clusters-{n}", [inline_listener(names[-1])])
        try:
            self.handful_status(stack.remora, 503)  # no such cluster yet
            base_rss, _ = stack.rss()
            resources = []
            for i, name in enumerate(names):
                resources.append(eds_cluster(name))
                if name == names[-1]:
                    addresses = [("127.0.0.1", self.backends["a"])] * ENDPOINTS_PER_CLUSTER
                else:  # distinct, never contacted
                    addresses = [(f"127.{1 + i // 250}.{i % 250}.{j + 1}", 8080)
                                 for j in range(ENDPOINTS_PER_CLUSTER)]
                resources.append(load_assignment(name, addresses))
            stack.clear_requests()
            hist_before = stack.apply_histogram()
            timing = self.push_and_follow(
                stack, resources, probe_path="/", probe_ok=lambda s, b: s == 200 and b == "a",
                types=[CLUSTER_TYPE, ENDPOINT_TYPE], timeout=600 if n > 2000 else 120)
            rss, hwm = stack.rss()
            hist_after = stack.apply_histogram()
            # Everything the push held is there, with all its endpoints.
            status, body = http_request(stack.admin, "GET", "/clusters?format=json")
            if status != 200:
                raise BenchError(f"clusters-{n}: /clusters answered {status}")
            hosts = {c["name"]: len(c.get("host_statuses", []))
                     for c in json.loads(body)["cluster_statuses"]}
            missing = [c for c in names if hosts.get(c) != ENDPOINTS_PER_CLUSTER]
            if missing:
                raise BenchError(f"clusters-{n}: {len(missing)} cluster(s) missing or without "
                                 f"{ENDPOINTS_PER_CLUSTER} endpoints in /clusters, "
                                 f"e.g. {missing[:3]}")
            counters = stack.stats(r"(cds|eds)\.update_(success|rejected)")
        finally:
            self.finish(stack)
        per_cluster = (rss - base_rss) / n
        return dict(timing, clusters=n, endpoints=n * ENDPOINTS_PER_CLUSTER,
                    rss_base_kib=base_rss, rss_after_kib=rss, rss_peak_kib=hwm,
                    per_cluster_kib=per_cluster,
                    per_endpoint_b=per_cluster * 1024 / ENDPOINTS_PER_CLUSTER,
                    config_apply_ms=histogram_delta(hist_before, hist_after),
                    counters=counters)

    def handful_status(self, remora, status, path="/", n=5):
        answers = remora.requests(path, n)
        if any(a[0] != status for a in answers):
            raise BenchError(f"{remora.name}: expected {status} from {path}, got {answers}")

    def push_and_follow(self, stack, resources, probe_path, probe_ok, types, timeout):
        """PUTs `resources` and follows the push: the mock CP's log gives each response and ACK,
        a request through the listener every few ms shows when the worker serves the new config.
        Times are in ms from the start of the PUT."""
        stack.cp_log.poll()
        client = KeepAliveClient(stack.listener_port)
        t0_wall = time.time()
        t0 = time.perf_counter()
        version, put_s = stack.put(resources)
        served_ms = None

        def done():
            nonlocal served_ms
            stack.cp_log.poll()
            if served_ms is None:
                status, backend = client.get(probe_path)
                if probe_ok(status, backend):
                    served_ms = (time.perf_counter() - t0) * 1000
            acks = [stack.cp_log.first(t_short(t), "request", version, "ACK") for t in types]
            nacks = [stack.cp_log.first(t_short(t), "request", None, "NACK", t0_wall)
                     for t in types]
            if any(nacks):
                stack.acked(types[0], version)  # raises with the error_detail
                raise BenchError(f"{stack.name}: Remora NACKed version {version}")
            return served_ms is not None and all(acks)

        try:
            wait_until(self.procs, f"{stack.name}: version {version} ACKed and served", timeout,
                       done, interval=0.005)
        finally:
            client.close()
        # The log's word is cross-checked against the control plane's request record.
        for t in types:
            if not stack.acked(t, version):
                raise BenchError(f"{stack.name}: {t_short(t)} version {version} not in /requests")

        def at(rtype, kind, what=None, after=0.0):
            wall = stack.cp_log.first(rtype, kind, version, what, after)
            return None if wall is None else round((wall - t0_wall) * 1000, 1)

        def subscribed(rtype):
            # A type that depends on an earlier one (EDS on CDS) is subscribed to only then.
            wall = stack.cp_log.first(rtype, "request", None, "SUBSCRIBE", t0_wall)
            return None if wall is None else round((wall - t0_wall) * 1000, 1)

        out = {"version": version, "put_ms": round(put_s * 1000, 1),
               "served_ms": round(served_ms, 1), "timeline_ms": {}}
        for t in types:
            short = t_short(t)
            out["timeline_ms"][short] = {"response_sent": at(short, "response"),
                                         "subscribed": subscribed(short),
                                         "acked": at(short, "request", "ACK")}
        return out

    # 3. 10,000 routes -------------------------------------------------------------------------

    def routes_at_scale(self, n):
        """One RouteConfiguration of N routes (/r<i>/ -> a or b, then / -> a) replacing one of a
        single route. The last prefix route sends to b: its first answer from b shows the worker
        running the new table."""
        stack = Stack(self, f"routes-{n}", self.two_backend_resources())
        try:
            self.handful(stack.remora, expect_backend="a")
            probe = f"/r{n - 1}/probe"
            self.handful(stack.remora, probe, expect_backend="a")  # falls through to /
            base_rss, _ = stack.rss()
            routes = [(f"/r{i}/", "backend-b" if (n - 1 - i) % 2 == 0 else "backend-a")
                      for i in range(n)] + [("/", "backend-a")]
            stack.clear_requests()
            hist_before = stack.apply_histogram()
            timing = self.push_and_follow(
                stack, [typed_routes("bench_routes", routes)], probe_path=probe,
                probe_ok=lambda s, b: s == 200 and b == "b", types=[ROUTE_TYPE], timeout=120)
            rss, hwm = stack.rss()
            hist_after = stack.apply_histogram()
            # Route matching walks the list: the last route costs more than the first.
            first, last = request_latency_us(stack.listener_port, ["/r0/x", probe], 300)
        finally:
            self.finish(stack)
        return dict(timing, routes=n, rss_base_kib=base_rss, rss_after_kib=rss,
                    rss_peak_kib=hwm, per_route_b=(rss - base_rss) * 1024 / n,
                    config_apply_ms=histogram_delta(hist_before, hist_after),
                    request_first_route_us=first, request_last_route_us=last)

    def two_backend_resources(self):
        return [
            rds_listener("bench_routes"),
            typed_routes("bench_routes", [("/", "backend-a")]),
            eds_cluster("backend-a"),
            load_assignment("backend-a", [("127.0.0.1", self.backends["a"])]),
            eds_cluster("backend-b"),
            load_assignment("backend-b", [("127.0.0.1", self.backends["b"])]),
        ]

    # 4. Push to first request ---------------------------------------------------------------

    def push_to_first_request(self, stack, repeats):
        """A client sends GET / back to back on one keep-alive connection while the route flips
        between backend a and b; each repeat times the PUT's start to the first response from the
        new backend."""
        version, _ = stack.put(self.two_backend_resources()[2:])  # adds cluster b and endpoint
        stack.wait_acked(ENDPOINT_TYPE, version)
        client = Prober(stack.listener_port, "/")
        client.start()
        samples = []
        try:
            current = stack.route_backend
            client.wait_for(lambda ev: ev[2] == current, 0.0, self.procs,
                            f"a first answer from {current}")
            for _ in range(repeats):
                new = "b" if current == "a" else "a"
                # A few answers from the current backend first: the client is in its stride.
                client.wait_for(lambda ev, c=current: ev[2] == c, time.perf_counter(),
                                self.procs, f"answers from {current}", count=3)
                t0 = time.perf_counter()
                version, _ = stack.put([typed_routes("bench_routes", [("/", f"backend-{new}")])])
                ev = client.wait_for(lambda e, n=new: e[2] == n, t0, self.procs,
                                     f"the first answer from {new}")
                samples.append((ev[0] - t0) * 1000)
                stack.wait_acked(ROUTE_TYPE, version)
                current = stack.route_backend = new
        finally:
            client.stop()
        if client.failures:
            raise BenchError(f"push to first request: {client.failures} request(s) failed, "
                             f"e.g. {client.failure_example}")
        return {"repeats": repeats, "samples_ms": [round(s, 2) for s in samples],
                "median_ms": statistics.median(samples), "max_ms": max(samples),
                "requests": client.count}

    # 5. Route swap under load -----------------------------------------------------------------

    def swap_under_load(self, stack, seconds):
        """wrk -t1 -c64 against the listener while the route flips a <-> b once a second."""
        wrk = shutil.which("wrk")
        if wrk is None:
            raise BenchError("wrk is not installed")
        before = stack.stats(r"^cluster\.backend-[ab]\.upstream_rq_total$")
        stack.clear_requests()
        url = f"http://127.0.0.1:{stack.listener_port}/"
        out_path = os.path.join(self.work, "wrk.out")
        with open(out_path, "wb") as out:
            p = subprocess.Popen([wrk, "-t1", "-c64", f"-d{seconds}s", url], stdout=out,
                                 stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.procs.procs.append(("wrk", p))
        start = time.monotonic()
        versions = []
        try:
            for k in range(1, seconds):
                # Swap times are a schedule, not a wait for readiness: one swap per second.
                delay = start + k - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                new = "b" if stack.route_backend == "a" else "a"
                version, _ = stack.put([typed_routes("bench_routes", [("/", f"backend-{new}")])])
                stack.route_backend = new
                versions.append(version)
            p.wait(timeout=seconds + 30)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            self.procs.procs = [(n, q) for n, q in self.procs.procs if q is not p]
        text = open(out_path).read()
        if p.returncode != 0:
            raise BenchError(f"wrk exited with code {p.returncode}:\n{text}")
        # Each swap is ACKed (the last may still be on its way when wrk stops, so allow a moment).
        acked_versions = []
        for v in versions:
            try:
                stack.wait_acked(ROUTE_TYPE, v, timeout=5)
                acked_versions.append(v)
            except BenchError as e:
                if "NACK" in str(e):
                    raise
        after = stack.stats(r"^cluster\.backend-[ab]\.upstream_rq_total$")
        result = parse_wrk(text)
        result.update(seconds=seconds, swaps=len(versions), swaps_acked=len(acked_versions),
                      upstream_rq={k.split(".")[1]: after.get(k, 0) - before.get(k, 0)
                                   for k in after})
        return result

    # The whole run -----------------------------------------------------------------------------

    def run(self):
        smoke = self.args.smoke
        self.start_backend("a")
        self.start_backend("b")
        r = self.results
        r["smoke"] = smoke
        r["machine"] = machine_info(self.args.remora)
        r["idle"] = {"static_c1": self.idle_static(1), "static_c2": self.idle_static(2)}
        stack, r["idle"]["ads_c1"] = self.idle_ads()
        try:
            r["push_to_first_request"] = self.push_to_first_request(stack, 3 if smoke else 10)
            r["swap_under_load"] = self.swap_under_load(stack, 2 if smoke else 10)
        finally:
            self.finish(stack)
        r["routes"] = self.routes_at_scale(100 if smoke else 10_000)
        r["clusters"] = [self.clusters_at_scale(n) for n in ([100] if smoke else [1_000, 10_000])]
        s = r["swap_under_load"]
        if s["non_2xx"] or s["socket_errors"]:
            raise BenchError(f"route swap under load: {s['non_2xx']} non-2xx responses, "
                             f"{s['socket_errors']} socket errors")
        if s["swaps_acked"] < s["swaps"]:
            raise BenchError(f"route swap under load: only {s['swaps_acked']} of {s['swaps']} "
                             "swaps ACKed")
        # Both backends took traffic: the swaps were in force, not only ACKed.
        if sorted(k for k, v in s["upstream_rq"].items() if v > 0) != ["backend-a", "backend-b"]:
            raise BenchError(f"route swap under load: upstream requests {s['upstream_rq']}")


def t_short(type_url):
    return {LISTENER_TYPE: "listener", ROUTE_TYPE: "route", CLUSTER_TYPE: "cluster",
            ENDPOINT_TYPE: "endpoint"}[type_url]


def histogram_delta(before, after):
    """The samples a push added to control_plane.config_apply_ms: count, sum, and the process'
    maximum (the push's largest sample, when it is larger than any before)."""
    return {"samples": after["count"] - before["count"],
            "sum_ms": after["sum"] - before["sum"], "max_ms": after["max"]}


def request_latency_us(port, paths, n):
    """Median time of one GET of each of `paths` over a keep-alive connection, in µs (Python's
    share included). The paths take turns, so that warm-up and load swings hit them alike."""
    client = KeepAliveClient(port)
    times = {p: [] for p in paths}
    try:
        for _ in range(n):
            for path in paths:
                t = time.perf_counter()
                status, _ = client.get(path)
                times[path].append((time.perf_counter() - t) * 1e6)
                if status != 200:
                    raise BenchError(f"GET {path} answered {status}")
    finally:
        client.close()
    return [round(statistics.median(times[p]), 1) for p in paths]


class Prober(threading.Thread):
    """Sends GET `path` back to back on a keep-alive connection and records each answer as
    (perf_counter when it arrived, status, x-backend)."""

    def __init__(self, port, path):
        super().__init__(daemon=True)
        self.client = KeepAliveClient(port)
        self.path = path
        self.events = []
        self.count = 0
        self.failures = 0
        self.failure_example = None
        self.cond = threading.Condition()
        self.stopping = False

    def run(self):
        while not self.stopping:
            status, backend = self.client.get(self.path)
            now = time.perf_counter()
            with self.cond:
                self.count += 1
                if status != 200:
                    self.failures += 1
                    self.failure_example = self.failure_example or (status, backend)
                self.events.append((now, status, backend))
                if len(self.events) > 10000:  # only recent answers are ever looked at
                    del self.events[:5000]
                self.cond.notify_all()
        self.client.close()

    def wait_for(self, match, since, procs, what, count=1, timeout=10):
        """The `count`-th answer after `since` that `match`es."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                hits = [e for e in self.events if e[0] > since and match(e)]
                if len(hits) >= count:
                    return hits[count - 1]
                if time.monotonic() > deadline or not self.is_alive():
                    raise BenchError(f"push to first request: no {what} within {timeout} s")
                self.cond.wait(0.05)
                procs.check_alive()

    def stop(self):
        self.stopping = True
        self.join(timeout=15)


def parse_wrk(text):
    def number(pattern, default=0.0):
        m = re.search(pattern, text)
        return float(m.group(1)) if m else default
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       text)
    return {
        "requests": int(number(r"(\d+) requests in")),
        "requests_per_s": number(r"Requests/sec:\s+([\d.]+)"),
        # wrk counts any status >= 400 here (it prints the line only when there are some).
        "non_2xx": int(number(r"Non-2xx or 3xx responses: (\d+)")),
        "socket_errors": sum(int(x) for x in socket.groups()) if socket else 0,
        "socket_errors_detail": socket.group(0) if socket else "none",
        "latency_avg": (re.search(r"Latency\s+(\S+)", text) or [None, None])[1],
    }


def machine_info(remora):
    version = subprocess.run([remora, "--version"], capture_output=True, text=True,
                             timeout=10).stdout.strip()
    load = open("/proc/loadavg").read().split()[:3]
    return {"cores": os.cpu_count(), "kernel": os.uname().release, "remora": version,
            "loadavg_at_start": " ".join(load),
            "date": time.strftime("%Y-%m-%d %H:%M:%S %z")}


# --- report ---------------------------------------------------------------------------------

def verdict(ok):
    return "met" if ok else "**not met**"


def ms(x):
    return "–" if x is None else (f"{x:,.0f} ms" if x >= 100 else f"{x:.1f} ms")


def report(r):
    m = r["machine"]
    idle = r["idle"]
    lines = [
        "## Config scale (Remora alone)",
        "",
        f"{m['remora']}; {m['cores']} cores, Linux {m['kernel']}; load average "
        f"{m['loadavg_at_start']} at start, {r.get('loadavg_at_end', '?')} at the end (other "
        f"work on the machine skews times); {m['date']}; {r['duration_s']} s."
        + (" **Smoke run** (small sizes)." if r["smoke"] else ""),
        "Everything on 127.0.0.1: Remora with `--concurrency 1` unless stated, fed over ADS by "
        "`remora-mock-cp` (one process each per row group), backends `remora-backend http`. "
        "RSS is VmRSS from /proc; times count from the start of the PUT to the mock control "
        "plane, ACKs and send times come from its log.",
        "",
        "| Measurement | Remora | Target | |",
        "|---|---|---|---|",
    ]

    def row(what, figure, target="", ok=None):
        lines.append(f"| {what} | {figure} | {target} | {'' if ok is None else verdict(ok)} |")

    for key, label in (("static_c1", "static bootstrap, 1 listener + 1 cluster"),
                       ("static_c2", "static bootstrap, `--concurrency 2`"),
                       ("ads_c1", "ADS: 1 listener, 1 route config, 1 cluster, 1 endpoint")):
        i = idle[key]
        rss = mib(i["rss_after_requests_kib"])
        row(f"Idle RSS, {label}",
            f"{mib(i['rss_ready_kib']):.1f} MiB ready, {rss:.1f} MiB after 10 requests",
            f"≤ {TARGET_IDLE_RSS_MIB} MiB", rss <= TARGET_IDLE_RSS_MIB)
    for c in r["clusters"]:
        n = c["clusters"]
        tl = c["timeline_ms"]
        arrival = tl["cluster"]["response_sent"]
        from_arrival = None if arrival is None else c["served_ms"] - arrival
        row(f"{n:,} EDS clusters × {ENDPOINTS_PER_CLUSTER} endpoints: PUT → served by a worker",
            f"{ms(c['served_ms'])} (mock CP parse {ms(c['put_ms'])}; from CDS arrival "
            f"{ms(from_arrival)})",
            f"≤ {TARGET_10K_APPLY_MS:,} ms from arrival" if n >= 10_000 else "",
            from_arrival is not None and from_arrival <= TARGET_10K_APPLY_MS if n >= 10_000
            else None)
        row(f"{n:,} clusters: RSS",
            f"{mib(c['rss_base_kib']):.1f} → {mib(c['rss_after_kib']):.1f} MiB "
            f"(peak {mib(c['rss_peak_kib']):.1f})")
        row(f"{n:,} clusters: per cluster", f"{c['per_cluster_kib']:.1f} KiB",
            f"≤ {TARGET_PER_CLUSTER_KIB} KiB", c["per_cluster_kib"] <= TARGET_PER_CLUSTER_KIB)
        row(f"{n:,} clusters: per endpoint (upper bound: per cluster / {ENDPOINTS_PER_CLUSTER})",
            f"{c['per_endpoint_b']:,.0f} B", f"≤ {TARGET_PER_ENDPOINT_B} B",
            c["per_endpoint_b"] <= TARGET_PER_ENDPOINT_B)
    rt = r["routes"]
    row(f"{rt['routes']:,} routes in one RDS RouteConfiguration: PUT → served",
        f"{ms(rt['served_ms'])} (mock CP parse {ms(rt['put_ms'])}; RDS ACK at "
        f"{ms(rt['timeline_ms']['route']['acked'])})")
    row(f"{rt['routes']:,} routes: RSS", f"{mib(rt['rss_base_kib']):.1f} → "
        f"{mib(rt['rss_after_kib']):.1f} MiB, {rt['per_route_b']:,.0f} B per route")
    row(f"{rt['routes']:,} routes: one request to the first / last route",
        f"{rt['request_first_route_us']:.0f} / {rt['request_last_route_us']:.0f} µs "
        "(Python client included)")
    p = r["push_to_first_request"]
    row(f"Push → first response from the new backend ({p['repeats']} route changes)",
        f"median {p['median_ms']:.1f} ms, max {p['max_ms']:.1f} ms",
        f"≤ {TARGET_ROUTE_LIVE_MS} ms", p["median_ms"] <= TARGET_ROUTE_LIVE_MS)
    s = r["swap_under_load"]
    row(f"Route swap a ↔ b each second under `wrk -t1 -c64 -d{s['seconds']}s`",
        f"{s['requests_per_s']:,.0f} req/s, {s['requests']:,} requests, {s['non_2xx']} non-2xx, "
        f"{s['socket_errors']} socket errors, {s['swaps_acked']}/{s['swaps']} swaps ACKed",
        "no failure", s["non_2xx"] == 0 and s["socket_errors"] == 0)

    lines += [
        "",
        "Where the time of a cluster push goes, phase by phase. The mock CP's own work: parsing "
        "the PUT, then building each response (its log line is written before gRPC serializes "
        "and sends it). Remora's: from a response to its ACK (gRPC receive and decode included), "
        "the EDS subscription that follows the CDS ACK, and from the EDS response to the first "
        "request the worker serves with the last cluster (probed every 5 ms). `config_apply_ms` "
        "is Remora's histogram (from receiving an update, after gRPC decoding, to every worker "
        "running it): the push's samples, their sum and the largest.",
        "",
        "| Clusters | CP: parse PUT | CP: build CDS | Remora: CDS → ACK | Remora: ACK → EDS "
        "request | CP: build EDS | Remora: EDS → ACK | Remora: EDS → served "
        "| config_apply_ms |",
        "|---|---|---|---|---|---|---|---|---|",
    ]

    def span(a, b):
        return ms(b - a) if a is not None and b is not None else "–"

    for c in r["clusters"]:
        cds, eds, h = c["timeline_ms"]["cluster"], c["timeline_ms"]["endpoint"], \
            c["config_apply_ms"]
        lines.append(
            f"| {c['clusters']:,} | {ms(c['put_ms'])} | {span(c['put_ms'], cds['response_sent'])}"
            f" | {span(cds['response_sent'], cds['acked'])} | "
            f"{span(cds['acked'], eds['subscribed'])} | "
            f"{span(eds['subscribed'], eds['response_sent'])} | "
            f"{span(eds['response_sent'], eds['acked'])} | "
            f"{span(eds['response_sent'], c['served_ms'])} | "
            f"{h['samples']} samples, sum {h['sum_ms']:.0f} ms, max "
            f"{h['max_ms'] if h['max_ms'] is not None else '–'} ms |")
    h = rt["config_apply_ms"]
    pushes = ", ".join(f"{x:.1f}" for x in p["samples_ms"])
    upstream = ", ".join(f"{k} {v:,}" for k, v in sorted(s["upstream_rq"].items()))
    lines += ["", f"Routes push: config_apply_ms {h['samples']} sample(s), sum {h['sum_ms']:.0f} "
              f"ms. Push → first response, each change: {pushes} ms. Requests each backend "
              f"took during the swap run: {upstream}.", ""]
    return "\n".join(lines)


# --- main -----------------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--remora", required=True, help="the remora binary")
    parser.add_argument("--mock-cp", required=True, help="the remora-mock-cp binary")
    parser.add_argument("--backend", help="the remora-backend binary (default: beside --remora)")
    parser.add_argument("--out", required=True, help="directory for config_scale.{md,json}")
    parser.add_argument("--smoke", action="store_true",
                        help="a few seconds: 100 clusters, 100 routes, 3 pushes, a 2 s swap run")
    parser.add_argument("--keep", action="store_true", help="keep the work dir (configs, logs)")
    args = parser.parse_args()
    args.remora = os.path.abspath(args.remora)
    args.mock_cp = os.path.abspath(args.mock_cp)
    args.backend = os.path.abspath(
        args.backend or os.path.join(os.path.dirname(args.remora), "remora-backend"))
    for flag, path in (("--remora", args.remora), ("--mock-cp", args.mock_cp),
                       ("--backend", args.backend)):
        if not os.access(path, os.X_OK):
            print(f"config_scale: {flag} {path} is not an executable", file=sys.stderr)
            return 2
    os.makedirs(args.out, exist_ok=True)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    work = tempfile.mkdtemp(prefix="remora-config-scale.")
    bench = Bench(args, work)
    started = time.monotonic()
    code = 0
    failure = None
    try:
        bench.run()
    except (BenchError, Interrupted) as e:
        failure = str(e)
        print(f"config_scale: FAILED: {failure}", file=sys.stderr)
        code = 1
    finally:
        # A second signal must not cut the cleanup short and leave processes behind.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        bench.procs.stop_all()
        if args.keep:
            print(f"config_scale: kept the work dir: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    bench.results["duration_s"] = round(time.monotonic() - started, 1)
    bench.results["loadavg_at_end"] = " ".join(open("/proc/loadavg").read().split()[:3])
    bench.results["ok"] = code == 0
    bench.results["failure"] = failure
    with open(os.path.join(args.out, "config_scale.json"), "w") as f:
        json.dump(bench.results, f, indent=1)
    # A failed run still leaves its section, saying why, for the report that includes it.
    text = report(bench.results) if code == 0 else (
        f"## Config scale (Remora alone)\n\n**Failed**: {failure}\n")
    with open(os.path.join(args.out, "config_scale.md"), "w") as f:
        f.write(text)
    print(text)
    return code


if __name__ == "__main__":
    sys.exit(main())
