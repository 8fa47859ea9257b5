"""Several brokers on one PostgreSQL database (plugin_opt_store postgresql://...), with
real clients spread over them. The class starts a PostgreSQL server of its own
(pg.py), so these tests run whatever JOBS_STORE says; each test gets a database of
its own and two or three brokers on it.

- a device on broker A is told (notify, notify-next) of jobs created, canceled,
  force-canceled and of executions canceled through broker B, over MQTT and over
  HTTP, and of its own execution changed through B;
- what a device changed through one broker is read through the other;
- timers, retries and rollouts happen exactly once with two brokers running;
- the same update with expectedVersion sent through A and B at once is never
  accepted twice;
- a broker killed with SIGKILL loses nothing it acknowledged;
- when the broker that ran the timers dies, another takes them over, and a timer
  fires exactly once.

Nothing is timed but "not early"; everything else waits for a condition with a
deadline (a change made through another broker reaches a broker within about one
loop pass and a round trip to the database).
"""
import http.client
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import time
import unittest

import test_crash
from harness import WAIT, Broker, P, PostgresStore, free_port, thing_arn
from pg import PostgresServer
from test_http_access import sign

# Job time runs 60 times faster than wall time: a job minute is one second.
SCALE = 60
JOB_MINUTE = 60.0 / SCALE
HTTP_KEY, HTTP_SECRET = "AKIDMULTIBROKER00001", "multi/broker+secret01"


def report(test, line):
    print(f"\n  [{test.id().rsplit('.', 1)[-1]}] {line}", file=sys.stderr, flush=True)


class MultiBrokerTest(unittest.TestCase):
    """One PostgreSQL server for the class; brokers on a fresh database per test."""

    @classmethod
    def setUpClass(cls):
        cls.pg = PostgresServer()
        cls.pg.__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.pg.cleanup()

    # -- brokers and clients --

    def new_store(self):
        return PostgresStore.on(self.pg)

    def start_broker(self, store, **options):
        """A broker on `store`, started; stopped (a clean exit checked) and removed
        after the test."""
        b = Broker(options=options, store=store)
        self.addCleanup(b.cleanup)
        b.start()
        self.addCleanup(b.stop)
        return b

    def cluster(self, n=2, **options):
        store = self.new_store()
        return [self.start_broker(store, **options) for _ in range(n)]

    def connect(self, broker, name):
        c = broker.client(name)
        self.addCleanup(c.close)
        return c

    def watcher(self, broker, name, *things):
        w = self.connect(broker, name)
        for t in things:
            w.subscribe(P(t, "notify"))
            w.subscribe(P(t, "notify-next"))
        return w

    # -- requests --

    def control_ok(self, op, command, **fields):
        [resp] = op.control(dict(fields, command=command))
        self.assertNotIn("error", resp, resp)
        return resp["data"]

    def device(self, dev, thing, levels, payload=None):
        outcome, body, _ = dev.request(P(thing, *levels.split("/")), payload or {})
        return outcome, body

    def device_ok(self, dev, thing, levels, payload=None):
        outcome, body = self.device(dev, thing, levels, payload)
        self.assertEqual(outcome, "accepted", body)
        return body

    def describe(self, dev, thing, job_id):
        return self.device_ok(dev, thing, f"{job_id}/get", {"includeJobDocument": False})["execution"]

    def wait_until(self, predicate, what, timeout=WAIT):
        """predicate()'s first true value, polled until the deadline."""
        deadline = time.time() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.time() > deadline:
                self.fail(f"{what}: not within {timeout} s (last: {value!r})")
            time.sleep(0.02)

    def wait_for(self, client, topic, accept, what, timeout=WAIT):
        """The first message on `topic` whose payload passes `accept` (others on that
        topic are dropped, other topics kept)."""
        deadline = time.time() + timeout
        while True:
            left = deadline - time.time()
            if left <= 0:
                self.fail(f"{client.id}: {what}: nothing matching on {topic} within {timeout} s")
            try:
                body, _ = client.expect(topic, timeout=left)
            except AssertionError:
                self.fail(f"{client.id}: {what}: nothing matching on {topic} within {timeout} s")
            if accept(body):
                return body

    @staticmethod
    def next_is(job_id, status):
        return lambda b: b.get("execution", {}).get("jobId") == job_id and b["execution"]["status"] == status

    @staticmethod
    def next_is_none(b):
        return "execution" not in b

    @staticmethod
    def pending_is(in_progress=(), queued=()):
        def accept(b):
            jobs = b.get("jobs", {})
            return ([s["jobId"] for s in jobs.get("IN_PROGRESS", [])] == list(in_progress)
                    and [s["jobId"] for s in jobs.get("QUEUED", [])] == list(queued))
        return accept

    # -- HTTP (signed, SigV4) --

    def http_broker(self, store, **options):
        tmp = tempfile.mkdtemp(prefix="jobs-it-keys-")
        self.addCleanup(shutil.rmtree, tmp, True)
        keys = os.path.join(tmp, "keys")
        with open(keys, "w") as f:
            f.write(f"{HTTP_KEY} {HTTP_SECRET} multi-admin\n")
        port = free_port()
        b = self.start_broker(store, http_listen=f"127.0.0.1:{port}", http_keys_file=keys, **options)
        b.http_port = port
        return b

    def http(self, broker, method, path, body=None, service="iot"):
        """(status, parsed body) of a signed request to broker's HTTP listener."""
        data = json.dumps(body).encode() if body is not None else b""
        host = f"127.0.0.1:{broker.http_port}"
        headers = sign(method, path, data, HTTP_KEY, HTTP_SECRET, service, host)
        conn = http.client.HTTPConnection("127.0.0.1", broker.http_port, timeout=WAIT)
        try:
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
            return resp.status, json.loads(raw) if raw else {}
        finally:
            conn.close()

    def http_ok(self, broker, method, path, body=None, service="iot"):
        status, out = self.http(broker, method, path, body, service)
        self.assertEqual(status, 200, out)
        return out


