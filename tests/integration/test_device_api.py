"""Device MQTT API (docs/protocol.md): every operation's accepted and rejected paths,
the common request rules, topic parsing, QoS and Greengrass namespaces."""
import json
import time
import unittest

import paho.mqtt.client as mqtt

from harness import P, SharedBrokerTest

NS = "aws-gg-deployment"

SUMMARY_KEYS = {"jobId", "queuedAt", "startedAt", "lastUpdatedAt", "versionNumber",
                "executionNumber"}
EXECUTION_KEYS = SUMMARY_KEYS | {"status", "statusDetails", "jobDocument",
                                 "approximateSecondsBeforeTimedOut"}


class DeviceTest(SharedBrokerTest):
    """Helpers shared by the device API tests; one broker per class."""

    def setUp(self):
        super().setUp()
        self.dev = self.client()

    # -- requests --

    def job(self, *things, document=None, **fields):
        """Creates a job (for self.thing unless things are given); returns its id."""
        job_id = self.name("j")[:64]
        self.create_job(job_id, list(things) or [self.thing],
                        document if document is not None else {"op": job_id, "n": 1}, **fields)
        return job_id

    def rq(self, levels, payload=None, thing=None, client=None, qos=1):
        """A request on P(thing)/levels (levels: a string of '/'-joined levels)."""
        topic = P(thing or self.thing, *levels.split("/"))
        return (client or self.dev).request(topic, payload, qos=qos)

    def ok(self, levels, payload=None, **kw):
        outcome, body, _ = self.rq(levels, payload, **kw)
        self.assertEqual(outcome, "accepted", body)
        self.assert_timestamp(body)
        return body

    def rejected(self, levels, payload, code, **kw):
        outcome, body, _ = self.rq(levels, payload, **kw)
        self.assertEqual(outcome, "rejected", body)
        self.assert_error(body, code)
        return body

    def execution(self, job_id, thing=None):
        return self.ok(f"{job_id}/get", {}, thing=thing)["execution"]

    def update(self, job_id, status, thing=None, **fields):
        body = dict(fields, status=status)
        return self.ok(f"{job_id}/update", body, thing=thing)

    # -- shape checks --

    def assert_timestamp(self, body):
        ts = body.get("timestamp")
        self.assertIsInstance(ts, int, body)
        self.assertNotIsInstance(ts, bool)
        self.assert_recent(ts, "timestamp is not epoch seconds now")

    def assert_error(self, body, code):
        self.assertEqual(body.get("code"), code, body)
        self.assertIsInstance(body.get("message"), str, body)
        self.assert_timestamp(body)
        if code not in ("VersionMismatch", "InvalidStateTransition"):
            self.assertNotIn("executionState", body)

    def assert_summary(self, s, job_id, version=1, started=False):
        self.assertEqual(s["jobId"], job_id)
        self.assertTrue(set(s) <= SUMMARY_KEYS, f"unexpected keys in summary {s}")
        self.assertNotIn("status", s)
        self.assertNotIn("jobDocument", s)
        self.assertEqual(s["versionNumber"], version)
        self.assertEqual(s["executionNumber"], 1)
        for k in ("queuedAt", "lastUpdatedAt"):
            self.assertIsInstance(s[k], int)
            self.assert_recent(s[k], k)
        self.assertEqual("startedAt" in s, started, s)

    def ids(self, summaries):
        return [s["jobId"] for s in summaries]


class GetPendingTest(DeviceTest):

    def test_thing_without_executions_gets_two_empty_arrays(self):
        body = self.ok("get", {})
        self.assertEqual(body["inProgressJobs"], [])
        self.assertEqual(body["queuedJobs"], [])
        self.assertEqual(set(body), {"inProgressJobs", "queuedJobs", "timestamp"})

    def test_in_progress_first_then_queued_in_creation_order(self):
        # ids chosen so that alphabetical order differs from creation order
        z = self.job_named("z")
        a = self.job_named("a")
        m = self.job_named("m")
        self.update(m, "IN_PROGRESS")
        body = self.ok("get", {})
        self.assertEqual(self.ids(body["inProgressJobs"]), [m])
        self.assertEqual(self.ids(body["queuedJobs"]), [z, a])
        self.assert_summary(body["inProgressJobs"][0], m, version=2, started=True)
        self.assert_summary(body["queuedJobs"][0], z)
        self.assert_summary(body["queuedJobs"][1], a)

    def job_named(self, first):
        job_id = first + self.name("j")[:60]
        self.create_job(job_id, [self.thing], {"op": job_id})
        return job_id

    def test_terminal_executions_are_not_listed(self):
        j1, j2, j3 = self.job(), self.job(), self.job()
        self.update(j1, "SUCCEEDED")
        self.update(j2, "IN_PROGRESS")
        self.update(j2, "FAILED")
        body = self.ok("get", {})
        self.assertEqual(body["inProgressJobs"], [])
        self.assertEqual(self.ids(body["queuedJobs"]), [j3])

    def test_other_things_jobs_are_not_listed(self):
        other = self.name("t")
        mine = self.job()
        theirs = self.job(other)
        both = self.job(self.thing, other)
        self.assertEqual(self.ids(self.ok("get", {})["queuedJobs"]), [mine, both])
        self.assertEqual(self.ids(self.ok("get", {}, thing=other)["queuedJobs"]), [theirs, both])

    def test_default_cap_is_ten(self):
        jobs = [self.job() for _ in range(12)]
        body = self.ok("get", {})
        self.assertEqual(self.ids(body["queuedJobs"]), jobs[:10])
        self.assertEqual(body["inProgressJobs"], [])


class MaxPendingTest(DeviceTest):
    options = {"max_pending": 3}

    def test_get_pending_is_capped_in_progress_first(self):
        jobs = [self.job() for _ in range(5)]
        self.update(jobs[3], "IN_PROGRESS")
        self.update(jobs[4], "IN_PROGRESS")
        body = self.ok("get", {})
        self.assertEqual(self.ids(body["inProgressJobs"]), [jobs[3], jobs[4]])
        self.assertEqual(self.ids(body["queuedJobs"]), [jobs[0]])

    def test_get_pending_cap_counts_both_lists(self):
        jobs = [self.job() for _ in range(5)]
        self.ok("start-next", {})
        body = self.ok("get", {})
        self.assertEqual(self.ids(body["inProgressJobs"]), [jobs[0]])
        self.assertEqual(self.ids(body["queuedJobs"]), jobs[1:3])


