"""Test controls (plugin_opt_test_controls on): faults injected into a thing's
requests as its device sees them, resendNotifyNext, disconnectThing, advanceTime,
transcripts; and, with the option off, every command refused with nothing changed."""
import json
import time
import unittest

from harness import P, WAIT, BrokerTest, ControlAssertions, SharedBrokerTest

OFF = "InvalidRequestException: test controls are off (plugin_opt_test_controls on enables them)"


class Faults(ControlAssertions, SharedBrokerTest):
    options = {"test_controls": "on"}

    def setUp(self):
        super().setUp()
        self.dev = self.client(self.thing)

    def faults(self, *faults, thing=None):
        self.assertEqual(self.ok("setFaults", thingName=thing or self.thing, faults=list(faults)), {})

    def in_progress(self):
        """A job for self.thing, started by the device: returns its id."""
        job_id = self.create()
        outcome, body, _ = self.dev.request(P(self.thing, "start-next"))
        self.assertEqual(outcome, "accepted", body)
        self.assertEqual(body["execution"]["jobId"], job_id)
        return job_id

    def test_start_up_warns(self):
        self.assertIn("jobs: test controls are on: operators can inject faults, move job time and read "
                      "transcripts; never enable this on a production broker", self.broker.read_log())

    def test_reject_with_each_code_then_used_up(self):
        for code in ("RequestThrottled", "VersionMismatch", "InternalError", "TerminalStateReached"):
            with self.subTest(code=code):
                self.faults({"operation": "get", "count": 1, "action": "reject", "code": code})
                outcome, body, _ = self.dev.request(P(self.thing, "get"), {"clientToken": "tok-" + code})
                self.assertEqual(outcome, "rejected", body)
                self.assertEqual(body["code"], code)
                self.assertEqual(body["clientToken"], "tok-" + code)
                self.assertIsInstance(body["timestamp"], int)
                self.assertNotIn("executionState", body)
                outcome, body, _ = self.dev.request(P(self.thing, "get"))
                self.assertEqual(outcome, "accepted", body)

    def test_reject_version_mismatch_carries_the_state_and_runs_nothing(self):
        job_id = self.in_progress()
        self.faults({"operation": "update", "count": 1, "action": "reject", "code": "VersionMismatch"})
        outcome, body, _ = self.dev.request(P(self.thing, job_id, "update"), {"status": "SUCCEEDED"})
        self.assertEqual(outcome, "rejected", body)
        self.assertEqual(body["code"], "VersionMismatch")
        self.assertEqual(body["executionState"]["status"], "IN_PROGRESS")
        self.assertEqual(body["executionState"]["versionNumber"], 2)
        self.assertEqual(self.describe_exec(job_id)["status"], "IN_PROGRESS")
        # used up: the same update now runs
        outcome, body, _ = self.dev.request(P(self.thing, job_id, "update"), {"status": "SUCCEEDED"})
        self.assertEqual(outcome, "accepted", body)
        self.assertEqual(self.describe_exec(job_id)["status"], "SUCCEEDED")

    def test_count_and_any(self):
        job_id = self.create()
        self.faults({"operation": "any", "count": 2, "action": "reject", "code": "RequestThrottled"})
        outcome, body, _ = self.dev.request(P(self.thing, "get"))
        self.assertEqual((outcome, body["code"]), ("rejected", "RequestThrottled"))
        outcome, body, _ = self.dev.request(P(self.thing, job_id, "get"))
        self.assertEqual((outcome, body["code"]), ("rejected", "RequestThrottled"))
        outcome, body, _ = self.dev.request(P(self.thing, "$next", "get"))
        self.assertEqual(outcome, "accepted", body)
        self.assertEqual(body["execution"]["jobId"], job_id)

    def test_fault_for_another_operation_leaves_this_one_alone(self):
        self.faults({"operation": "update", "count": 1, "action": "reject", "code": "InternalError"})
        outcome, body, _ = self.dev.request(P(self.thing, "get"))
        self.assertEqual(outcome, "accepted", body)
        outcome, body, _ = self.dev.request(P(self.thing, "start-next"))
        self.assertEqual(outcome, "accepted", body)

    def test_faults_of_one_thing_leave_another_alone(self):
        other = self.name("t")
        self.faults({"operation": "any", "count": 5, "action": "reject", "code": "InternalError"}, thing=other)
        outcome, body, _ = self.dev.request(P(self.thing, "get"))
        self.assertEqual(outcome, "accepted", body)

    def test_drop_stores_the_change_and_sends_no_reply(self):
        job_id = self.in_progress()
        self.faults({"operation": "update", "count": 1, "action": "drop"})
        self.dev.publish(P(self.thing, job_id, "update"), {"status": "SUCCEEDED", "clientToken": "dropped"})
        # a second request's reply comes after anything the first would have had
        outcome, body, _ = self.dev.request(P(self.thing, "get"), {"clientToken": "second"})
        self.assertEqual(outcome, "accepted", body)
        self.assertEqual(body["inProgressJobs"], [])
        rest = [m.topic for m in self.dev.sync()]
        self.assertNotIn(P(self.thing, job_id, "update", "accepted"), rest)
        self.assertNotIn(P(self.thing, job_id, "update", "rejected"), rest)
        self.assertEqual(self.describe_exec(job_id)["status"], "SUCCEEDED")

    def test_delay_sends_the_reply_after_a_later_request_reply(self):
        job_id = self.create()
        self.faults({"operation": "describe", "count": 1, "action": "delay", "delayMs": 3000})
        topic = P(self.thing, job_id, "get")
        # both requests leave at once; only the first is delayed
        self.dev.c.publish(topic, json.dumps({"clientToken": "delayed"}), qos=1)
        self.dev.c.publish(topic, json.dumps({"clientToken": "plain"}), qos=1)
        first, _ = self.dev.expect(topic + "/accepted")
        second, _ = self.dev.expect(topic + "/accepted", timeout=WAIT + 3)
        self.assertEqual(first["clientToken"], "plain")
        self.assertEqual(second["clientToken"], "delayed")
        self.assertEqual(second["execution"]["jobId"], job_id)

    def test_duplicate_sends_the_reply_twice(self):
        job_id = self.create()
        self.faults({"operation": "start-next", "count": 1, "action": "duplicate"})
        outcome, body, _ = self.dev.request(P(self.thing, "start-next"), {"clientToken": "dup"})
        self.assertEqual(outcome, "accepted", body)
        replies = [m for m in self.dev.sync() if m.topic == P(self.thing, "start-next", "accepted")]
        self.assertEqual(len(replies), 1, "the reply came exactly twice")
        self.assertEqual(json.loads(replies[0].payload), body)
        self.assertEqual(body["execution"]["jobId"], job_id)
        self.assertEqual(self.describe_exec(job_id)["versionNumber"], 2, "the request ran once")

    def test_clear_faults(self):
        self.faults({"operation": "get", "count": 3, "action": "reject", "code": "InternalError"})
        self.assertEqual(self.ok("clearFaults", thingName=self.thing), {})
        outcome, body, _ = self.dev.request(P(self.thing, "get"))
        self.assertEqual(outcome, "accepted", body)

    def test_set_faults_replaces_the_list(self):
        self.faults({"operation": "get", "count": 3, "action": "reject", "code": "InternalError"})
        self.faults({"operation": "get", "count": 1, "action": "reject", "code": "RequestThrottled"})
        outcome, body, _ = self.dev.request(P(self.thing, "get"))
        self.assertEqual(body["code"], "RequestThrottled")
        outcome, body, _ = self.dev.request(P(self.thing, "get"))
        self.assertEqual(outcome, "accepted", body)

    def test_bad_faults_are_refused_and_change_nothing(self):
        self.faults({"operation": "get", "count": 1, "action": "reject", "code": "InternalError"})
        bad = [
            {"operation": "list", "action": "drop"},
            {"operation": "get", "action": "explode"},
            {"operation": "get", "action": "drop", "count": 0},
            {"operation": "get", "action": "drop", "count": 1001},
            {"operation": "get", "action": "delay"},
            {"operation": "get", "action": "delay", "delayMs": 60001},
            {"operation": "get", "action": "drop", "delayMs": 10},
            {"operation": "get", "action": "reject"},
            {"operation": "get", "action": "reject", "code": "Nope"},
            {"operation": "get", "action": "drop", "code": "InternalError"},
            "get",
        ]
        for fault in bad:
            with self.subTest(fault=fault):
                self.fails("setFaults", "InvalidRequestException", thingName=self.thing, faults=[fault])
        self.fails("setFaults", "InvalidRequestException", thingName=self.thing)
        self.fails("setFaults", "InvalidRequestException", thingName="a/b", faults=[])
        self.fails("setFaults", "LimitExceededException", thingName=self.thing,
                   faults=[{"operation": "get", "action": "drop"}] * 101)
        # the list set first still stands
        outcome, body, _ = self.dev.request(P(self.thing, "get"))
        self.assertEqual((outcome, body["code"]), ("rejected", "InternalError"))

    def test_resend_notify_next(self):
        w = self.client()
        w.subscribe(P(self.thing, "notify-next"))
        job_id = self.create()
        first, _ = w.expect(P(self.thing, "notify-next"))
        self.assertEqual(self.ok("resendNotifyNext", thingName=self.thing), {"sent": True})
        again, _ = w.expect(P(self.thing, "notify-next"))
        self.assertEqual(again["execution"]["jobId"], job_id)
        self.assertEqual(again["execution"], first["execution"])

    def test_resend_notify_next_with_nothing_pending_sends_the_empty_one(self):
        w = self.client()
        w.subscribe(P(self.thing, "notify-next"))
        self.assertEqual(self.ok("resendNotifyNext", thingName=self.thing), {"sent": False})
        body, _ = w.expect(P(self.thing, "notify-next"))
        self.assertEqual(set(body), {"timestamp"})

    def test_disconnect_thing(self):
        self.assertEqual(self.dev.disconnects, [])
        self.assertEqual(self.ok("disconnectThing", thingName=self.thing), {"disconnected": True})
        deadline = time.time() + WAIT
        while not self.dev.disconnects and time.time() < deadline:
            time.sleep(0.01)
        self.assertTrue(self.dev.disconnects, "the thing's client was not disconnected")
        self.assertEqual(self.ok("disconnectThing", thingName=self.name("none")), {"disconnected": False})
        # the operator's own connection is untouched
        self.assertEqual(self.ok("clearFaults", thingName=self.thing), {})

    def test_transcript(self):
        other = self.client()
        self.assertEqual(self.ok("startTranscript", thingName=self.thing), {})
        job_id = self.create()
        outcome, _, _ = self.dev.request(P(self.thing, "start-next"), {"clientToken": "s"})
        self.assertEqual(outcome, "accepted")
        self.faults({"operation": "update", "count": 1, "action": "drop"})
        self.dev.publish(P(self.thing, job_id, "update"), {"status": "SUCCEEDED"})
        self.dev.request(P(self.thing, "get"))
        other.request(P(self.name("x"), "get"))   # another thing: not recorded
        data = self.ok("getTranscript", thingName=self.thing)
        self.assertEqual(data["dropped"], 0)
        entries = data["entries"]
        seqs = [e["seq"] for e in entries]
        self.assertEqual(seqs, sorted(seqs))
        self.assertEqual(len(set(seqs)), len(seqs))
        got = [(e["direction"], e["topic"][len(P(self.thing)) + 1:], e.get("fault")) for e in entries]
        # The get may come in before the update's notifications and reply go out: a store
        # that holds a batch's replies until its commit (PostgreSQL) handles requests meanwhile.
        got_get = got.index(("in", "get", None))
        self.assertEqual(got[:got_get] + got[got_get + 1:], [
            ("out", "notify", None),
            ("out", "notify-next", None),
            ("in", "start-next", None),
            ("out", "start-next/accepted", None),
            ("in", f"{job_id}/update", "drop"),
            ("out", "notify", None),
            ("out", "notify-next", None),
            ("out", f"{job_id}/update/accepted", "drop"),
            ("out", "get/accepted", None),
        ], got)
        self.assertGreater(got_get, got.index(("in", f"{job_id}/update", "drop")), got)
        self.assertLess(got_get, got.index(("out", "get/accepted", None)), got)
        self.assertEqual(json.loads(entries[2]["payload"]), {"clientToken": "s"})
        self.assertEqual(json.loads(entries[3]["payload"])["clientToken"], "s")
        ats = [e["atMs"] for e in entries]
        self.assertEqual(ats, sorted(ats))
        self.assertGreaterEqual(ats[0], int(self.started * 1000))
        self.assertLessEqual(ats[-1], time.time() * 1000)
        # since: only later entries
        later = self.ok("getTranscript", thingName=self.thing, since=seqs[7])["entries"]
        self.assertEqual(later, entries[8:])
        self.assertEqual(self.ok("stopTranscript", thingName=self.thing), {})
        self.fails("getTranscript", "ResourceNotFoundException", thingName=self.thing)

    def test_transcript_keeps_payloads_that_are_no_json(self):
        self.assertEqual(self.ok("startTranscript", thingName=self.thing), {})
        self.dev.publish(P(self.thing, "get"), b"\xff\x00not json")
        self.dev.request(P(self.thing, "get"))
        entries = self.ok("getTranscript", thingName=self.thing)["entries"]
        self.assertEqual(entries[0]["payload"], "\ufffd\ufffdnot json")
        self.assertEqual(entries[1]["topic"], P(self.thing, "get", "rejected"))
        self.assertEqual(json.loads(entries[1]["payload"])["code"], "InvalidJson")
        self.ok("stopTranscript", thingName=self.thing)