class NotifyAcrossBrokersTest(MultiBrokerTest):
    """A device connected to A hears of every change made through B."""

    def test_changes_through_b_over_mqtt_notify_a_device_on_a(self):
        a, b = self.cluster(2)
        t = "across-mqtt"
        w = self.watcher(a, "watch-a", t)
        op = self.connect(b, "op-b")
        dev_b = self.connect(b, "dev-b")

        self.control_ok(op, "createJob", jobId="m1", targets=[t], document={"n": 1})
        nxt = self.wait_for(w, P(t, "notify-next"), self.next_is("m1", "QUEUED"), "createJob m1 through B")
        self.assertEqual(nxt["execution"]["jobDocument"], {"n": 1})
        self.wait_for(w, P(t, "notify"), self.pending_is(queued=["m1"]), "createJob m1 through B")
        self.control_ok(op, "createJob", jobId="m2", targets=[t], document={"n": 2})
        self.control_ok(op, "createJob", jobId="m3", targets=[t], document={"n": 3})
        self.wait_for(w, P(t, "notify"), self.pending_is(queued=["m1", "m2", "m3"]), "createJob m2, m3 through B")

        # cancelJob (not forced) of a queued execution: m2 is next
        self.control_ok(op, "cancelJob", jobId="m1")
        self.wait_for(w, P(t, "notify-next"), self.next_is("m2", "QUEUED"), "cancelJob m1 through B")
        self.wait_for(w, P(t, "notify"), self.pending_is(queued=["m2", "m3"]), "cancelJob m1 through B")

        # the device itself moves an execution through B: m3 in progress is next
        self.device_ok(dev_b, t, "m3/update", {"status": "IN_PROGRESS", "statusDetails": {"step": "b"}})
        nxt = self.wait_for(w, P(t, "notify-next"), self.next_is("m3", "IN_PROGRESS"), "update m3 through B")
        self.assertEqual(nxt["execution"]["statusDetails"], {"step": "b"})

        # force-cancel of an in-progress execution
        self.control_ok(op, "cancelJob", jobId="m3", force=True)
        self.wait_for(w, P(t, "notify-next"), self.next_is("m2", "QUEUED"), "cancelJob m3 force through B")
        self.wait_for(w, P(t, "notify"), self.pending_is(queued=["m2"]), "cancelJob m3 force through B")

        # the device ends m2 through B
        self.assertEqual(self.device_ok(dev_b, t, "start-next")["execution"]["jobId"], "m2")
        self.device_ok(dev_b, t, "m2/update", {"status": "SUCCEEDED"})
        self.wait_for(w, P(t, "notify-next"), self.next_is_none, "update m2 SUCCEEDED through B")
        self.wait_for(w, P(t, "notify"), self.pending_is(), "update m2 SUCCEEDED through B")

        # cancelJobExecution of a queued one
        self.control_ok(op, "createJob", jobId="m4", targets=[t], document={"n": 4})
        self.wait_for(w, P(t, "notify-next"), self.next_is("m4", "QUEUED"), "createJob m4 through B")
        self.control_ok(op, "cancelJobExecution", jobId="m4", thingName=t)
        self.wait_for(w, P(t, "notify-next"), self.next_is_none, "cancelJobExecution m4 through B")
        self.wait_for(w, P(t, "notify"), self.pending_is(), "cancelJobExecution m4 through B")

        # and A answers what B did
        dev_a = self.connect(a, "dev-a")
        self.assertEqual(self.describe(dev_a, t, "m2")["status"], "SUCCEEDED")
        self.assertEqual(self.describe(dev_a, t, "m3")["status"], "CANCELED")
        self.assertEqual(self.describe(dev_a, t, "m4")["status"], "CANCELED")

    def test_changes_through_b_over_http_notify_a_device_on_a(self):
        store = self.new_store()
        a = self.start_broker(store)
        b = self.http_broker(store)
        t = "across-http"
        w = self.watcher(a, "watch-a", t)

        def create(job_id, n):
            out = self.http_ok(b, "PUT", f"/jobs/{job_id}", {"targets": [thing_arn(t)],
                                                             "document": json.dumps({"n": n})})
            self.assertEqual(out["jobId"], job_id)

        create("h1", 1)
        nxt = self.wait_for(w, P(t, "notify-next"), self.next_is("h1", "QUEUED"), "CreateJob h1 over HTTP on B")
        self.assertEqual(nxt["execution"]["jobDocument"], {"n": 1})
        self.wait_for(w, P(t, "notify"), self.pending_is(queued=["h1"]), "CreateJob h1 over HTTP on B")
        create("h2", 2)
        create("h3", 3)
        self.wait_for(w, P(t, "notify"), self.pending_is(queued=["h1", "h2", "h3"]), "CreateJob h2, h3 over HTTP on B")

        self.http_ok(b, "PUT", "/jobs/h1/cancel", {"comment": "through B"})
        self.wait_for(w, P(t, "notify-next"), self.next_is("h2", "QUEUED"), "CancelJob h1 over HTTP on B")

        # the device's own update over HTTP (iot-jobs-data) through B: h3 in progress is next
        out = self.http_ok(b, "POST", f"/things/{t}/jobs/h3", {"status": "IN_PROGRESS",
                                                               "statusDetails": {"step": "http"},
                                                               "includeJobExecutionState": True},
                           service="iot-jobs-data")
        self.assertEqual(out["executionState"]["status"], "IN_PROGRESS")
        nxt = self.wait_for(w, P(t, "notify-next"), self.next_is("h3", "IN_PROGRESS"),
                            "UpdateJobExecution h3 over HTTP on B")
        self.assertEqual(nxt["execution"]["statusDetails"], {"step": "http"})

        self.http_ok(b, "PUT", "/jobs/h3/cancel", {"force": True})
        self.wait_for(w, P(t, "notify-next"), self.next_is("h2", "QUEUED"), "CancelJob h3 force over HTTP on B")
        self.wait_for(w, P(t, "notify"), self.pending_is(queued=["h2"]), "CancelJob h3 force over HTTP on B")

        self.http_ok(b, "PUT", f"/things/{t}/jobs/h2/cancel", {"force": True})
        self.wait_for(w, P(t, "notify-next"), self.next_is_none, "CancelJobExecution h2 over HTTP on B")
        self.wait_for(w, P(t, "notify"), self.pending_is(), "CancelJobExecution h2 over HTTP on B")

        dev_a = self.connect(a, "dev-a")
        self.assertEqual(self.describe(dev_a, t, "h2")["status"], "CANCELED")
        self.assertEqual(self.describe(dev_a, t, "h3")["status"], "CANCELED")

    def test_a_device_on_b_hears_of_changes_through_a(self):
        """The other way round, with a third broker: changes through A reach watchers on
        B and C."""
        a, b, c = self.cluster(3)
        t = "across-three"
        wb, wc = self.watcher(b, "watch-b", t), self.watcher(c, "watch-c", t)
        op, dev = self.connect(a, "op-a"), self.connect(a, "dev-a")
        self.control_ok(op, "createJob", jobId="x1", targets=[t], document={"x": 1})
        for w in (wb, wc):
            self.wait_for(w, P(t, "notify-next"), self.next_is("x1", "QUEUED"), "createJob through A")
        self.device_ok(dev, t, "x1/update", {"status": "FAILED"})
        for w in (wb, wc):
            self.wait_for(w, P(t, "notify-next"), self.next_is_none, "update FAILED through A")
            self.wait_for(w, P(t, "notify"), self.pending_is(), "update FAILED through A")