class StartNextTest(DeviceTest):

    def test_queued_becomes_in_progress(self):
        doc = {"operation": "install", "files": [{"url": "https://example.com/f"}]}
        j = self.job(document=doc)
        before = self.execution(j)
        self.assertEqual(before["status"], "QUEUED")
        self.assertNotIn("startedAt", before)
        body = self.ok("start-next", {"statusDetails": {"step": "download"}, "clientToken": "sn-1"})
        self.assertEqual(body["clientToken"], "sn-1")
        e = body["execution"]
        self.assertEqual(e["jobId"], j)
        self.assertEqual(e["status"], "IN_PROGRESS")
        self.assertEqual(e["versionNumber"], 2)
        self.assertEqual(e["executionNumber"], 1)
        self.assertEqual(e["statusDetails"], {"step": "download"})
        self.assertEqual(e["jobDocument"], doc)
        self.assertIsInstance(e["startedAt"], int)
        self.assert_recent(e["startedAt"])
        self.assertEqual(e["queuedAt"], before["queuedAt"])
        self.assertGreaterEqual(e["lastUpdatedAt"], e["startedAt"])
        self.assertNotIn("thingName", e)
        self.assertTrue(set(e) <= EXECUTION_KEYS, e)
        stored = self.execution(j)
        for k in ("status", "versionNumber", "statusDetails", "startedAt"):
            self.assertEqual(stored[k], e[k], k)

    def test_already_in_progress_is_returned_unchanged(self):
        j = self.job()
        first = self.ok("start-next", {"statusDetails": {"step": "1"}})["execution"]
        second = self.ok("start-next", {"statusDetails": {"step": "2"},
                                        "stepTimeoutInMinutes": 5})["execution"]
        self.assertEqual(second["jobId"], j)
        self.assertEqual(second["status"], "IN_PROGRESS")
        self.assertEqual(second["versionNumber"], 2)
        self.assertEqual(second["statusDetails"], {"step": "1"})
        self.assertEqual(second["startedAt"], first["startedAt"])
        self.assertEqual(second["lastUpdatedAt"], first["lastUpdatedAt"])
        self.assertIn("jobDocument", second)
        self.assertEqual(self.execution(j)["versionNumber"], 2)

    def test_picks_oldest_in_progress_before_queued(self):
        j1, j2, j3 = self.job(), self.job(), self.job()
        self.update(j2, "IN_PROGRESS")
        e = self.ok("start-next", {})["execution"]
        self.assertEqual((e["jobId"], e["versionNumber"]), (j2, 2))
        self.update(j2, "SUCCEEDED")
        e = self.ok("start-next", {})["execution"]
        self.assertEqual((e["jobId"], e["status"]), (j1, "IN_PROGRESS"))
        self.assertEqual(self.execution(j3)["status"], "QUEUED")

    def test_nothing_pending_is_accepted_without_execution(self):
        body = self.ok("start-next", {})
        self.assertEqual(set(body), {"timestamp"})
        j = self.job()
        self.update(j, "REJECTED")
        body = self.ok("start-next", {"clientToken": "none-left"})
        self.assertEqual(set(body), {"timestamp", "clientToken"})

    def test_step_timeout_range(self):
        j = self.job()
        for bad in (0, 10081, -1, 1.5, "abc", True):
            with self.subTest(stepTimeoutInMinutes=bad):
                self.rejected("start-next", {"stepTimeoutInMinutes": bad}, "InvalidRequest")
        self.assertEqual(self.execution(j)["status"], "QUEUED")
        e = self.ok("start-next", {"stepTimeoutInMinutes": 10080})["execution"]
        self.assertEqual(e["status"], "IN_PROGRESS")

    def test_step_timeout_minimum_and_digit_string(self):
        j1 = self.job()
        self.assertEqual(self.ok("start-next", {"stepTimeoutInMinutes": 1})["execution"]["jobId"], j1)
        other = self.name("t")
        j2 = self.job(other)
        e = self.ok("start-next", {"stepTimeoutInMinutes": "30"}, thing=other)["execution"]
        self.assertEqual((e["jobId"], e["status"]), (j2, "IN_PROGRESS"))

    def test_bad_status_details_start_nothing(self):
        j = self.job()
        for bad in ("x", ["a"], {"k": 1}, {"bad key": "v"}, {"k": "x" * 1025}):
            with self.subTest(statusDetails=bad):
                self.rejected("start-next", {"statusDetails": bad}, "InvalidRequest")
        e = self.execution(j)
        self.assertEqual((e["status"], e["versionNumber"]), ("QUEUED", 1))