class AdvanceTime(ControlAssertions, BrokerTest):
    """A broker of its own: advanceTime moves time for the whole broker."""
    options = {"test_controls": "on"}

    def name(self, prefix):
        return f"{prefix}-{self._testMethodName[5:40]}"

    def test_advance_time_fires_a_timeout_at_once(self):
        thing, later = "adv-thing", "adv-later"
        dev = self.client(thing)
        dev2 = self.client(later)
        w = self.client("watcher")
        w.subscribe(P(thing, "notify-next"))
        self.create_job("soon", [thing], timeoutConfig={"inProgressTimeoutInMinutes": 60})
        self.create_job("late", [later], timeoutConfig={"inProgressTimeoutInMinutes": 180})
        w.expect(P(thing, "notify-next"))
        for d, t in ((dev, thing), (dev2, later)):
            outcome, body, _ = d.request(P(t, "start-next"))
            self.assertEqual(outcome, "accepted", body)
        self.assertEqual(self.ok("advanceTime", minutes=61), {"offsetMinutes": 61})
        body, _ = w.expect(P(thing, "notify-next"))
        self.assertEqual(set(body), {"timestamp"}, "nothing pending once it timed out")
        self.assertGreaterEqual(body["timestamp"], time.time() + 60 * 60 - 5, "job time moved")
        self.assertEqual(self.ok("describeJobExecution", jobId="soon", thingName=thing)["execution"]["status"],
                         "TIMED_OUT")
        self.assertEqual(self.ok("describeJobExecution", jobId="late", thingName=later)["execution"]["status"],
                         "IN_PROGRESS")
        self.assertEqual(self.ok("advanceTime", minutes=120), {"offsetMinutes": 181})
        outcome, body, _ = dev2.request(P(later, "late", "update"), {"status": "SUCCEEDED"})
        self.assertEqual(outcome, "rejected", body)
        self.assertEqual(body["code"], "InvalidStateTransition")
        self.assertEqual(body["executionState"]["status"], "TIMED_OUT")

    def test_bad_minutes(self):
        for minutes in (0, -1, 525601, 1.5, "x", True):
            with self.subTest(minutes=minutes):
                self.fails("advanceTime", "InvalidRequestException", minutes=minutes)
        self.fails("advanceTime", "InvalidRequestException")
        self.assertEqual(self.ok("advanceTime", minutes=1), {"offsetMinutes": 1})