class ReadAcrossBrokersTest(MultiBrokerTest):

    def test_an_update_through_a_is_read_through_b(self):
        a, b = self.cluster(2)
        op = self.connect(a, "op-a")
        dev_a, dev_b = self.connect(a, "dev-a"), self.connect(b, "dev-b")
        things = [f"read-t{i}" for i in range(5)]
        self.control_ok(op, "createJob", jobId="r1", targets=things, document={"r": 1})
        for k, t in enumerate(things):
            # through A, then through B, then through A again: each read where it was not written
            for step, (writer, reader) in enumerate([(dev_a, dev_b), (dev_b, dev_a), (dev_a, dev_b)]):
                details = {"step": f"{k}-{step}"}
                body = self.device_ok(writer, t, "r1/update", {"status": "IN_PROGRESS", "statusDetails": details,
                                                               "expectedVersion": step + 1,
                                                               "includeJobExecutionState": True})
                version = body["executionState"]["versionNumber"]
                self.assertEqual(version, step + 2)

                def seen(reader=reader, t=t):
                    # the reader may not know of the job yet (its creation reaches it a
                    # moment later, as the update does): not found is "not yet"
                    outcome, body = self.device(reader, t, "r1/get", {"includeJobDocument": False})
                    if outcome == "rejected" and body.get("code") == "ResourceNotFound":
                        return False
                    self.assertEqual(outcome, "accepted", body)
                    e = body["execution"]
                    return (e["versionNumber"], e.get("statusDetails")) == (version, details) and e
                e = self.wait_until(seen, f"{t}: update {details} through {writer.id} read through {reader.id}")
                self.assertEqual(e["status"], "IN_PROGRESS")
        # the pending lists and the management view through B agree
        for t in things:
            body = self.device_ok(dev_b, t, "get")
            self.assertEqual([s["jobId"] for s in body["inProgressJobs"]], ["r1"])
        op_b = self.connect(b, "op-b")
        self.wait_until(lambda: self.control_ok(op_b, "describeJob", jobId="r1")["job"]["jobProcessDetails"]
                        ["numberOfInProgressThings"] == 5, "describeJob through B counts 5 in progress")
        # both say where they keep it, and count the same
        described = [self.control_ok(o, "describeBroker") for o in (op, op_b)]
        for d in described:
            self.assertEqual((d["store"]["kind"], d["store"]["location"]), ("postgresql", a.store.uri))
        self.assertEqual(described[0]["executions"], described[1]["executions"])
        self.assertEqual(described[0]["executions"]["IN_PROGRESS"], 5)