class DescribeTest(DeviceTest):

    def test_include_job_document_defaults_to_true(self):
        doc = {"a": {"b": [1, 2, "three"]}, "flag": True}
        j = self.job(document=doc)
        body = self.ok(f"{j}/get", {})
        self.assertEqual(set(body), {"execution", "timestamp"})
        e = body["execution"]
        self.assertEqual(e["jobId"], j)
        self.assertEqual(e["status"], "QUEUED")
        self.assertEqual(e["versionNumber"], 1)
        self.assertEqual(e["executionNumber"], 1)
        self.assertEqual(e["jobDocument"], doc)
        self.assertIsInstance(e["queuedAt"], int)
        self.assertIsInstance(e["lastUpdatedAt"], int)
        self.assertNotIn("startedAt", e)
        self.assertNotIn("statusDetails", e)
        self.assertNotIn("thingName", e)

    def test_include_job_document_true_and_false(self):
        j = self.job(document={"x": 1})
        self.assertEqual(self.ok(f"{j}/get", {"includeJobDocument": True})["execution"]["jobDocument"],
                         {"x": 1})
        e = self.ok(f"{j}/get", {"includeJobDocument": False})["execution"]
        self.assertNotIn("jobDocument", e)
        self.assertEqual(e["jobId"], j)

    def test_execution_number(self):
        j = self.job()
        self.assertEqual(self.ok(f"{j}/get", {"executionNumber": 1})["execution"]["executionNumber"], 1)
        self.assertEqual(self.ok(f"{j}/get", {"executionNumber": "1"})["execution"]["executionNumber"], 1)
        self.rejected(f"{j}/get", {"executionNumber": 2}, "ResourceNotFound")
        for bad in (0, -1, 1.5, "x", True):
            with self.subTest(executionNumber=bad):
                self.rejected(f"{j}/get", {"executionNumber": bad}, "InvalidRequest")

    def test_next_with_pending_resolves_without_changing_anything(self):
        j1, j2 = self.job(document={"first": 1}), self.job()
        outcome, body, msg = self.rq("$next/get", {"clientToken": "n"})
        self.assertEqual(outcome, "accepted")
        self.assertEqual(msg.topic, P(self.thing, "$next", "get", "accepted"))
        self.assertEqual(body["clientToken"], "n")
        e = body["execution"]
        self.assertEqual((e["jobId"], e["status"], e["versionNumber"]), (j1, "QUEUED", 1))
        self.assertEqual(e["jobDocument"], {"first": 1})
        self.assertNotIn("jobDocument", self.ok("$next/get", {"includeJobDocument": False})["execution"])
        # read only: still QUEUED, version 1
        self.assertEqual(self.execution(j1)["versionNumber"], 1)
        self.assertEqual(self.execution(j1)["status"], "QUEUED")
        # an IN_PROGRESS execution comes first
        self.update(j2, "IN_PROGRESS")
        self.assertEqual(self.ok("$next/get", {})["execution"]["jobId"], j2)

    def test_next_without_pending(self):
        outcome, body, msg = self.rq("$next/get", {})
        self.assertEqual(outcome, "accepted")
        self.assertEqual(msg.topic, P(self.thing, "$next", "get", "accepted"))
        self.assertEqual(set(body), {"timestamp"})

    def test_unknown_job_is_resource_not_found(self):
        self.rejected(f"{self.name('nojob')}/get", {}, "ResourceNotFound")

    def test_job_of_another_thing_is_resource_not_found(self):
        j = self.job(self.name("t"))
        body = self.rejected(f"{j}/get", {"clientToken": "rnf"}, "ResourceNotFound")
        self.assertEqual(body["clientToken"], "rnf")

    def test_terminal_execution_is_described(self):
        j = self.job()
        self.update(j, "SUCCEEDED", statusDetails={"result": "ok"})
        e = self.execution(j)
        self.assertEqual(e["status"], "SUCCEEDED")
        self.assertEqual(e["statusDetails"], {"result": "ok"})
        self.assertEqual(e["versionNumber"], 2)

    def test_field_types(self):
        j = self.job()
        for bad in ({"includeJobDocument": "true"}, {"includeJobDocument": 1},
                    {"clientToken": 5}):
            with self.subTest(body=bad):
                self.rejected(f"{j}/get", bad, "InvalidRequest")


