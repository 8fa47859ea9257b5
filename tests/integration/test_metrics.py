"""Prometheus metrics at GET /metrics (docs/metrics.md): who may scrape them (the
bearer token of plugin_opt_metrics_token_file, or a request signed by an operator's
key), and what they say after known traffic, read back through a real Prometheus
server (Debian's `prometheus`) that scrapes the plugin with the token, as its
`authorization: credentials_file` sends it.
"""
import http.client
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest
import urllib.parse
import urllib.request

from harness import STORE, WAIT, Broker, OwnBrokersTest, P, free_port
from test_http_access import sign

OP_KEY, OP_SECRET = "AKIDMETRICSOPERATOR1", "metrics/operator+0001"
THING_KEY, THING_SECRET = "AKIDMETRICSTHING0001", "metrics/thing+0001"
TOKEN = "metrics-token-0123456789abcdef"
PROMETHEUS = shutil.which("prometheus")


def parse_exposition(text):
    """{(name, frozenset(labels)): value} of a text exposition."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        series, value = line.rsplit(" ", 1)
        name, labels = series, frozenset()
        if "{" in series:
            name, rest = series.split("{", 1)
            labels = frozenset(tuple(kv.split("=", 1)) for kv in rest.rstrip("}").split(",")) if rest != "}" else frozenset()
            labels = frozenset((k, v.strip('"')) for k, v in labels)
        out[(name, labels)] = float(value)
    return out


class MetricsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="jobs-metrics-")
        cls.keys_file = os.path.join(cls.dir, "keys")
        with open(cls.keys_file, "w") as f:
            f.write(f"{OP_KEY} {OP_SECRET} ops\n{THING_KEY} {THING_SECRET} metrics-thing-a\n")
        cls.token_file = os.path.join(cls.dir, "token")
        with open(cls.token_file, "w") as f:
            f.write(TOKEN + "\n")
        cls.http_port = free_port()
        cls.broker = Broker(options={
            "http_listen": f"127.0.0.1:{cls.http_port}", "http_keys_file": cls.keys_file,
            "metrics_token_file": cls.token_file, "operators": "ops operator", "rate_limit": "2"})
        try:
            cls.broker.start()
        except Exception:
            cls.broker.cleanup()
            shutil.rmtree(cls.dir, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.broker.stop()
        finally:
            cls.broker.cleanup()
            shutil.rmtree(cls.dir, ignore_errors=True)

    def scrape(self, headers=None, path="/metrics"):
        """(status, Content-Type, body text)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=30)
        try:
            conn.request("GET", path, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, resp.getheader("Content-Type"), resp.read().decode()
        finally:
            conn.close()

    def signed(self, key, secret):
        return sign("GET", "/metrics", b"", key, secret, "iot", f"127.0.0.1:{self.http_port}")

    def test_scrapes_refused_without_the_token_or_an_operator(self):
        status, _, body = self.scrape()
        self.assertIn(status, (400, 401, 403), body)
        status, _, body = self.scrape({"Authorization": "Bearer not-the-token"})
        self.assertEqual(status, 401, body)
        self.assertNotIn("jobs_", body)
        # signed by a key whose identity is a thing, not an operator
        status, _, body = self.scrape(self.signed(THING_KEY, THING_SECRET))
        self.assertEqual(status, 403, body)
        self.assertIn("not an operator", body)

    def test_scrapes_allowed_with_the_token_or_an_operators_signature(self):
        for headers in ({"Authorization": f"Bearer {TOKEN}"}, self.signed(OP_KEY, OP_SECRET)):
            status, ctype, body = self.scrape(headers)
            self.assertEqual(status, 200, body)
            self.assertTrue(ctype.startswith("text/plain; version=0.0.4"), ctype)
            metrics = parse_exposition(body)
            self.assertEqual(metrics[("jobs_store_up", frozenset())], 1)
            self.assertIn(("jobs_jobs", frozenset({("status", "IN_PROGRESS")})), metrics)
        # the token opens /metrics only: other paths still want a signature
        status, _, _ = self.scrape({"Authorization": f"Bearer {TOKEN}"}, path="/jobs")
        self.assertNotEqual(status, 200)

    def test_prometheus_scrapes_what_the_traffic_did(self):
        if not PROMETHEUS:
            self.skipTest("no prometheus: run scripts/install-deps")
        b = self.broker
        operator = b.client("operator")
        self.addCleanup(operator.close)
        job = "metrics-job-1"
        thing_a, thing_b, thing_c = "metrics-thing-a", "metrics-thing-b", "metrics-thing-c"
        [resp] = operator.control({"command": "createJob", "jobId": job, "targets": [thing_a, thing_b],
                                   "document": {"do": "it"}, "timeoutConfig": {"inProgressTimeoutInMinutes": 60}})
        self.assertNotIn("error", resp, resp)
        [resp] = operator.control({"command": "noSuchCommand"})
        self.assertIn("error", resp, resp)

        tally = {}      # (operation, outcome) -> replies seen

        def device(client, thing, op, suffix, payload=None):
            outcome, body, _ = client.request(P(thing, *suffix), payload or {})
            code = "ok" if outcome == "accepted" else body["code"]
            tally[(op, code)] = tally.get((op, code), 0) + 1
            return outcome, body

        a = b.client(thing_a)
        self.addCleanup(a.close)
        a.subscribe(P(thing_a, "#"))
        outcome, body = device(a, thing_a, "StartNextPendingJobExecution", ("start-next",))
        self.assertEqual(outcome, "accepted", body)
        bb = b.client(thing_b)
        self.addCleanup(bb.close)
        bb.subscribe(P(thing_b, "#"))
        outcome, body = device(bb, thing_b, "GetPendingJobExecutions", ("get",))
        self.assertEqual(outcome, "accepted", body)
        # thing C: a burst over its rate limit (2 a second), and a job it does not have
        c = b.client(thing_c)
        self.addCleanup(c.close)
        c.subscribe(P(thing_c, "#"))
        for _ in range(5):
            device(c, thing_c, "DescribeJobExecution", (job, "get"))
        self.assertIn(("DescribeJobExecution", "RequestThrottled"), tally)
        throttled = tally[("DescribeJobExecution", "RequestThrottled")]
        mqtt_requests = sum(tally.values())

        promdir = os.path.join(self.dir, "prometheus")
        os.makedirs(promdir)
        conf = os.path.join(promdir, "prometheus.yml")
        with open(conf, "w") as f:
            f.write(f"""global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: jobs
    metrics_path: /metrics
    authorization:
      type: Bearer
      credentials_file: {self.token_file}
    static_configs:
      - targets: ["127.0.0.1:{self.http_port}"]
""")
        prom_port = free_port()
        log = open(os.path.join(promdir, "log"), "wb")
        self.addCleanup(log.close)
        prom = subprocess.Popen([PROMETHEUS, f"--config.file={conf}", f"--storage.tsdb.path={promdir}/data",
                                 f"--web.listen-address=127.0.0.1:{prom_port}"], stdout=log, stderr=subprocess.STDOUT)

        def stop():
            prom.terminate()
            try:
                prom.wait(timeout=30)
            except subprocess.TimeoutExpired:
                prom.kill()
                prom.wait()
        self.addCleanup(stop)

        def query(expr):
            url = f"http://127.0.0.1:{prom_port}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
            with urllib.request.urlopen(url, timeout=10) as r:
                data = json.load(r)
            self.assertEqual(data["status"], "success", data)
            return {frozenset(s["metric"].items()): float(s["value"][1]) for s in data["data"]["result"]}

        # Prometheus starts, then scrapes every second: wait for a scrape that saw the
        # whole traffic (the counters only grow, and nothing else runs on this broker
        # that a scrape would not see)
        expect_total = 'sum(jobs_device_requests_total{job="jobs"})'
        deadline = time.time() + 6 * WAIT
        seen = None
        while time.time() < deadline:
            if prom.poll() is not None:
                with open(os.path.join(promdir, "log"), errors="replace") as f:
                    self.fail("prometheus exited:\n" + f.read())
            try:
                seen = query(expect_total)
                if seen and list(seen.values())[0] >= mqtt_requests:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        self.assertTrue(seen, "prometheus never scraped the plugin")
        self.assertEqual(list(seen.values())[0], mqtt_requests)

        self.assertEqual(list(query('up{job="jobs"}').values()), [1.0])
        by_op = query("jobs_device_requests_total")
        got = {(dict(k)["operation"], dict(k)["outcome"]): v for k, v in by_op.items()}
        self.assertEqual(got, {k: float(v) for k, v in tally.items()})
        self.assertEqual(list(query("jobs_rate_limited_requests_total").values()), [float(throttled)])
        commands = {(dict(k)["command"], dict(k)["outcome"]): v
                    for k, v in query("jobs_management_commands_total").items()}
        self.assertEqual(commands[("createJob", "ok")], 1)
        self.assertEqual(commands[("unknown", "InvalidRequestException")], 1)
        # every MQTT device request had its reply handed to the broker
        self.assertEqual(list(query("jobs_reply_latency_seconds_count").values()), [float(mqtt_requests)])
        self.assertEqual(list(query('jobs_reply_latency_seconds_bucket{le="+Inf"}').values()),
                         [float(mqtt_requests)])
        # one execution in progress (A), one queued (B); the job in progress
        executions = {dict(k)["status"]: v for k, v in query("jobs_executions").items()}
        self.assertEqual(executions["IN_PROGRESS"], 1)
        self.assertEqual(executions["QUEUED"], 1)
        self.assertEqual(executions["SUCCEEDED"], 0)
        jobs = {dict(k)["status"]: v for k, v in query("jobs_jobs").items()}
        self.assertEqual(jobs["IN_PROGRESS"], 1)
        # A's in-progress timeout runs
        self.assertEqual(list(query("jobs_timers_pending").values()), [1.0])
        # every batch that committed the requests above is counted, with its requests
        batches = list(query("jobs_commit_batch_requests_sum").values())
        self.assertEqual(len(batches), 1)
        self.assertGreaterEqual(batches[0], mqtt_requests - throttled + 2)
        self.assertGreaterEqual(list(query("jobs_commit_duration_seconds_count").values())[0], 1)
        self.assertGreaterEqual(list(query("jobs_tick_duration_seconds_count").values())[0], 1)
        if STORE == "sqlite":
            self.assertGreater(list(query("jobs_store_database_bytes").values())[0], 0)
            self.assertEqual(len(query("jobs_store_wal_bytes")), 1)
        else:
            self.assertEqual(query("jobs_store_database_bytes"), {})


class MetricsAccessTest(OwnBrokersTest):
    """A listener without keys file: /metrics for loopback requests when the unsigned
    identity is an operator; a token file that holds no token stops start-up."""

    def get(self, port, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.request("GET", "/metrics", headers=headers or {})
            resp = conn.getresponse()
            return resp.status, resp.read().decode()
        finally:
            conn.close()

    def test_unsigned_loopback_scrape_as_the_unsigned_identity(self):
        port = free_port()
        b = self.broker(http_listen=f"127.0.0.1:{port}", http_unsigned_identity="ops", operators="ops")
        b.start()
        status, body = self.get(port)
        self.assertEqual(status, 200, body)
        self.assertIn("\njobs_store_up 1\n", body)
        b.stop()
        # the same identity, no longer an operator
        b.options["operators"] = "someone-else"
        b.start()
        status, body = self.get(port)
        self.assertEqual(status, 403, body)
        self.assertIn("'ops' is not an operator", body)

    def test_token_file_without_a_token_stops_start_up(self):
        d = tempfile.mkdtemp(prefix="jobs-metrics-")
        self.addCleanup(shutil.rmtree, d, True)
        path = os.path.join(d, "token")
        with open(path, "w") as f:
            f.write("\nsecond-line\n")
        b = self.broker(http_listen=f"127.0.0.1:{free_port()}", metrics_token_file=path)
        log = b.start(expect_failure=True)
        self.assertIn(f"plugin_opt_metrics_token_file {path}: the first line holds no token", log)
        # and without an HTTP listener, the option has nothing to serve
        b = self.broker(metrics_token_file=path)
        log = b.start(expect_failure=True)
        self.assertIn("plugin_opt_metrics_token_file is set but plugin_opt_http_listen is not", log)


if __name__ == "__main__":
    unittest.main()