class TimersAcrossBrokersTest(MultiBrokerTest):
    """Exactly one broker runs the timers, retries and rollouts."""

    def executions_of(self, op, thing, job_id):
        summaries = self.control_ok(op, "listJobExecutionsForThing", thingName=thing)["executionSummaries"]
        return sorted((s["jobExecutionSummary"]["executionNumber"], s["jobExecutionSummary"]["status"])
                      for s in summaries if s["jobId"] == job_id)

    def notifies(self, w, thing):
        """The notify messages w received for thing (consumed), after a round trip."""
        return [json.loads(m.payload) for m in w.sync() if m.topic == P(thing, "notify")]

    def test_a_step_timeout_fires_once_with_two_brokers(self):
        a, b = self.cluster(2, time_scale=str(SCALE))
        t = "timer-once"
        wa, wb = self.watcher(a, "watch-a", t), self.watcher(b, "watch-b", t)
        op, dev = self.connect(a, "op-a"), self.connect(a, "dev-a")
        self.control_ok(op, "createJob", jobId="s1", targets=[t], document={"s": 1})
        for w in (wa, wb):
            self.wait_for(w, P(t, "notify"), self.pending_is(queued=["s1"]), "createJob")
        sent = time.time()
        e = self.device_ok(dev, t, "start-next", {"stepTimeoutInMinutes": 1})["execution"]
        self.assertEqual((e["jobId"], e["versionNumber"]), ("s1", 2))
        # the device goes silent: both brokers' devices are told once it timed out
        for w in (wa, wb):
            self.wait_for(w, P(t, "notify"), self.pending_is(), "the step timeout")
        self.assertGreaterEqual(time.time() - sent, JOB_MINUTE - 0.05, "timed out early")
        op_b = self.connect(b, "op-b")
        for o in (op, op_b):
            self.wait_until(lambda o=o: self.executions_of(o, t, "s1") == [(1, "TIMED_OUT")],
                            f"TIMED_OUT seen through {o.id}")
            self.assertEqual(self.control_ok(o, "describeJob", jobId="s1")["job"]["jobProcessDetails"]
                             ["numberOfTimedOutThings"], 1)
        e = self.describe(dev, t, "s1")
        self.assertEqual((e["status"], e["versionNumber"]), ("TIMED_OUT", 3))
        # nothing more: no second TIMED_OUT, no second notify on either broker
        for w in (wa, wb):
            self.assertEqual(self.notifies(w, t), [])
        self.assertEqual(self.executions_of(op_b, t, "s1"), [(1, "TIMED_OUT")])

    def test_timed_out_retries_are_exactly_the_allowed_ones(self):
        a, b = self.cluster(2, time_scale=str(SCALE))
        t = "timer-retry"
        op = self.connect(a, "op-a")
        devs = [self.connect(a, "dev-a"), self.connect(b, "dev-b")]
        self.control_ok(op, "createJob", jobId="rt", targets=[t], document={"r": 1},
                        timeoutConfig={"inProgressTimeoutInMinutes": 1},
                        jobExecutionsRetryConfig={"criteriaList": [{"failureType": "TIMED_OUT",
                                                                    "numberOfRetries": 2}]})
        for number in (1, 2, 3):
            dev = devs[number % 2]   # the executions are started through B, A, B
            self.wait_until(lambda dev=dev, number=number: [
                q for q in self.device_ok(dev, t, "get")["queuedJobs"] if q["executionNumber"] == number],
                f"execution {number} queued, seen through {dev.id}")
            e = self.device_ok(dev, t, "start-next")["execution"]
            self.assertEqual((e["jobId"], e["executionNumber"], e["status"]), ("rt", number, "IN_PROGRESS"))
            self.wait_until(lambda number=number: (number, "TIMED_OUT") in self.executions_of(op, t, "rt"),
                            f"execution {number} to time out")
        # the third was the last allowed: nothing more comes, on either broker
        op_b = self.connect(b, "op-b")
        self.wait_until(lambda: self.control_ok(op_b, "describeJob", jobId="rt")["job"]["status"] == "COMPLETED",
                        "the job to complete, seen through B")
        for o in (op, op_b):
            self.assertEqual(self.executions_of(o, t, "rt"), [(1, "TIMED_OUT"), (2, "TIMED_OUT"), (3, "TIMED_OUT")])
        for dev in devs:
            body = self.device_ok(dev, t, "get")
            self.assertEqual((body["inProgressJobs"], body["queuedJobs"]), ([], []), dev.id)
            self.assertNotIn("execution", self.device_ok(dev, t, "start-next"))

    def test_a_rollout_releases_exactly_its_rate_across_brokers(self):
        a, b = self.cluster(2, time_scale=str(SCALE))
        things = [f"roll-t{i}" for i in range(9)]
        wa, wb = self.connect(a, "roll-watch-a"), self.connect(b, "roll-watch-b")
        for w in (wa, wb):
            for t in things:
                w.subscribe(P(t, "notify"))
        op_a, op_b = self.connect(a, "op-a"), self.connect(b, "op-b")
        sent = time.time()
        self.control_ok(op_a, "createJob", jobId="ro", targets=things, document={"ro": 1},
                        jobExecutionsRolloutConfig={"maximumPerMinute": 3})
        seen = []
        known = {op_a.id}  # B knows of the job a round trip later

        def executions(o):
            [resp] = o.control({"command": "describeJob", "jobId": "ro"})
            if o.id not in known and resp.get("error", "").startswith("ResourceNotFoundException"):
                return 0
            self.assertNotIn("error", resp, resp)
            known.add(o.id)
            return sum(resp["data"]["job"]["jobProcessDetails"].values())

        while True:
            for o in (op_a, op_b):
                n = executions(o)
                now = time.time()
                seen.append((round(now - sent, 2), o.id, n))
                # never more than three per job minute since the job was created, whichever broker says
                self.assertLessEqual(n, 3 * (int((now - sent) / JOB_MINUTE) + 1), seen)
                self.assertLessEqual(n, 9, seen)
            if all(s[2] == 9 for s in seen[-2:]):
                break
            self.assertLess(time.time() - sent, WAIT * 2, f"the rollout did not finish: {seen}")
            time.sleep(0.05)
        self.assertGreaterEqual(seen[-1][0], 2 * JOB_MINUTE - 0.05, seen)  # three job minutes: not early
        # each thing reached exactly once: one execution, one notify on each broker
        executions = self.control_ok(op_b, "listJobExecutionsForJob", jobId="ro")["executionSummaries"]
        self.assertEqual(sorted(e["thingArn"].rsplit("/", 1)[1] for e in executions), sorted(things))
        for w in (wa, wb):
            notified = [m.topic.split("/")[2] for m in w.sync() if m.topic.endswith("/notify")]
            self.assertEqual(sorted(notified), sorted(things), w.id)
        changes = [s for i, s in enumerate(seen) if i == 0 or s[1:] != seen[i - 2][1:]]
        report(self, f"counts seen (seconds after createJob, through, executions), as they changed: {changes}")