class UpdateTest(DeviceTest):

    def test_queued_to_in_progress_with_default_reply(self):
        j = self.job()
        body = self.ok(f"{j}/update", {"status": "IN_PROGRESS"})
        self.assertEqual(set(body), {"timestamp"})
        e = self.execution(j)
        self.assertEqual((e["status"], e["versionNumber"]), ("IN_PROGRESS", 2))
        self.assert_recent(e["startedAt"])

    def test_every_accepted_update_bumps_the_version(self):
        j = self.job()
        for v in range(2, 6):
            self.update(j, "IN_PROGRESS")
            self.assertEqual(self.execution(j)["versionNumber"], v)
        self.update(j, "SUCCEEDED")
        self.assertEqual(self.execution(j)["versionNumber"], 6)

    def test_status_details_are_replaced_not_merged(self):
        j = self.job()
        self.update(j, "IN_PROGRESS", statusDetails={"a": "1", "b": "2"})
        self.assertEqual(self.execution(j)["statusDetails"], {"a": "1", "b": "2"})
        self.update(j, "IN_PROGRESS", statusDetails={"c": "3"})
        self.assertEqual(self.execution(j)["statusDetails"], {"c": "3"})
        self.update(j, "IN_PROGRESS")
        e = self.execution(j)
        self.assertEqual(e["statusDetails"], {"c": "3"})
        self.assertEqual(e["versionNumber"], 4)
        self.update(j, "SUCCEEDED", statusDetails={"done": "yes"})
        self.assertEqual(self.execution(j)["statusDetails"], {"done": "yes"})

    def test_aws_iot_device_client_updates(self):
        """The exact updates the AWS IoT Device Client v1.10 sends for a handler that
        printed a line: its output, newline included, is stored and echoed."""
        j = self.job()
        self.ok(f"{j}/update", '{"status":"IN_PROGRESS","clientToken":"h301kzODHY","statusDetails":{}}')
        body = self.ok(f"{j}/update", '{"status":"SUCCEEDED","clientToken":"dG7e5R40yC","statusDetails":'
                       '{"reason":"Job exited with status: 0","stdout":"hello from handler, args: c-old-schema\\n"}}')
        self.assertEqual(body["clientToken"], "dG7e5R40yC")
        e = self.execution(j)
        self.assertEqual(e["status"], "SUCCEEDED")
        self.assertEqual(e["statusDetails"], {"reason": "Job exited with status: 0",
                                              "stdout": "hello from handler, args: c-old-schema\n"})

    def test_expected_version_as_number_and_digit_string(self):
        j = self.job()
        self.update(j, "IN_PROGRESS", expectedVersion=1)
        self.update(j, "IN_PROGRESS", expectedVersion="2")
        self.update(j, "SUCCEEDED", expectedVersion=3)
        e = self.execution(j)
        self.assertEqual((e["status"], e["versionNumber"]), ("SUCCEEDED", 4))

    def test_version_mismatch_carries_execution_state(self):
        j = self.job()
        self.update(j, "IN_PROGRESS", statusDetails={"p": "1"})
        for stale in (1, "1", 3, 0):
            with self.subTest(expectedVersion=stale):
                body = self.rejected(f"{j}/update", {"status": "SUCCEEDED", "expectedVersion": stale,
                                                     "clientToken": "vm"}, "VersionMismatch")
                self.assertEqual(body["executionState"],
                                 {"status": "IN_PROGRESS", "statusDetails": {"p": "1"},
                                  "versionNumber": 2})
                self.assertEqual(body["clientToken"], "vm")
        e = self.execution(j)
        self.assertEqual((e["status"], e["versionNumber"]), ("IN_PROGRESS", 2))

    def test_version_mismatch_state_omits_empty_details(self):
        j = self.job()
        body = self.rejected(f"{j}/update", {"status": "IN_PROGRESS", "expectedVersion": 7},
                             "VersionMismatch")
        self.assertEqual(body["executionState"], {"status": "QUEUED", "versionNumber": 1})

    def test_device_may_move_queued_straight_to_terminal(self):
        for status in ("SUCCEEDED", "FAILED", "REJECTED"):
            with self.subTest(status=status):
                j = self.job()
                self.update(j, status)
                e = self.execution(j)
                self.assertEqual((e["status"], e["versionNumber"]), (status, 2))
                self.assertNotIn("startedAt", e)

    def test_invalid_state_transition_from_terminal(self):
        for terminal in ("SUCCEEDED", "FAILED", "REJECTED"):
            j = self.job()
            self.update(j, "IN_PROGRESS")
            self.update(j, terminal, statusDetails={"why": terminal.lower()})
            for attempt in ("IN_PROGRESS", "SUCCEEDED", "FAILED", "REJECTED"):
                with self.subTest(terminal=terminal, attempt=attempt):
                    body = self.rejected(f"{j}/update", {"status": attempt, "clientToken": "ist"},
                                         "InvalidStateTransition")
                    self.assertEqual(body["executionState"],
                                     {"status": terminal, "statusDetails": {"why": terminal.lower()},
                                      "versionNumber": 3})
                    self.assertEqual(body["clientToken"], "ist")
            self.assertEqual(self.execution(j)["versionNumber"], 3)

    def test_include_job_execution_state(self):
        j = self.job()
        body = self.ok(f"{j}/update", {"status": "IN_PROGRESS", "statusDetails": {"s": "x"},
                                       "includeJobExecutionState": True})
        self.assertEqual(body["executionState"],
                         {"status": "IN_PROGRESS", "statusDetails": {"s": "x"}, "versionNumber": 2})
        self.assertNotIn("jobDocument", body)
        body = self.ok(f"{j}/update", {"status": "IN_PROGRESS", "includeJobExecutionState": False})
        self.assertNotIn("executionState", body)

    def test_include_job_document_is_top_level_object(self):
        doc = {"steps": ["a", "b"], "version": "1.2.3"}
        j = self.job(document=doc)
        body = self.ok(f"{j}/update", {"status": "IN_PROGRESS", "includeJobDocument": True})
        self.assertEqual(body["jobDocument"], doc)
        self.assertNotIn("executionState", body)
        self.assertNotIn("execution", body)
        body = self.ok(f"{j}/update", {"status": "SUCCEEDED", "includeJobDocument": True,
                                       "includeJobExecutionState": True})
        self.assertEqual(body["jobDocument"], doc)
        self.assertEqual(body["executionState"], {"status": "SUCCEEDED", "versionNumber": 3})

    def test_execution_number(self):
        j = self.job()
        self.update(j, "IN_PROGRESS", executionNumber=1)
        self.update(j, "IN_PROGRESS", executionNumber="1")
        self.rejected(f"{j}/update", {"status": "SUCCEEDED", "executionNumber": 2}, "ResourceNotFound")
        self.assertEqual(self.execution(j)["versionNumber"], 3)

    def test_step_timeout_in_minutes(self):
        j = self.job()
        version = 1
        for good in (1, 10080, -1, "30"):
            with self.subTest(stepTimeoutInMinutes=good):
                self.update(j, "IN_PROGRESS", stepTimeoutInMinutes=good)
                version += 1
                self.assertEqual(self.execution(j)["versionNumber"], version)
        for bad in (0, 10081, -2, 2.5, "abc", False):
            with self.subTest(stepTimeoutInMinutes=bad):
                self.rejected(f"{j}/update", {"status": "IN_PROGRESS", "stepTimeoutInMinutes": bad},
                              "InvalidRequest")
        self.assertEqual(self.execution(j)["versionNumber"], version)

    def test_unknown_job_and_other_things_job(self):
        self.rejected(f"{self.name('nojob')}/update", {"status": "SUCCEEDED"}, "ResourceNotFound")
        j = self.job(self.name("t"))
        self.rejected(f"{j}/update", {"status": "SUCCEEDED"}, "ResourceNotFound")

    def test_check_order(self):
        missing = self.name("nojob")
        # field validation comes before the execution lookup
        self.rejected(f"{missing}/update", {"status": "QUEUED"}, "InvalidRequest")
        self.rejected(f"{missing}/update", {"status": "SUCCEEDED", "expectedVersion": "x"},
                      "InvalidRequest")
        # lookup before expectedVersion
        self.rejected(f"{missing}/update", {"status": "SUCCEEDED", "expectedVersion": 9},
                      "ResourceNotFound")
        # expectedVersion before the transition check
        j = self.job()
        self.update(j, "FAILED")
        body = self.rejected(f"{j}/update", {"status": "SUCCEEDED", "expectedVersion": 1},
                             "VersionMismatch")
        self.assertEqual(body["executionState"], {"status": "FAILED", "versionNumber": 2})
        body = self.rejected(f"{j}/update", {"status": "SUCCEEDED", "expectedVersion": 2},
                             "InvalidStateTransition")
        self.assertEqual(body["executionState"], {"status": "FAILED", "versionNumber": 2})

    def test_unknown_fields_are_ignored(self):
        j = self.job()
        self.update(j, "IN_PROGRESS", thingName=self.thing, jobId=j, somethingElse={"x": [1]})
        self.assertEqual(self.execution(j)["status"], "IN_PROGRESS")


