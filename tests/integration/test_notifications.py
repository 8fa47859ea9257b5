"""Who gets what (docs/protocol.md, Notifications): replies only to the requester; notify and
notify-next to subscribers, exactly when the pending set or the $next execution
changes."""
import json
import time
import unittest

from harness import P, SharedBrokerTest


class NotificationTest(SharedBrokerTest):

    def setUp(self):
        super().setUp()
        self.dev = self.client()

    def job(self, *things, document=None):
        job_id = self.name("j")[:64]
        self.create_job(job_id, list(things) or [self.thing],
                        document if document is not None else {"doc": job_id})
        return job_id

    def watcher(self, thing=None):
        """A client subscribed to thing's notify and notify-next."""
        w = self.client()
        w.subscribe(P(thing or self.thing, "notify"))
        w.subscribe(P(thing or self.thing, "notify-next"))
        return w

    def request(self, levels, payload=None, thing=None):
        outcome, body, _ = self.dev.request(P(thing or self.thing, *levels.split("/")), payload)
        return outcome, body

    def ok(self, levels, payload=None, thing=None):
        outcome, body = self.request(levels, payload, thing)
        self.assertEqual(outcome, "accepted", body)
        return body

    def received(self, w, thing=None):
        """Everything w got since the last call, as {"notify": [...], "notify-next": [...]}
        (the spec promises no order between the two); fails on anything else."""
        thing = thing or self.thing
        out = {"notify": [], "notify-next": []}
        for m in w.sync():
            kind = m.topic[len(P(thing)) + 1:]
            self.assertIn(kind, out, f"unexpected message on {m.topic}")
            self.assertEqual(m.qos, 1)
            body = json.loads(m.payload)
            self.assertIsInstance(body.get("timestamp"), int, body)
            self.assert_recent(body["timestamp"])
            out[kind].append(body)
        return out

    def assert_nothing(self, w, thing=None):
        self.assertEqual(self.received(w, thing), {"notify": [], "notify-next": []})

    def assert_jobs(self, notify, in_progress=(), queued=()):
        """notify's `jobs`: only non-empty lists, with these ids in order."""
        self.assertEqual(set(notify), {"timestamp", "jobs"})
        jobs = notify["jobs"]
        expected = {}
        if in_progress:
            expected["IN_PROGRESS"] = list(in_progress)
        if queued:
            expected["QUEUED"] = list(queued)
        self.assertEqual({k: [s["jobId"] for s in v] for k, v in jobs.items()}, expected)
        for summaries in jobs.values():
            for s in summaries:
                self.assertNotIn("status", s)
                self.assertNotIn("jobDocument", s)
                self.assertEqual(s["executionNumber"], 1)

    def assert_next(self, notify_next, job_id, status, document):
        self.assertEqual(set(notify_next), {"timestamp", "execution"})
        e = notify_next["execution"]
        self.assertEqual((e["jobId"], e["status"]), (job_id, status))
        self.assertEqual(e["jobDocument"], document)
        self.assertNotIn("thingName", e)

    # -- tests --

    def test_replies_go_only_to_the_requester(self):
        spy = self.client()
        spy.subscribe(P(self.thing, "#"))
        j = self.job()
        notes = spy.sync()
        self.assertEqual(sorted(m.topic for m in notes),
                         [P(self.thing, "notify"), P(self.thing, "notify-next")])
        # every kind of reply, accepted and rejected
        self.ok("get", {})
        self.ok("$next/get", {})
        self.ok(f"{j}/get", {})
        self.ok("start-next", {})
        self.ok(f"{j}/update", {"status": "IN_PROGRESS", "statusDetails": {"a": "b"}})
        self.assertEqual(self.request(f"{j}/update", {"status": "QUEUED"})[0], "rejected")
        self.assertEqual(self.request(f"{j}/update", b"not json")[0], "rejected")
        self.assertEqual(self.request(f"{j}/update", {"status": "FAILED", "expectedVersion": 9})[0],
                         "rejected")
        self.assertEqual(self.request("nonsense", {})[0], "rejected")
        self.assertEqual(self.request(f"{self.name('nojob')}/get", {})[0], "rejected")
        seen = [m.topic for m in spy.sync()]
        replies = [t for t in seen if t.endswith("/accepted") or t.endswith("/rejected")]
        self.assertEqual(replies, [])
        # ... but notifications do reach it, and not the requester (not subscribed)
        self.ok(f"{j}/update", {"status": "SUCCEEDED"})
        notes = [m.topic for m in spy.sync()]
        self.assertIn(P(self.thing, "notify"), notes)
        self.assertIn(P(self.thing, "notify-next"), notes)
        self.assertEqual([m.topic for m in self.dev.sync()], [])

    def test_subscribed_requester_gets_each_reply_once(self):
        self.dev.subscribe(P(self.thing, "+", "accepted"))
        self.dev.subscribe(P(self.thing, "+", "+", "accepted"))
        j = self.job()
        self.ok("get", {})
        self.ok(f"{j}/get", {})
        leftover = [m.topic for m in self.dev.sync()]
        self.assertEqual(leftover, [])

    def test_create_start_succeed_start_fail_sequence(self):
        w = self.watcher()
        d1, d2 = {"step": "one"}, {"step": "two"}
        j1 = self.job(document=d1)
        got = self.received(w)
        self.assertEqual((len(got["notify"]), len(got["notify-next"])), (1, 1))
        self.assert_jobs(got["notify"][0], queued=[j1])
        self.assert_next(got["notify-next"][0], j1, "QUEUED", d1)

        j2 = self.job(document=d2)
        got = self.received(w)
        self.assertEqual((len(got["notify"]), len(got["notify-next"])), (1, 0), got)
        self.assert_jobs(got["notify"][0], queued=[j1, j2])

        # QUEUED -> IN_PROGRESS by start-next: the set and $next stay the same
        self.assertEqual(self.ok("start-next", {})["execution"]["jobId"], j1)
        self.assert_nothing(w)

        self.ok(f"{j1}/update", {"status": "SUCCEEDED"})
        got = self.received(w)
        self.assertEqual((len(got["notify"]), len(got["notify-next"])), (1, 1), got)
        self.assert_jobs(got["notify"][0], queued=[j2])
        self.assert_next(got["notify-next"][0], j2, "QUEUED", d2)

        self.assertEqual(self.ok("start-next", {})["execution"]["jobId"], j2)
        self.assert_nothing(w)

        self.ok(f"{j2}/update", {"status": "FAILED"})
        got = self.received(w)
        self.assertEqual(got["notify"], [{"timestamp": got["notify"][0]["timestamp"], "jobs": {}}])
        self.assertEqual(got["notify-next"], [{"timestamp": got["notify-next"][0]["timestamp"]}])

    def test_n_jobs_for_an_idle_thing_give_n_notify_and_one_notify_next(self):
        w = self.watcher()
        jobs = [self.job() for _ in range(4)]
        got = self.received(w)
        self.assertEqual(len(got["notify"]), 4)
        self.assertEqual(len(got["notify-next"]), 1)
        for i, notify in enumerate(got["notify"]):
            self.assert_jobs(notify, queued=jobs[:i + 1])
        self.assert_next(got["notify-next"][0], jobs[0], "QUEUED", {"doc": jobs[0]})

    def test_notify_lists_in_progress_and_queued(self):
        w = self.watcher()
        j1, j2, j3 = self.job(), self.job(), self.job()
        self.ok("start-next", {})
        self.received(w)
        # a terminal update of a job that is not $next: notify only
        self.ok(f"{j2}/update", {"status": "REJECTED"})
        got = self.received(w)
        self.assertEqual(len(got["notify"]), 1)
        self.assertEqual(got["notify-next"], [])
        self.assert_jobs(got["notify"][0], in_progress=[j1], queued=[j3])
        self.assertIn("startedAt", got["notify"][0]["jobs"]["IN_PROGRESS"][0])
        self.assertEqual(got["notify"][0]["jobs"]["IN_PROGRESS"][0]["versionNumber"], 2)

    def test_notify_next_when_another_job_starts(self):
        w = self.watcher()
        j1, j2 = self.job(), self.job()
        self.received(w)
        # j2 goes IN_PROGRESS by an update: same pending set, but $next is now j2
        self.ok(f"{j2}/update", {"status": "IN_PROGRESS", "statusDetails": {"p": "5"}})
        got = self.received(w)
        self.assertEqual(got["notify"], [])
        self.assertEqual(len(got["notify-next"]), 1)
        self.assert_next(got["notify-next"][0], j2, "IN_PROGRESS", {"doc": j2})
        self.assertEqual(got["notify-next"][0]["execution"]["statusDetails"], {"p": "5"})
        self.assertEqual(got["notify-next"][0]["execution"]["versionNumber"], 2)
        self.assertEqual(self.ok("$next/get", {})["execution"]["jobId"], j2)
        body = self.ok("get", {})
        self.assertEqual([s["jobId"] for s in body["queuedJobs"]], [j1])

    def test_detail_only_and_read_only_requests_notify_nothing(self):
        w = self.watcher()
        j = self.job()
        self.ok("start-next", {})
        self.received(w)
        self.ok(f"{j}/update", {"status": "IN_PROGRESS", "statusDetails": {"pct": "10"}})
        self.ok(f"{j}/update", {"status": "IN_PROGRESS", "statusDetails": {"pct": "90"},
                                "stepTimeoutInMinutes": 5, "expectedVersion": 3})
        self.ok(f"{j}/update", {"status": "IN_PROGRESS"})
        self.ok("start-next", {})
        self.ok("get", {})
        self.ok("$next/get", {})
        self.ok(f"{j}/get", {})
        self.assert_nothing(w)

    def test_rejected_requests_notify_nothing(self):
        w = self.watcher()
        j = self.job()
        self.received(w)
        for payload in ({"status": "QUEUED"}, {"status": "SUCCEEDED", "expectedVersion": 4},
                        {"status": "SUCCEEDED", "statusDetails": {"k": "x" * 1025}},
                        {"status": "SUCCEEDED", "executionNumber": 2}, b"{bad"):
            with self.subTest(payload=payload):
                self.assertEqual(self.request(f"{j}/update", payload)[0], "rejected")
        self.assert_nothing(w)
        self.ok(f"{j}/update", {"status": "SUCCEEDED"})
        self.received(w)
        self.assertEqual(self.request(f"{j}/update", {"status": "FAILED"})[0], "rejected")
        self.assert_nothing(w)

    def test_cancel_job_notifies(self):
        w = self.watcher()
        j1, j2 = self.job(), self.job(document={"second": True})
        self.received(w)
        [resp] = self.operator.control({"command": "cancelJob", "jobId": j1})
        self.assertNotIn("error", resp)
        got = self.received(w)
        self.assertEqual(len(got["notify"]), 1)
        self.assert_jobs(got["notify"][0], queued=[j2])
        self.assertEqual(len(got["notify-next"]), 1)
        self.assert_next(got["notify-next"][0], j2, "QUEUED", {"second": True})
        [resp] = self.operator.control({"command": "cancelJob", "jobId": j2})
        self.assertNotIn("error", resp)
        got = self.received(w)
        self.assertEqual([n["jobs"] for n in got["notify"]], [{}])
        self.assertEqual([set(n) for n in got["notify-next"]], [{"timestamp"}])

    def test_cancel_of_a_job_that_is_not_next_sends_notify_only(self):
        w = self.watcher()
        j1, j2 = self.job(), self.job()
        self.received(w)
        [resp] = self.operator.control({"command": "cancelJob", "jobId": j2})
        self.assertNotIn("error", resp)
        got = self.received(w)
        self.assertEqual(got["notify-next"], [])
        self.assertEqual(len(got["notify"]), 1)
        self.assert_jobs(got["notify"][0], queued=[j1])

    def test_cancel_job_and_in_progress_executions(self):
        w = self.watcher()
        j = self.job()
        self.ok("start-next", {})
        self.received(w)
        # without force an IN_PROGRESS execution is untouched: no notification
        [resp] = self.operator.control({"command": "cancelJob", "jobId": j})
        self.assertNotIn("error", resp)
        self.assert_nothing(w)
        # with force it is canceled
        [resp] = self.operator.control({"command": "cancelJob", "jobId": j, "force": True})
        self.assertNotIn("error", resp)
        got = self.received(w)
        self.assertEqual([n["jobs"] for n in got["notify"]], [{}])
        self.assertEqual([set(n) for n in got["notify-next"]], [{"timestamp"}])

    def test_each_target_thing_is_notified_on_its_own_topics(self):
        t2, t3 = self.name("t"), self.name("t")
        w1, w2, w3 = self.watcher(), self.watcher(t2), self.watcher(t3)
        j = self.job(self.thing, t2)
        for w, thing in ((w1, self.thing), (w2, t2)):
            got = self.received(w, thing)
            self.assertEqual((len(got["notify"]), len(got["notify-next"])), (1, 1))
            self.assert_jobs(got["notify"][0], queued=[j])
        self.assert_nothing(w3, t3)
        # one thing's progress notifies only that thing
        self.ok(f"{j}/update", {"status": "SUCCEEDED"}, thing=t2)
        got = self.received(w2, t2)
        self.assertEqual((len(got["notify"]), len(got["notify-next"])), (1, 1))
        self.assert_nothing(w1)

    def test_failed_management_command_notifies_nothing(self):
        w = self.watcher()
        j = self.job()
        self.received(w)
        responses = self.operator.control(
            {"command": "createJob", "jobId": j, "targets": [self.thing], "document": {}},
            {"command": "createJob", "jobId": self.name("j"), "targets": [self.thing, "bad name!"],
             "document": {}},
            {"command": "cancelJob", "jobId": j, "force": "yes"})
        self.assertEqual([("error" in r) for r in responses], [True, True, True])
        self.assert_nothing(w)


class NotifyCapTest(SharedBrokerTest):
    options = {"max_pending": 2}

    def test_notify_list_is_capped_by_max_pending(self):
        thing = self.thing
        w = self.client()
        w.subscribe(P(thing, "notify"))
        jobs = []
        for _ in range(4):
            jobs.append(self.name("j"))
            self.create_job(jobs[-1], [thing], {"x": 1})
        lists = [[s["jobId"] for s in json.loads(m.payload)["jobs"]["QUEUED"]] for m in w.sync()]
        self.assertEqual(lists, [jobs[:1], jobs[:2], jobs[:2], jobs[:2]])


if __name__ == "__main__":
    unittest.main()
