"""Time and fleet policies through the real broker (docs/policies.md): timers,
retries, rollouts, aborts, schedules, and timers that expire while the broker is down.

The broker runs with plugin_opt_time_scale 600: one job minute passes in 0.1 s of wall
time (a 10-minute timeout is one second). Absolute times (schedules) are not scaled.
Mosquitto ticks the plugin on every pass of its loop, so what is due happens a little
after it is due; the tests wait with deadlines and never assert an exact wall time.
The only timing assertions are bounds that load cannot break: nothing happens before
it is due."""
import datetime
import json
import time
import unittest

from harness import Broker, P, SharedBrokerTest

SCALE = 600
JOB_MINUTE = 60.0 / SCALE  # wall seconds
WAIT = 15.0                # how long anything due may take to happen on a loaded machine


def utc(seconds_since_epoch, with_seconds=True):
    t = datetime.datetime.fromtimestamp(seconds_since_epoch, tz=datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ" if with_seconds else "%Y-%m-%dT%H:%M")


class PolicyTest(SharedBrokerTest):

    options = {"time_scale": str(SCALE)}

    def setUp(self):
        super().setUp()
        self.dev = self.client()

    # -- helpers --

    def job(self, things, **policies):
        job_id = self.name("j")[:64]
        self.create_job(job_id, list(things), {"doc": job_id}, **policies)
        return job_id

    def ok(self, thing, levels, payload=None):
        outcome, body, _ = self.dev.request(P(thing, *levels.split("/")), payload or {})
        self.assertEqual(outcome, "accepted", body)
        return body

    def rejected(self, thing, levels, payload=None):
        outcome, body, _ = self.dev.request(P(thing, *levels.split("/")), payload or {})
        self.assertEqual(outcome, "rejected", body)
        return body

    def control_ok(self, command, **fields):
        [resp] = self.operator.control(dict(fields, command=command))
        self.assertNotIn("error", resp, resp)
        return resp["data"]

    def describe_job(self, job_id):
        return self.control_ok("describeJob", jobId=job_id)["job"]

    def executions(self, job_id):
        """How many things the job reached (executions of any status)."""
        return sum(self.describe_job(job_id)["jobProcessDetails"].values())

    def pending(self, thing):
        body = self.ok(thing, "get")
        return body["inProgressJobs"] + body["queuedJobs"]

    def watcher(self, *things):
        w = self.client()
        for t in things:
            w.subscribe(P(t, "notify"))
            w.subscribe(P(t, "notify-next"))
        return w

    def wait_for(self, client, topic, accept=lambda body: True, timeout=WAIT):
        """The first message on `topic` whose payload passes `accept` (others on that
        topic are dropped, others on other topics kept)."""
        deadline = time.time() + timeout
        while True:
            left = deadline - time.time()
            if left <= 0:
                self.fail(f"nothing matching on {topic} within {timeout} s")
            body, _ = client.expect(topic, timeout=left)
            if accept(body):
                return body

    def wait_until(self, predicate, what, timeout=WAIT, interval=0.02):
        deadline = time.time() + timeout
        while time.time() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(interval)
        self.fail(f"{what}: not within {timeout} s")

    # -- timers --

    def test_silent_device_times_out(self):
        job_id = self.job([self.thing], timeoutConfig={"inProgressTimeoutInMinutes": 10})
        w = self.watcher(self.thing)
        w.sync()
        sent = time.time()
        execution = self.ok(self.thing, "start-next")["execution"]
        self.assertEqual((execution["jobId"], execution["status"], execution["versionNumber"]),
                         (job_id, "IN_PROGRESS", 2))
        left = execution["approximateSecondsBeforeTimedOut"]
        self.assertIsInstance(left, int)
        self.assertTrue(0 < left <= 600, left)  # job seconds, not wall seconds
        # the device goes silent: TIMED_OUT arrives as notify and notify-next
        notify = self.wait_for(w, P(self.thing, "notify"))
        fired = time.time()
        self.assertEqual(notify["jobs"], {})
        self.assertGreaterEqual(fired - sent, 10 * JOB_MINUTE - 0.05)  # not early
        nxt = self.wait_for(w, P(self.thing, "notify-next"))
        self.assertNotIn("execution", nxt)
        # its late update is refused with the state it is in
        body = self.rejected(self.thing, f"{job_id}/update", {"status": "SUCCEEDED"})
        self.assertEqual(body["code"], "InvalidStateTransition")
        self.assertEqual(body["executionState"]["status"], "TIMED_OUT")
        self.assertEqual(body["executionState"]["versionNumber"], 3)
        described = self.ok(self.thing, f"{job_id}/get")["execution"]
        self.assertEqual(described["status"], "TIMED_OUT")
        self.assertNotIn("approximateSecondsBeforeTimedOut", described)
        job = self.describe_job(job_id)
        self.assertEqual(job["jobProcessDetails"]["numberOfTimedOutThings"], 1)
        self.assertEqual(job["status"], "COMPLETED")

    def test_timed_out_execution_is_retried(self):
        job_id = self.job([self.thing], timeoutConfig={"inProgressTimeoutInMinutes": 3},
                          jobExecutionsRetryConfig={"criteriaList": [
                              {"failureType": "TIMED_OUT", "numberOfRetries": 1}]})
        w = self.watcher(self.thing)
        w.sync()
        first = self.ok(self.thing, "start-next")["execution"]
        self.assertEqual(first["executionNumber"], 1)
        # silent: times out, and the retry arrives through notify-next
        nxt = self.wait_for(w, P(self.thing, "notify-next"), lambda b: "execution" in b)
        retry = nxt["execution"]
        self.assertEqual((retry["jobId"], retry["status"], retry["executionNumber"]),
                         (job_id, "QUEUED", 2))
        self.assertEqual(retry["jobDocument"], {"doc": job_id})
        # this time the device is quick
        second = self.ok(self.thing, "start-next")["execution"]
        self.assertEqual(second["executionNumber"], 2)
        self.ok(self.thing, f"{job_id}/update", {"status": "SUCCEEDED"})
        summaries = self.control_ok("listJobExecutionsForThing", thingName=self.thing)["executionSummaries"]
        got = sorted((s["jobExecutionSummary"]["executionNumber"], s["jobExecutionSummary"]["status"],
                      s["jobExecutionSummary"]["retryAttempt"]) for s in summaries if s["jobId"] == job_id)
        self.assertEqual(got, [(1, "TIMED_OUT", 0), (2, "SUCCEEDED", 1)])
        # the old execution is history, described by number
        old = self.ok(self.thing, f"{job_id}/get", {"executionNumber": 1})["execution"]
        self.assertEqual(old["status"], "TIMED_OUT")
        self.assertEqual(self.describe_job(job_id)["status"], "COMPLETED")

    def test_step_timeout(self):
        a, b = self.thing, self.name("t")
        job_id = self.job([a, b])
        # a: a long step, then a shorter one replaces it
        started = self.ok(a, "start-next", {"stepTimeoutInMinutes": 600})["execution"]
        self.assertGreater(started["approximateSecondsBeforeTimedOut"], 30000)
        # b: a step that is canceled with -1 right away
        self.ok(b, "start-next", {"stepTimeoutInMinutes": 20})
        self.ok(b, f"{job_id}/update", {"status": "IN_PROGRESS", "stepTimeoutInMinutes": -1})
        self.assertNotIn("approximateSecondsBeforeTimedOut", self.ok(b, f"{job_id}/get")["execution"])
        w = self.watcher(a)
        w.sync()
        sent = time.time()
        self.ok(a, f"{job_id}/update", {"status": "IN_PROGRESS", "stepTimeoutInMinutes": 25})
        left = self.ok(a, f"{job_id}/get")["execution"].get("approximateSecondsBeforeTimedOut")
        self.assertIsNotNone(left)
        self.assertLessEqual(left, 25 * 60)
        self.wait_for(w, P(a, "notify"))
        self.assertGreaterEqual(time.time() - sent, 25 * JOB_MINUTE - 0.05)  # not early
        body = self.rejected(a, f"{job_id}/update", {"status": "IN_PROGRESS"})
        self.assertEqual(body["executionState"]["status"], "TIMED_OUT")
        # a's 25 minutes were set after b's 20 started: b's would have run out by now
        self.assertEqual(self.ok(b, f"{job_id}/get")["execution"]["status"], "IN_PROGRESS")
        self.ok(b, f"{job_id}/update", {"status": "SUCCEEDED"})
        self.assertEqual(self.describe_job(job_id)["jobProcessDetails"]["numberOfTimedOutThings"], 1)

    # -- rollouts --

    def test_rollout_proceeds_in_steps(self):
        things = [self.name("r") for _ in range(12)]
        w = self.client()
        for t in things:
            w.subscribe(P(t, "notify"))
        w.sync()
        sent = time.time()
        job_id = self.job(things, jobExecutionsRolloutConfig={"maximumPerMinute": 4})
        # straight after creation: nobody beyond the first minute's four sees it
        visible = sum(1 for t in things if self.pending(t))
        self.assertLessEqual(visible, 4 * (int((time.time() - sent) / JOB_MINUTE) + 1))
        seen = []  # (wall time of the answer, executions)
        while True:
            n = self.executions(job_id)
            now = time.time()
            seen.append((now, n))
            # a tick queues a whole minute's four at once
            self.assertEqual(n % 4, 0, seen)
            # never more than four per job minute since the job was created
            allowed = 4 * (int((now - sent) / JOB_MINUTE) + 1)
            self.assertLessEqual(n, allowed, seen)
            if n == 12:
                break
            self.assertLess(now - sent, WAIT, f"rollout did not finish: {seen}")
            time.sleep(0.01)
        # three minutes at least: the last four came two job minutes after the first
        self.assertGreaterEqual(seen[-1][0] - sent, 2 * JOB_MINUTE - 0.02, seen)
        # every thing was told exactly once, when its turn came
        notified = [m.topic.split("/")[2] for m in w.sync() if m.topic.endswith("/notify")]
        self.assertEqual(sorted(notified), sorted(things))
        for t in things:
            [entry] = self.pending(t)
            self.assertEqual(entry["jobId"], job_id)
        self.assertEqual(self.describe_job(job_id)["jobProcessDetails"]["numberOfQueuedThings"], 12)

    # -- aborts --

    def test_abort_stops_a_failing_job(self):
        # one thing per job minute: reaching all 100 takes 10 s of wall time, far more
        # than failing the first two takes even on a loaded machine
        things = [self.name("a") for _ in range(100)]
        w = self.client()
        for t in things:
            w.subscribe(P(t, "notify"))
        w.sync()
        job_id = self.job(things, jobExecutionsRolloutConfig={"maximumPerMinute": 1},
                          abortConfig={"criteriaList": [{
                              "failureType": "FAILED", "action": "CANCEL",
                              "thresholdPercentage": 50, "minNumberOfExecutedThings": 2}]})
        # the first two things reached fail
        failed = []
        while len(failed) < 2:
            m = w.get(WAIT)
            self.assertIsNotNone(m, "the rollout did not reach anybody")
            thing = m.topic.split("/")[2]
            if json.loads(m.payload)["jobs"].get("QUEUED") and thing not in failed:
                self.ok(thing, f"{job_id}/update", {"status": "FAILED"})
                failed.append(thing)
                if len(failed) == 1:
                    self.assertEqual(self.describe_job(job_id)["status"], "IN_PROGRESS")
        job = self.describe_job(job_id)
        self.assertEqual(job["status"], "CANCELED")
        self.assertEqual(job["reasonCode"], "ABORTED")
        self.assertFalse(job["forceCanceled"])
        details = job["jobProcessDetails"]
        self.assertEqual(details["numberOfFailedThings"], 2)
        self.assertEqual(details["numberOfQueuedThings"], 0)
        reached = sum(details.values())
        self.assertLess(reached, len(things))
        # the rollout stopped: several job minutes later nobody new was reached
        time.sleep(10 * JOB_MINUTE)
        self.assertEqual(sum(self.describe_job(job_id)["jobProcessDetails"].values()), reached)
        for t in things:
            self.assertEqual(self.pending(t), [])
            if t not in failed:
                outcome, body, _ = self.dev.request(P(t, job_id, "update"), {"status": "IN_PROGRESS"})
                self.assertEqual(outcome, "rejected", body)
                if body["code"] == "InvalidStateTransition":  # reached, then canceled
                    self.assertEqual(body["executionState"]["status"], "CANCELED")
                else:                                         # never reached
                    self.assertEqual(body["code"], "ResourceNotFound")

    # -- schedules --

    def test_scheduled_job_appears_at_its_start(self):
        start = int(time.time()) + 4  # 3-4 s ahead, a whole second
        w = self.watcher(self.thing)
        w.sync()
        job_id = self.job([self.thing], schedulingConfig={"startTime": utc(start)})
        # invisible until then: start-next, which would start it, once at once (seconds
        # before the start); then the reads, each judged when its answer came before
        # the start (the broker read its clock before answering)
        self.assertNotIn("execution", self.ok(self.thing, "start-next"))
        while True:
            status = self.describe_job(job_id)["status"]
            pending = self.pending(self.thing)
            outcome, body, _ = self.dev.request(P(self.thing, job_id, "get"), {})
            if time.time() >= start:
                break
            self.assertEqual(status, "SCHEDULED")
            self.assertEqual(pending, [])
            self.assertEqual((outcome, body.get("code")), ("rejected", "ResourceNotFound"), body)
            if time.time() >= start - 0.5:
                break
            time.sleep(0.1)
        early = w.sync()
        if time.time() < start:
            self.assertEqual([m.topic for m in early], [])  # all of them came before the start
        else:
            for m in early:  # too late to tell: look at them below
                w.messages.put(m)
        # then it appears (absolute times are not scaled: it takes real seconds)
        nxt = self.wait_for(w, P(self.thing, "notify-next"))
        self.assertGreaterEqual(time.time(), start - 0.01)
        self.assertEqual(nxt["execution"]["jobId"], job_id)
        self.assertEqual(nxt["execution"]["status"], "QUEUED")
        notify = self.wait_for(w, P(self.thing, "notify"))
        self.assertEqual([s["jobId"] for s in notify["jobs"]["QUEUED"]], [job_id])
        self.assertEqual(self.describe_job(job_id)["status"], "IN_PROGRESS")
        self.assertEqual([s["jobId"] for s in self.pending(self.thing)], [job_id])


class RestartTest(unittest.TestCase):
    """A timer that expires while the broker is down fires when it is back."""

    def test_timer_expired_while_down_fires_at_restart(self):
        broker = Broker(options={"time_scale": str(SCALE)})
        self.addCleanup(broker.cleanup)
        broker.start()
        op, dev = broker.client("op-restart"), broker.client("dev-restart")
        short, long_ = "restart-short", "restart-long"

        def control_ok(client, command, **fields):
            [resp] = client.control(dict(fields, command=command))
            self.assertNotIn("error", resp, resp)
            return resp["data"]

        def device(client, thing, levels, payload=None):
            return client.request(P(thing, *levels.split("/")), payload or {})

        control_ok(op, "createJob", jobId="rj", targets=[short, long_], document={"n": 1},
                   timeoutConfig={"inProgressTimeoutInMinutes": 15})
        outcome, body, _ = device(dev, short, "start-next")
        started = time.time()
        self.assertEqual(outcome, "accepted", body)
        self.assertEqual(body["execution"]["status"], "IN_PROGRESS")
        # the other thing's timer runs far longer (a step timer of 8000 job minutes
        # cannot outlast the in-progress one: use its own job)
        control_ok(op, "createJob", jobId="rj-long", targets=[long_], document={"n": 2},
                   timeoutConfig={"inProgressTimeoutInMinutes": 10080})
        outcome, body, _ = device(dev, long_, "rj-long/update", {"status": "IN_PROGRESS"})
        self.assertEqual(outcome, "accepted", body)
        long_left = device(dev, long_, "rj-long/get")[1]["execution"]["approximateSecondsBeforeTimedOut"]
        op.close()
        dev.close()
        broker.stop()
        # down past the 1.5 s deadline
        time.sleep(max(0.0, started + 15 * JOB_MINUTE + 0.5 - time.time()))
        broker.start()
        self.addCleanup(broker.stop)
        op, dev = broker.client("op-restart2"), broker.client("dev-restart2")
        self.addCleanup(op.close)
        self.addCleanup(dev.close)
        # the first look after the restart already sees it timed out
        outcome, body, _ = device(dev, short, "rj/get")
        self.assertEqual(outcome, "accepted", body)
        self.assertEqual(body["execution"]["status"], "TIMED_OUT")
        self.assertEqual(body["execution"]["versionNumber"], 3)
        outcome, body, _ = device(dev, short, "rj/update", {"status": "SUCCEEDED"})
        self.assertEqual(outcome, "rejected", body)
        self.assertEqual(body["executionState"]["status"], "TIMED_OUT")
        self.assertEqual(control_ok(op, "describeJobExecution", jobId="rj", thingName=short)
                         ["execution"]["status"], "TIMED_OUT")
        # the running timers survived too: the rj execution of long_ is still queued,
        # rj-long is in progress with its clock still running down
        execution = device(dev, long_, "rj-long/get")[1]["execution"]
        self.assertEqual(execution["status"], "IN_PROGRESS")
        self.assertLess(execution["approximateSecondsBeforeTimedOut"], long_left)
        self.assertGreater(execution["approximateSecondsBeforeTimedOut"], long_left - 3600 * 10)
        self.assertEqual(device(dev, long_, "rj/get")[1]["execution"]["status"], "QUEUED")


if __name__ == "__main__":
    unittest.main()