class ValidationTest(DeviceTest):
    """InvalidRequest for valid JSON with invalid content; nothing changes."""

    BAD_UPDATES = [
        ("status missing", {}),
        ("status missing with details", {"statusDetails": {"a": "b"}}),
        ("status unknown", {"status": "DONE"}),
        ("status lower case", {"status": "succeeded"}),
        ("status SUCCESS", {"status": "SUCCESS"}),
        ("status QUEUED", {"status": "QUEUED"}),
        ("status TIMED_OUT", {"status": "TIMED_OUT"}),
        ("status CANCELED", {"status": "CANCELED"}),
        ("status REMOVED", {"status": "REMOVED"}),
        ("status number", {"status": 1}),
        ("status list", {"status": ["SUCCEEDED"]}),
        ("expectedVersion fractional", {"expectedVersion": 1.5}),
        ("expectedVersion negative", {"expectedVersion": -1}),
        ("expectedVersion negative string", {"expectedVersion": "-1"}),
        ("expectedVersion boolean", {"expectedVersion": True}),
        ("expectedVersion abc", {"expectedVersion": "abc"}),
        ("expectedVersion empty string", {"expectedVersion": ""}),
        ("expectedVersion fraction string", {"expectedVersion": "1.5"}),
        ("expectedVersion object", {"expectedVersion": {"v": 1}}),
        ("executionNumber zero", {"executionNumber": 0}),
        ("executionNumber string", {"executionNumber": "one"}),
        ("includeJobDocument string", {"includeJobDocument": "true"}),
        ("includeJobDocument number", {"includeJobDocument": 1}),
        ("includeJobExecutionState string", {"includeJobExecutionState": "false"}),
        ("statusDetails string", {"statusDetails": "done"}),
        ("statusDetails array", {"statusDetails": [{"a": "b"}]}),
        ("statusDetails number", {"statusDetails": 3}),
        ("statusDetails number value", {"statusDetails": {"k": 1}}),
        ("statusDetails bool value", {"statusDetails": {"k": True}}),
        ("statusDetails object value", {"statusDetails": {"k": {"x": "y"}}}),
        ("statusDetails null value", {"statusDetails": {"k": None}}),
        ("statusDetails key with space", {"statusDetails": {"bad key": "v"}}),
        ("statusDetails key with dot", {"statusDetails": {"bad.key": "v"}}),
        ("statusDetails empty key", {"statusDetails": {"": "v"}}),
        ("statusDetails key over 128", {"statusDetails": {"k" * 129: "v"}}),
        ("statusDetails value over 1024", {"statusDetails": {"k": "x" * 1025}}),
        ("statusDetails value U+0000", {"statusDetails": {"k": "a\u0000b"}}),
        ("clientToken number", {"clientToken": 5}),
        ("clientToken object", {"clientToken": {"t": "x"}}),
        ("clientToken boolean", {"clientToken": True}),
        ("clientToken array", {"clientToken": ["x"]}),
        ("stepTimeoutInMinutes zero", {"stepTimeoutInMinutes": 0}),
        ("stepTimeoutInMinutes over", {"stepTimeoutInMinutes": 10081}),
    ]

    def test_update_invalid_requests(self):
        j = self.job()
        self.update(j, "IN_PROGRESS", statusDetails={"keep": "me"})
        for label, fields in self.BAD_UPDATES:
            body = dict(fields)
            if "status" not in body and not label.startswith("status missing"):
                body["status"] = "SUCCEEDED"
            with self.subTest(label):
                reply = self.rejected(f"{j}/update", body, "InvalidRequest")
                self.assertNotIn("clientToken", reply)
        e = self.execution(j)
        self.assertEqual((e["status"], e["versionNumber"], e["statusDetails"]),
                         ("IN_PROGRESS", 2, {"keep": "me"}))

    def test_invalid_request_echoes_client_token(self):
        j = self.job()
        body = self.rejected(f"{j}/update", {"clientToken": "tok-9", "status": "QUEUED"},
                             "InvalidRequest")
        self.assertEqual(body["clientToken"], "tok-9")

    def test_client_token_wrong_type_on_every_operation(self):
        j = self.job()
        for levels in ("get", "start-next", f"{j}/get", f"{j}/update", "$next/get"):
            with self.subTest(levels):
                self.rejected(levels, {"clientToken": 12, "status": "SUCCEEDED"}, "InvalidRequest")
        self.assertEqual(self.execution(j)["status"], "QUEUED")

    def test_status_details_map_size_cap(self):
        # each entry "kNN":"x…" is 1024 + 8 bytes of JSON; the stored map is capped at 32768
        j = self.job()
        big = {f"k{i:02d}": "x" * 1024 for i in range(33)}
        self.assertGreater(len(json.dumps(big, separators=(",", ":"))), 32768)
        self.rejected(f"{j}/update", {"status": "IN_PROGRESS", "statusDetails": big}, "InvalidRequest")
        self.assertEqual(self.execution(j)["versionNumber"], 1)
        fits = {f"k{i:02d}": "x" * 1024 for i in range(31)}
        self.assertLess(len(json.dumps(fits, separators=(",", ":"))), 32768)
        self.update(j, "IN_PROGRESS", statusDetails=fits)
        self.assertEqual(self.execution(j)["statusDetails"], fits)

    def test_status_details_limits_accepted(self):
        j = self.job()
        details = {
            "k" * 128: "v",
            "a:b_c-D9": "x" * 1024,
            "accents": "\u00e9" * 1024,
            "unicode": "na\u00efve \u2713 \u65e5\u672c \U0001F600",
            "spaces": "  inner spaces and punctuation !@#$%^&*() ",
        }
        details.update({f"n{i}": str(i) for i in range(40)})
        self.update(j, "IN_PROGRESS", statusDetails=details)
        self.assertEqual(self.execution(j)["statusDetails"], details)


