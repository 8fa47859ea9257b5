"""The PostgreSQL store when PostgreSQL fails under a stream of device requests: the
server stopped (fast shutdown), killed (SIGKILL to all its processes, then crash
recovery), or paused (SIGSTOP: a stalled network or database). The class starts a
PostgreSQL server of its own (pg.py), so these tests run whatever JOBS_STORE says.

For each fault, with plugin_opt_store_timeout_ms 1500:
- every request is answered (accepted, or rejected with InternalError) within the
  timeout plus a margin, before, during and after the fault;
- the broker never hangs: a client's message on a topic that is not a jobs topic
  makes its round trip during the fault, and HTTP calls that write (CreateJob,
  UpdateJobExecution) are answered 503 within the same bound;
- once PostgreSQL is back the plugin reconnects by itself and updates are accepted
  again;
- every accepted update is in the database afterwards, read through a broker started
  afterwards on the same database; accepted updates of a thing have increasing
  versions, never one version twice.

Each test prints a line to stderr with what it saw (run with -v to see them).
"""
import collections
import http.client
import json
import sys
import threading
import time
import unittest

from harness import SLOW, WAIT, Broker, P, PostgresStore, free_port, thing_arn
from pg import PostgresServer

TIMEOUT_MS = 1500
# How much later than the timeout an answer may come on a loaded machine.
MARGIN = 3.0 * SLOW
BOUND = TIMEOUT_MS / 1000 + MARGIN


def report(test, line):
    print(f"\n  [{test.id().rsplit('.', 1)[-1]}] {line}", file=sys.stderr, flush=True)


class RequestStream:
    """Clients sending device requests one at a time, each for its own things in turn:
    an UpdateJobExecution IN_PROGRESS with statusDetails {"n": "<k>"} (k counts per
    thing), then a GetPendingJobExecutions. Records every request: (kind, thing, n,
    sent, answered or None, outcome, code, versionNumber)."""

    def __init__(self, broker, job_id, things, clients=3):
        self.job_id = job_id
        self.things = things
        self.stop_event = threading.Event()
        self.lock = threading.Lock()
        self.records = []
        self.anomalies = []
        self.clients = [broker.client(f"fault-stream{i}") for i in range(clients)]
        groups = [things[i::clients] for i in range(clients)]
        self.threads = [threading.Thread(target=self._run, args=(c, g), daemon=True)
                        for c, g in zip(self.clients, groups)]

    def start(self):
        for th in self.threads:
            th.start()

    def stop(self):
        if self.stop_event.is_set():
            return
        self.stop_event.set()
        for th in self.threads:
            th.join(BOUND + WAIT)
        for c in self.clients:
            try:
                c.close()
            except Exception:
                pass

    def _request(self, c, kind, thing, n, topic, payload):
        record = {"kind": kind, "thing": thing, "n": n, "sent": time.time(), "answered": None,
                  "outcome": None, "code": None, "version": None}
        with self.lock:
            self.records.append(record)
        c.c.publish(topic, json.dumps(payload), qos=1)
        # waits past the bound, so that a late answer is recorded as late, not as none
        deadline = record["sent"] + BOUND + WAIT
        while time.time() < deadline:
            m = c.get(max(0.0, deadline - time.time()))
            if m is None:
                break
            body = json.loads(m.payload)
            if body.get("clientToken") != payload["clientToken"]:
                self.anomalies.append(f"{c.id}: {m.topic} {m.payload[:200]!r} while waiting for "
                                      f"{payload['clientToken']}")
                continue
            record["answered"] = time.time()
            record["outcome"] = m.topic.rsplit("/", 1)[1]
            record["code"] = body.get("code")
            record["version"] = body.get("executionState", {}).get("versionNumber")
            if record["outcome"] == "accepted" and kind == "update":
                state = body.get("executionState", {})
                if state.get("statusDetails") != {"n": n} or state.get("status") != "IN_PROGRESS":
                    self.anomalies.append(f"{thing} n={n}: accepted with state {state}")
            return

    def _run(self, c, things):
        counters = {t: 0 for t in things}
        while not self.stop_event.is_set():
            for t in things:
                counters[t] += 1
                n = str(counters[t])
                self._request(c, "update", t, n, P(t, self.job_id, "update"),
                              {"status": "IN_PROGRESS", "statusDetails": {"n": n},
                               "includeJobExecutionState": True, "clientToken": f"u|{t}|{n}"})
                self._request(c, "get", t, n, P(t, "get"), {"clientToken": f"g|{t}|{n}"})
                if self.stop_event.is_set():
                    break

    def select(self, since=0.0, kind=None, outcome=None, answered=True):
        with self.lock:
            return [r for r in self.records if r["sent"] >= since and (kind is None or r["kind"] == kind)
                    and (outcome is None or r["outcome"] == outcome)
                    and (not answered or r["answered"] is not None)]