class DisconnectByUsername(ControlAssertions, BrokerTest):
    """With plugin_opt_identity username, the clients logged in as the thing go."""
    options = {"test_controls": "on", "identity": "username"}

    def test_disconnect_by_username(self):
        dev = self.client("some-client-id", username="uthing")
        bystander = self.client("uthing")  # a client id equal to the name is not the thing here
        self.assertEqual(self.ok("disconnectThing", thingName="uthing"), {"disconnected": True})
        deadline = time.time() + WAIT
        while not dev.disconnects and time.time() < deadline:
            time.sleep(0.01)
        self.assertTrue(dev.disconnects, "the client logged in as the thing was not disconnected")
        self.assertEqual(bystander.sync(), [])
        self.assertEqual(bystander.disconnects, [])


class Off(ControlAssertions, BrokerTest):
    """Without plugin_opt_test_controls every command is refused and nothing changes."""

    def test_every_command_is_refused(self):
        self.assertNotIn("test controls are on", self.broker.read_log())
        dev = self.client("off-thing")
        job = self.create_job("off-job", ["off-thing"], timeoutConfig={"inProgressTimeoutInMinutes": 1})
        self.assertEqual(job["jobId"], "off-job")
        commands = [
            ("setFaults", {"thingName": "off-thing",
                           "faults": [{"operation": "any", "count": 5, "action": "reject", "code": "InternalError"}]}),
            ("clearFaults", {"thingName": "off-thing"}),
            ("resendNotifyNext", {"thingName": "off-thing"}),
            ("disconnectThing", {"thingName": "off-thing"}),
            ("advanceTime", {"minutes": 10}),
            ("startTranscript", {"thingName": "off-thing"}),
            ("getTranscript", {"thingName": "off-thing"}),
            ("stopTranscript", {"thingName": "off-thing"}),
        ]
        for command, fields in commands:
            with self.subTest(command=command):
                self.assertEqual(self.fails(command, "InvalidRequestException", **fields), OFF)
        # no fault, no move of time, no disconnect
        outcome, body, _ = dev.request(P("off-thing", "start-next"))
        self.assertEqual(outcome, "accepted", body)
        self.assertEqual(body["execution"]["status"], "IN_PROGRESS")
        self.assertGreater(body["execution"]["approximateSecondsBeforeTimedOut"], 30)
        self.assertEqual(dev.disconnects, [])
        self.assertEqual(dev.sync(), [])


if __name__ == "__main__":
    unittest.main()