class CommonRequestTest(DeviceTest):

    TOKENS = [
        "abc",
        "1:thing-name",
        "",
        "t\u00f6k-\u00f1-\u65e5\u672c-\U0001F600",
        "quote\" backslash\\ slash/ tab\t",
        "\u00e9 written as an escape",
        "x" * 200,
        "123",
    ]

    def test_client_token_echoed_verbatim_in_accepted_replies(self):
        j = self.job()
        for token in self.TOKENS:
            for levels, extra in (("get", {}), (f"{j}/get", {}), ("$next/get", {}),
                                  ("start-next", {}),
                                  (f"{j}/update", {"status": "IN_PROGRESS"})):
                with self.subTest(token=token, op=levels):
                    body = self.ok(levels, dict(extra, clientToken=token))
                    self.assertIsInstance(body["clientToken"], str)
                    self.assertEqual(body["clientToken"], token)

    def test_client_token_bytes_are_not_rewritten(self):
        # written with \u escapes by the client; the reply carries the same string
        j = self.job()
        raw = b'{"clientToken":"caf\\u00e9-\\ud83d\\ude00"}'
        outcome, body, msg = self.rq(f"{j}/get", raw)
        self.assertEqual(outcome, "accepted")
        self.assertEqual(body["clientToken"], "caf\u00e9-\U0001F600")

    def test_client_token_echoed_in_rejected_replies(self):
        j = self.job()
        token = "r\u00e9j-\U0001F600"
        for levels, payload, code in (
                (f"{j}/update", {"status": "QUEUED"}, "InvalidRequest"),
                (f"{self.name('nojob')}/get", {}, "ResourceNotFound"),
                (f"{self.name('nojob')}/update", {"status": "SUCCEEDED"}, "ResourceNotFound"),
                (f"{j}/update", {"status": "SUCCEEDED", "expectedVersion": 5}, "VersionMismatch"),
                (f"{j}/get", {"includeJobDocument": "no"}, "InvalidRequest"),
                ("start-next", {"statusDetails": []}, "InvalidRequest")):
            with self.subTest(code=code, op=levels):
                body = self.rejected(levels, dict(payload, clientToken=token), code)
                self.assertEqual(body["clientToken"], token)
        self.update(j, "SUCCEEDED")
        body = self.rejected(f"{j}/update", {"status": "FAILED", "clientToken": token},
                             "InvalidStateTransition")
        self.assertEqual(body["clientToken"], token)

    def test_client_token_echoed_in_invalid_topic_replies(self):
        # the payload is valid JSON with a token, so an echo is possible (spec 2 and 5)
        for topic in (P("x" * 129, "get"), P("bad.thing", "start-next"), P(self.thing, "j" * 65, "get"),
                      P(self.thing, "frobnicate")):
            with self.subTest(topic=topic):
                outcome, body, msg = self.dev.request(topic, {"clientToken": "it-1"})
                self.assertEqual((outcome, body["code"]), ("rejected", "InvalidTopic"))
                self.assertEqual(body.get("clientToken"), "it-1")

    def test_client_token_with_nul_is_refused_not_truncated(self):
        # a string holding U+0000 cannot be kept whole: the request is refused, and no
        # token is echoed rather than a truncated one
        token = "a\u0000b"
        outcome, body, _ = self.rq("get", json.dumps({"clientToken": token}).encode())
        self.assertEqual(outcome, "rejected", body)
        self.assertEqual(body["code"], "InvalidRequest", body)
        self.assertNotIn("clientToken", body)

    def test_client_token_absent_when_not_sent(self):
        j = self.job()
        for levels, payload in (("get", {}), (f"{j}/get", {}), ("$next/get", {}),
                                ("start-next", {}), (f"{j}/update", {"status": "IN_PROGRESS"})):
            with self.subTest(op=levels):
                self.assertNotIn("clientToken", self.ok(levels, payload))
        for levels, payload, code in ((f"{j}/update", {"status": "QUEUED"}, "InvalidRequest"),
                                      (f"{j}/update", {"status": "FAILED", "expectedVersion": 1},
                                       "VersionMismatch"),
                                      (f"{self.name('nojob')}/get", {}, "ResourceNotFound")):
            with self.subTest(code=code):
                self.assertNotIn("clientToken", self.rejected(levels, payload, code))

    def test_empty_payload_means_empty_object(self):
        j = self.job()
        body = self.ok("get", "")
        self.assertEqual(self.ids(body["queuedJobs"]), [j])
        self.assertEqual(self.ok(f"{j}/get", "")["execution"]["jobDocument"], {"op": j, "n": 1})
        self.assertEqual(self.ok("$next/get", "")["execution"]["jobId"], j)
        # update needs a status: an empty payload is an InvalidRequest, not InvalidJson
        self.rejected(f"{j}/update", "", "InvalidRequest")
        e = self.ok("start-next", "")["execution"]
        self.assertEqual((e["jobId"], e["status"]), (j, "IN_PROGRESS"))

    def test_timestamp_is_integer_epoch_seconds(self):
        j = self.job()
        replies = [self.ok("get", {}), self.ok(f"{j}/get", {}),
                   self.ok(f"{j}/update", {"status": "IN_PROGRESS"}),
                   self.rejected(f"{j}/update", {"status": "nope"}, "InvalidRequest"),
                   self.rejected(f"{j}/update", "not json", "InvalidJson"),
                   self.rejected("bogus", {}, "InvalidTopic")]
        for body in replies:
            self.assert_timestamp(body)
            self.assertLess(body["timestamp"], 2 ** 32, "timestamp must fit uint32 seconds")

    def test_invalid_json(self):
        j = self.job()
        payloads = [b"not json", b"{", b'{"status":', b"\xff\xfe\xfd", b'{"clientToken":"\xff"}',
                    b'{"status":"SUCCEEDED","clientToken":"a\xc3"}', b"[1, 2]", b'"a string"',
                    b"42", b"null", b"true", b"[]"]
        for levels in ("get", "start-next", f"{j}/get", f"{j}/update", "$next/get"):
            for payload in payloads:
                with self.subTest(op=levels, payload=payload):
                    body = self.rejected(levels, payload, "InvalidJson")
                    self.assertNotIn("clientToken", body)
        e = self.execution(j)
        self.assertEqual((e["status"], e["versionNumber"]), ("QUEUED", 1))

    def test_trailing_garbage_after_json_object_is_invalid_json(self):
        j = self.job()
        for payload in (b'{"status":"IN_PROGRESS"} trailing', b'{"status":"IN_PROGRESS"}{}',
                        b'{"status":"IN_PROGRESS"},'):
            with self.subTest(payload=payload):
                self.rejected(f"{j}/update", payload, "InvalidJson")
        self.assertEqual(self.execution(j)["versionNumber"], 1)

    def test_reply_qos_follows_request_qos(self):
        j = self.job()
        for qos, expected in ((0, 0), (1, 1), (2, 1)):
            for levels, payload, outcome in (("get", {}, "accepted"),
                                             (f"{j}/update", {"status": "IN_PROGRESS"}, "accepted"),
                                             (f"{j}/update", {"status": "QUEUED"}, "rejected"),
                                             ("no-such-op", {}, "rejected")):
                with self.subTest(qos=qos, op=levels, outcome=outcome):
                    got, body, msg = self.rq(levels, payload, qos=qos)
                    self.assertEqual(got, outcome, body)
                    self.assertEqual(msg.qos, expected)
                    self.assertFalse(msg.retain)

    def test_replies_reach_a_client_that_never_subscribed(self):
        # self.dev has no subscription at all; every reply above relied on that too
        j = self.job()
        body = self.ok(f"{j}/update", {"status": "IN_PROGRESS", "includeJobExecutionState": True})
        self.assertEqual(body["executionState"]["status"], "IN_PROGRESS")

    def test_mqtt5_client_bad_request_is_not_disconnected(self):
        c = self.client(protocol=mqtt.MQTTv5)
        pubacks = []
        original = c.c._handle_pubackcomp

        def spy(cmd):
            packet = c.c._in_packet
            code = packet["packet"][2] if packet["remaining_length"] > 2 else 0
            pubacks.append((cmd, code))
            return original(cmd)

        c.c._handle_pubackcomp = spy
        j = self.job()
        cases = [(f"{j}/update", b"not json", "InvalidJson"),
                 (f"{j}/update", {"status": "QUEUED"}, "InvalidRequest"),
                 (f"{self.name('nojob')}/update", {"status": "SUCCEEDED"}, "ResourceNotFound"),
                 ("no-such-op", {}, "InvalidTopic")]
        for levels, payload, code in cases:
            with self.subTest(code=code):
                self.rejected(levels, payload, code, client=c)
        self.assertEqual(len(pubacks), len(cases))
        for cmd, code in pubacks:
            self.assertEqual(cmd, "PUBACK")
            self.assertLess(code, 0x80, f"PUBACK reason 0x{code:02x} is an error")
        self.assertTrue(c.c.is_connected())
        self.assertEqual(c.disconnects, [])
        body = self.ok(f"{j}/update", {"status": "IN_PROGRESS"}, client=c)
        self.assertEqual(set(body), {"timestamp"})