class RaceTest(MultiBrokerTest):

    ROUNDS = 20

    def test_the_same_update_through_two_brokers_is_accepted_once(self):
        a, b = self.cluster(2)
        t = "race-t"
        op = self.connect(a, "op-a")
        ca, cb = self.connect(a, "race-a"), self.connect(b, "race-b")
        self.control_ok(op, "createJob", jobId="race", targets=[t], document={"r": 1})
        version = 1
        outcomes = []
        for r in range(self.ROUNDS):
            # both brokers know the current version before the race
            for c in (ca, cb):
                # (the first time, B may not know the job yet)
                self.wait_until(lambda c=c: (lambda o, body: o == "accepted" and body["execution"]["versionNumber"]
                                             == version)(*self.device(c, t, "race/get")),
                                f"round {r}: version {version} through {c.id}")
            topic = P(t, "race", "update")
            for c, name in ((ca, "a"), (cb, "b")):
                c.c.publish(topic, json.dumps({"status": "IN_PROGRESS", "statusDetails": {"by": f"{name}{r}"},
                                               "expectedVersion": version, "clientToken": f"{name}{r}"}), qos=1)
            replies = {}
            for c, name in ((ca, "a"), (cb, "b")):
                outcome, body = test_crash.CrashTest.await_reply(self, c, topic)
                self.assertEqual(body.get("clientToken"), f"{name}{r}", body)
                replies[name] = (outcome, body.get("code"))
            winners = [n for n, (o, _) in replies.items() if o == "accepted"]
            outcomes.append(replies)
            self.assertLessEqual(len(winners), 1, f"round {r}: both accepted: {replies}")
            for n, (o, code) in replies.items():
                if o == "rejected":
                    self.assertIn(code, ("VersionMismatch", "InternalError"), replies)
            # exactly one more version, with the winner's details, through both brokers
            for c in (ca, cb):
                e = self.wait_until(lambda c=c: (lambda e: e["versionNumber"] > version and e)(
                    self.describe(c, t, "race")), f"round {r}: a new version through {c.id} ({replies})")
                self.assertEqual(e["versionNumber"], version + 1, replies)
                self.assertEqual(winners, [e["statusDetails"]["by"][0]],
                                 f"round {r}: stored {e['statusDetails']}, replies {replies}")
            version += 1
        report(self, f"{self.ROUNDS} rounds: "
                     + ", ".join(f"{k}={sum(1 for o in outcomes if tuple(sorted(x[1] or x[0] for x in o.values())) == k)}"
                                 for k in sorted({tuple(sorted(x[1] or x[0] for x in o.values())) for o in outcomes})))