class PgFaultTest(unittest.TestCase):

    THINGS = [f"fault-t{i}" for i in range(6)]

    @classmethod
    def setUpClass(cls):
        cls.pg = PostgresServer()
        cls.pg.__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.pg.cleanup()

    def setUp(self):
        # a test that failed may have left the server down or paused
        self.pg.resume()
        if self.pg.proc is None:
            self.pg.start()

    def start_broker(self, store):
        """A broker on store with an HTTP listener whose unsigned loopback calls act as
        an operator (every identity is one in the harness's broker)."""
        port = free_port()
        b = Broker(options={"store_timeout_ms": str(TIMEOUT_MS), "http_listen": f"127.0.0.1:{port}",
                            "http_unsigned_identity": "fault-admin"}, store=store)
        b.http_port = port
        self.addCleanup(b.cleanup)
        b.start()
        self.addCleanup(b.stop)
        return b

    def http(self, broker, method, path, body):
        """(status, x-amzn-ErrorType, seconds taken) of an unsigned call."""
        sent = time.time()
        conn = http.client.HTTPConnection("127.0.0.1", broker.http_port, timeout=BOUND + WAIT)
        try:
            conn.request(method, path, body=json.dumps(body).encode(),
                         headers={"Host": f"127.0.0.1:{broker.http_port}"})
            resp = conn.getresponse()
            resp.read()
            return resp.status, resp.getheader("x-amzn-ErrorType"), time.time() - sent
        finally:
            conn.close()

    def connect(self, broker, name):
        c = broker.client(name)
        self.addCleanup(c.close)
        return c

    def wait_until(self, predicate, what, timeout):
        deadline = time.time() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.time() > deadline:
                self.fail(f"{what}: not within {timeout} s")
            time.sleep(0.05)

    def under_fault(self, fault, restore, what):
        store = PostgresStore.on(self.pg)
        b = self.start_broker(store)
        op = self.connect(b, "fault-op")
        [resp] = op.control({"command": "createJob", "jobId": "fj", "targets": self.THINGS, "document": {"f": 1}})
        self.assertNotIn("error", resp, resp)
        pinger = self.connect(b, "fault-pinger")
        stream = RequestStream(b, "fj", self.THINGS)
        self.addCleanup(stream.stop)
        stream.start()
        self.wait_until(lambda: len(stream.select(kind="update", outcome="accepted")) >= 6,
                        "six updates accepted before the fault", WAIT)

        fault_at = time.time()
        fault()
        # while PostgreSQL is out: requests are answered, updates fail, the broker serves other topics
        pings = []
        for _ in range(3):
            sent = time.time()
            pinger.sync(timeout=BOUND)
            pings.append(time.time() - sent)
        self.wait_until(lambda: len(stream.select(since=fault_at)) >= 8
                        and stream.select(since=fault_at, kind="update", outcome="rejected"),
                        "eight requests sent during the fault answered, an update among them rejected",
                        BOUND * 4 + WAIT)
        calls = [self.http(b, "PUT", "/jobs/fault-http-down", {"targets": [thing_arn("fault-h")], "document": "{}"}),
                 self.http(b, "POST", f"/things/{self.THINGS[0]}/jobs/fj", {"status": "IN_PROGRESS",
                                                                           "statusDetails": {"n": "http"}})]
        self.assertIsNone(b.proc.poll(), "the broker died")
        restore()
        back_at = time.time()
        # the plugin reconnects by itself
        self.wait_until(lambda: len(stream.select(since=back_at, kind="update", outcome="accepted")) >= 6,
                        "six updates accepted after PostgreSQL came back", WAIT * 3)
        recovered = min(r["answered"] for r in stream.select(since=back_at, kind="update", outcome="accepted"))
        status, error_type, _ = self.http(b, "PUT", "/jobs/fault-http-up", {"targets": [thing_arn("fault-h")],
                                                                             "document": "{}"})
        self.assertEqual(status, 200, error_type)
        stream.stop()
        self.assertIsNone(b.proc.poll(), "the broker died")

        records = stream.select(answered=False)
        unanswered = [r for r in records if r["answered"] is None]
        late = [r for r in records if r["answered"] is not None and r["answered"] - r["sent"] > BOUND]
        odd = [r for r in records if r["outcome"] == "rejected" and r["code"] != "InternalError"]
        # every accepted update is stored: read through a broker started now on the same database
        fresh = self.start_broker(store)
        reader = self.connect(fresh, "fault-reader")
        stored_unaccepted = 0
        for t in self.THINGS:
            with self.subTest(thing=t):
                accepted = [r for r in records if r["thing"] == t and r["kind"] == "update"
                            and r["outcome"] == "accepted"]
                versions = [r["version"] for r in sorted(accepted, key=lambda r: r["sent"])]
                self.assertEqual(versions, sorted(set(versions)), f"accepted versions of {t}: {versions}")
                outcome, body, _ = reader.request(P(t, "fj", "get"), {"includeJobDocument": False})
                self.assertEqual(outcome, "accepted", body)
                e = body["execution"]
                if accepted:
                    top = max(accepted, key=lambda r: r["version"])
                    self.assertGreaterEqual(e["versionNumber"], top["version"],
                                            f"accepted update n={top['n']} (version {top['version']}) lost")
                    if e["versionNumber"] == top["version"]:
                        self.assertEqual(e["statusDetails"], {"n": top["n"]})
                # version 1 queued; each update stored adds one
                stored_unaccepted += e["versionNumber"] - 1 - len(accepted)
        during = stream.select(since=fault_at)
        during = [r for r in during if r["sent"] < back_at]
        counts = collections.Counter(f"{r['kind']} {r['code'] or r['outcome']}" for r in records)
        slowest = max(r["answered"] - r["sent"] for r in records if r["answered"])
        report(self, f"{what}: {len(records)} requests ({dict(counts)}), {len(unanswered)} unanswered, "
                     f"{len(late)} answered later than {BOUND} s (slowest {slowest:.2f} s); during the fault "
                     f"{sum(1 for r in during if r['outcome'] == 'accepted')} accepted, "
                     f"{sum(1 for r in during if r['outcome'] == 'rejected')} InternalError; pings "
                     f"{', '.join(f'{p:.2f}' for p in pings)} s; first update accepted "
                     f"{recovered - back_at:.2f} s after PostgreSQL was back; "
                     f"{sum(1 for r in records if r['outcome'] == 'accepted' and r['kind'] == 'update')} accepted "
                     f"updates checked in the database; {stored_unaccepted} updates answered InternalError were stored too; "
                     f"HTTP during the fault: {[(s, e, round(t, 2)) for s, e, t in calls]}")
        self.assertEqual(stream.anomalies, [])
        self.assertEqual(unanswered, [], "requests never answered")
        self.assertEqual([(r["kind"], r["thing"], r["n"], round(r["answered"] - r["sent"], 2), r["outcome"], r["code"])
                          for r in late], [],
                         f"requests answered later than {BOUND} s (kind, thing, n, seconds, outcome, code); "
                         f"the broker's log says:\n" + "\n".join(line for line in b.read_log().splitlines()
                                                               if "jobs:" in line and "admin" not in line))
        self.assertEqual(odd, [], "requests rejected with something else than InternalError")
        self.assertEqual([(status, seconds <= BOUND) for status, _, seconds in calls], [(503, True)] * 2,
                         f"HTTP CreateJob and UpdateJobExecution during the fault: {calls}")

    def test_postgres_stopped(self):
        self.under_fault(lambda: self.pg.stop("fast"), self.pg.start, "fast shutdown")

    def test_postgres_killed(self):
        self.under_fault(self.pg.kill, self.pg.start, "SIGKILL, crash recovery")

    def test_postgres_paused(self):
        self.under_fault(self.pg.pause, self.pg.resume, "SIGSTOP (a stalled network)")


if __name__ == "__main__":
    unittest.main()