class TopicTest(DeviceTest):

    def test_unknown_operations_are_invalid_topic(self):
        j = self.job()
        topics = [P(self.thing, "delete"), P(self.thing, "frobnicate"), P(self.thing, ""),
                  P(self.thing), P(self.thing, j, "delete"), P(self.thing, j, "start-next"),
                  P(self.thing, j, "get", "extra"), P(self.thing, "$next", "update"),
                  P(self.thing, "$next"), P(self.thing, "start-next", "now"),
                  P(self.thing, j, "namespace-x", "start-next"),
                  P(self.thing, j, "other-x", "get"), P(self.thing, j, "namespace-", "get"),
                  P(self.thing, j, "namespace-x", "get", "more"),
                  P(self.thing, "a", "b", "c", "d", "e")]
        for topic in topics:
            with self.subTest(topic=topic):
                outcome, body, msg = self.dev.request(topic, {"status": "SUCCEEDED"})
                self.assertEqual(outcome, "rejected")
                self.assertEqual(msg.topic, topic + "/rejected")
                self.assert_error(body, "InvalidTopic")
        self.assertEqual(self.execution(j)["status"], "QUEUED")

    def test_bad_thing_names_are_invalid_topic(self):
        for thing in ("x" * 129, "bad.name", "bad@name", "bad name", "b\u00e4d", "bad$"):
            for levels, payload in (("get", {}), ("start-next", {}), ("$next/get", {}),
                                    ("somejob/get", {}), ("somejob/update", {"status": "SUCCEEDED"})):
                with self.subTest(thing=thing, op=levels):
                    self.rejected(levels, payload, "InvalidTopic", thing=thing)
        outcome, body, msg = self.dev.request("$aws/things//jobs/get", {})
        self.assertEqual((outcome, msg.topic), ("rejected", "$aws/things//jobs/get/rejected"))
        self.assert_error(body, "InvalidTopic")

    def test_thing_name_limits_are_accepted(self):
        for thing in ("x" * 128, "a:b_c-D9", "A"):
            with self.subTest(thing=thing):
                body = self.ok("get", {}, thing=thing)
                self.assertEqual(body["queuedJobs"], [])

    def test_thing_arn_like_name_with_colons(self):
        thing = self.name("t") + ":sensor:1"
        j = self.job(thing)
        self.assertEqual(self.ids(self.ok("get", {}, thing=thing)["queuedJobs"]), [j])
        self.update(j, "SUCCEEDED", thing=thing)

    def test_bad_job_ids_are_invalid_topic(self):
        for job_id in ("j" * 65, "bad.job", "a:b", "b\u00e4d", "sp ace"):
            for levels, payload in ((f"{job_id}/get", {}), (f"{job_id}/update", {"status": "SUCCEEDED"})):
                with self.subTest(job_id=job_id, op=levels):
                    self.rejected(levels, payload, "InvalidTopic")
        # 64 characters is a legal id: just not an existing one
        self.rejected(f"{'j' * 64}/get", {}, "ResourceNotFound")
        self.rejected(f"{'j' * 64}/update", {"status": "SUCCEEDED"}, "ResourceNotFound")

    def test_publishes_on_reply_topics_get_no_reply(self):
        j = self.job()
        topics = [P(self.thing, "get", "accepted"), P(self.thing, "get", "rejected"),
                  P(self.thing, "start-next", "accepted"), P(self.thing, "start-next", "rejected"),
                  P(self.thing, j, "get", "accepted"), P(self.thing, j, "get", "rejected"),
                  P(self.thing, j, "update", "accepted"), P(self.thing, j, "update", "rejected"),
                  P(self.thing, "$next", "get", "accepted"),
                  P(self.thing, j, f"namespace-{NS}", "update", "accepted"),
                  P(self.thing, "notify"), P(self.thing, "notify-next"),
                  P(self.thing, f"notify-namespace-{NS}"), P(self.thing, f"notify-next-namespace-{NS}"),
                  P("bad.thing", "get", "accepted"), P("bad.thing", "notify")]
        for topic in topics:
            self.dev.publish(topic, {"status": "SUCCEEDED", "clientToken": "spoof"})
            self.dev.publish(topic, b"not json")
        got = self.dev.sync()
        self.assertEqual([m.topic for m in got], [])
        e = self.execution(j)
        self.assertEqual((e["status"], e["versionNumber"]), ("QUEUED", 1))

    def test_jobs_named_like_operations(self):
        # job ids are global, so these exist once per broker: only this test uses them
        for job_id in ("get", "notify", "start-next", "update", "notify-next"):
            self.create_job(job_id, [self.thing], {"named": job_id})
        body = self.ok("get", {})
        self.assertEqual(self.ids(body["queuedJobs"]),
                         ["get", "notify", "start-next", "update", "notify-next"])
        for job_id in ("get", "notify", "start-next", "update", "notify-next"):
            with self.subTest(job_id=job_id):
                e = self.ok(f"{job_id}/get", {})["execution"]
                self.assertEqual((e["jobId"], e["jobDocument"]), (job_id, {"named": job_id}))
        self.ok("get/update", {"status": "SUCCEEDED"})
        self.ok("notify/update", {"status": "IN_PROGRESS"})
        body = self.ok("get", {})
        self.assertEqual(self.ids(body["inProgressJobs"]), ["notify"])
        self.assertEqual(self.ids(body["queuedJobs"]), ["start-next", "update", "notify-next"])
        self.assertEqual(self.ok("get/get", {})["execution"]["status"], "SUCCEEDED")