class KillTest(MultiBrokerTest):

    THINGS = [f"kill-t{i:02d}" for i in range(12)]

    def test_a_killed_broker_loses_nothing_it_acknowledged(self):
        store = self.new_store()
        a, b = self.start_broker(store), self.start_broker(store)
        op, dev = self.connect(a, "kill-op"), self.connect(a, "kill-setup")
        self.control_ok(op, "createJob", jobId="crash-job", targets=self.THINGS, document={"k": 1})
        for t in self.THINGS:
            body = self.device_ok(dev, t, "crash-job/update",
                                  {"status": "IN_PROGRESS", "statusDetails": {"n": "0"},
                                   "expectedVersion": 1, "includeJobExecutionState": True})
            self.assertEqual(body["executionState"]["versionNumber"], 2)
        op.close()
        dev.close()
        base = {t: ("IN_PROGRESS", 2, {"n": "0"}) for t in self.THINGS}
        stream = test_crash.UpdateStream(a, "crash-job", {t: 2 for t in self.THINGS}, tag="a", clients=4)
        self.addCleanup(stream.stop)
        stream.start()
        self.wait_until(lambda: stream.total_accepted() > 0, "a first update accepted through A")
        delay = random.uniform(0.3, 1.0)
        time.sleep(delay)
        a.stop(sig=signal.SIGKILL)
        stream.stop()
        self.assertEqual(stream.anomalies, [])
        self.assertEqual(stream.rejected, [], "a pipelined update through A was rejected before the kill")
        top = {t: max([v for v, _ in stream.accepted[t]], default=2) for t in self.THINGS}

        def rows(broker, name):
            c = self.connect(broker, name)
            out = {}
            for t in self.THINGS:
                e = self.describe(c, t, "crash-job")
                out[t] = (e["status"], e["versionNumber"], e.get("statusDetails", {}))
            c.close()
            return out

        # through B, which was running all along (its replica catches up), then through a
        # broker started afterwards on the same database
        dev_b = self.connect(b, "kill-read-b")
        for t in self.THINGS:
            self.wait_until(lambda t=t: self.describe(dev_b, t, "crash-job")["versionNumber"] >= top[t],
                            f"{t}: the highest acknowledged version {top[t]} through B")
        checked, extra = test_crash.CrashTest.check_versions(self, stream, base, rows(b, "kill-rows-b"))
        c = self.start_broker(store)
        in_c = rows(c, "kill-rows-c")
        checked_c, _ = test_crash.CrashTest.check_versions(self, stream, base, in_c)
        self.assertEqual(checked, checked_c)
        self.wait_until(lambda: rows(b, "kill-rows-b2") == in_c, "B and the new broker agreeing")
        # B serves on: every thing moves on through B
        dev_b2 = self.connect(b, "kill-after-b")
        for t, (_, v, _) in in_c.items():
            body = self.device_ok(dev_b2, t, "crash-job/update", {"status": "SUCCEEDED", "expectedVersion": v,
                                                                  "includeJobExecutionState": True})
            self.assertEqual(body["executionState"]["versionNumber"], v + 1)
        report(self, f"killed {delay:.2f} s after the first acceptance: {sum(len(s) for s in stream.sent.values())} "
                     f"sent, {checked} accepted and all seen through B and a new broker "
                     f"({extra} unanswered at the kill were stored too)")

    def test_the_timers_move_when_their_broker_dies(self):
        store = self.new_store()
        a = self.start_broker(store, time_scale=str(SCALE))
        op_a, dev_a = self.connect(a, "op-a"), self.connect(a, "dev-a")
        # alone, A runs the timers: a probe times out through it
        self.control_ok(op_a, "createJob", jobId="probe", targets=["probe-t"], document={"p": 1})
        self.device_ok(dev_a, "probe-t", "start-next", {"stepTimeoutInMinutes": 1})
        self.wait_until(lambda: self.describe(dev_a, "probe-t", "probe")["status"] == "TIMED_OUT",
                        "the probe timing out with A alone")
        b = self.start_broker(store, time_scale=str(SCALE))
        t = "moved-t"
        wb = self.watcher(b, "watch-b", t)
        op_b, dev_b = self.connect(b, "op-b"), self.connect(b, "dev-b")
        self.control_ok(op_b, "createJob", jobId="mv", targets=[t], document={"m": 1},
                        jobExecutionsRetryConfig={"criteriaList": [{"failureType": "TIMED_OUT",
                                                                    "numberOfRetries": 1}]})
        self.wait_until(lambda: self.device_ok(dev_a, t, "get")["queuedJobs"], "A seeing the job")
        # started through A with a step of 3 job minutes (3 s); A dies at once
        started = time.time()
        e = self.device_ok(dev_a, t, "start-next", {"stepTimeoutInMinutes": 3})["execution"]
        self.assertEqual((e["jobId"], e["executionNumber"]), ("mv", 1))
        a.stop(sig=signal.SIGKILL)
        killed = time.time()
        self.assertLess(killed, started + 3 * JOB_MINUTE, "A died after the deadline (machine too slow)")
        # B takes the timers over: the execution times out, once, and its one retry is queued
        nxt = self.wait_for(wb, P(t, "notify-next"), lambda body: body.get("execution", {}).get("executionNumber") == 2,
                            "the retry after the timeout, through B", timeout=WAIT * 2)
        self.assertGreaterEqual(time.time() - started, 3 * JOB_MINUTE - 0.05, "timed out early")
        self.assertEqual((nxt["execution"]["jobId"], nxt["execution"]["status"]), ("mv", "QUEUED"))
        summaries = self.control_ok(op_b, "listJobExecutionsForThing", thingName=t)["executionSummaries"]
        self.assertEqual(sorted((s["jobExecutionSummary"]["executionNumber"], s["jobExecutionSummary"]["status"])
                                for s in summaries if s["jobId"] == "mv"), [(1, "TIMED_OUT"), (2, "QUEUED")])
        # the retry times out too (B runs the timers now), and that is the last
        e = self.device_ok(dev_b, t, "start-next", {"stepTimeoutInMinutes": 1})["execution"]
        self.assertEqual(e["executionNumber"], 2)
        self.wait_until(lambda: self.control_ok(op_b, "describeJob", jobId="mv")["job"]["status"] == "COMPLETED",
                        "the job completing after the retry's timeout")
        summaries = self.control_ok(op_b, "listJobExecutionsForThing", thingName=t)["executionSummaries"]
        self.assertEqual(sorted((s["jobExecutionSummary"]["executionNumber"], s["jobExecutionSummary"]["status"])
                                for s in summaries if s["jobId"] == "mv"), [(1, "TIMED_OUT"), (2, "TIMED_OUT")])
        report(self, f"A killed {killed - started:.2f} s after the start; B timed it out and retried once")


if __name__ == "__main__":
    unittest.main()