class NamespaceTest(DeviceTest):

    def test_greengrass_topics_for_a_namespaced_job(self):
        watcher = self.client()
        watcher.subscribe(P(self.thing, "#"))
        doc = {"deployment": "d-1"}
        j = self.job(document=doc, namespaceId=NS)
        body, _ = watcher.expect(P(self.thing, f"notify-namespace-{NS}"))
        self.assertEqual(self.ids(body["jobs"]["QUEUED"]), [j])
        body, _ = watcher.expect(P(self.thing, f"notify-next-namespace-{NS}"))
        self.assertEqual(body["execution"]["jobId"], j)
        self.assertEqual(body["execution"]["jobDocument"], doc)

        outcome, body, msg = self.rq(f"$next/namespace-{NS}/get", {"clientToken": "gg"})
        self.assertEqual(outcome, "accepted")
        self.assertEqual(msg.topic, P(self.thing, "$next", f"namespace-{NS}", "get", "accepted"))
        self.assertEqual(body["clientToken"], "gg")
        self.assertEqual((body["execution"]["jobId"], body["execution"]["jobDocument"]), (j, doc))

        e = self.ok(f"{j}/namespace-{NS}/get", {})["execution"]
        self.assertEqual((e["jobId"], e["status"]), (j, "QUEUED"))
        outcome, body, msg = self.rq(f"{j}/namespace-{NS}/update",
                                     {"status": "IN_PROGRESS", "includeJobExecutionState": True,
                                      "thingName": self.thing, "jobId": j})
        self.assertEqual(outcome, "accepted", body)
        self.assertEqual(msg.topic, P(self.thing, j, f"namespace-{NS}", "update", "accepted"))
        self.assertEqual(body["executionState"], {"status": "IN_PROGRESS", "versionNumber": 2})
        self.rejected(f"{j}/namespace-{NS}/update", {"status": "QUEUED"}, "InvalidRequest")
        self.ok(f"{j}/namespace-{NS}/update", {"status": "SUCCEEDED"})
        body, _ = watcher.expect(P(self.thing, f"notify-namespace-{NS}"))
        self.assertEqual(body["jobs"], {})
        body, _ = watcher.expect(P(self.thing, f"notify-next-namespace-{NS}"))
        self.assertNotIn("execution", body)
        self.assertEqual(self.ok(f"{j}/namespace-{NS}/get", {})["execution"]["status"], "SUCCEEDED")
        # nothing was published on the plain notification topics
        plain = [m.topic for m in watcher.sync()
                 if m.topic in (P(self.thing, "notify"), P(self.thing, "notify-next"))]
        self.assertEqual(plain, [])

    def test_namespaced_job_is_invisible_on_plain_topics(self):
        j = self.job(namespaceId=NS)
        body = self.ok("get", {})
        self.assertEqual((body["inProgressJobs"], body["queuedJobs"]), ([], []))
        self.assertNotIn("execution", self.ok("$next/get", {}))
        self.rejected(f"{j}/get", {}, "ResourceNotFound")
        self.rejected(f"{j}/update", {"status": "SUCCEEDED"}, "ResourceNotFound")
        self.assertNotIn("execution", self.ok("start-next", {}))
        e = self.ok(f"{j}/namespace-{NS}/get", {})["execution"]
        self.assertEqual((e["status"], e["versionNumber"]), ("QUEUED", 1))

    def test_plain_job_is_invisible_on_namespaced_topics(self):
        j = self.job()
        self.assertNotIn("execution", self.ok(f"$next/namespace-{NS}/get", {}))
        self.rejected(f"{j}/namespace-{NS}/get", {}, "ResourceNotFound")
        self.rejected(f"{j}/namespace-{NS}/update", {"status": "SUCCEEDED"}, "ResourceNotFound")
        self.assertEqual(self.execution(j)["versionNumber"], 1)

    def test_namespaces_are_separate(self):
        a = self.job(namespaceId="ns-a")
        b = self.job(namespaceId="ns-b")
        self.assertEqual(self.ok("$next/namespace-ns-a/get", {})["execution"]["jobId"], a)
        self.assertEqual(self.ok("$next/namespace-ns-b/get", {})["execution"]["jobId"], b)
        self.rejected(f"{a}/namespace-ns-b/get", {}, "ResourceNotFound")
        self.ok(f"{a}/namespace-ns-a/update", {"status": "SUCCEEDED"})
        self.assertNotIn("execution", self.ok("$next/namespace-ns-a/get", {}))
        self.assertEqual(self.ok("$next/namespace-ns-b/get", {})["execution"]["jobId"], b)


if __name__ == "__main__":
    unittest.main()
