"""Management API on $CONTROL/jobs/v1 (docs/management.md): createJob, cancelJob,
describeJob, describeJobExecution, batching, correlation data and malformed requests."""
import json
import time
import unittest

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

import harness
from harness import ARN_PREFIX, P, SharedBrokerTest, thing_arn


PROCESS_KEYS = ["numberOfInProgressThings", "numberOfQueuedThings", "numberOfSucceededThings",
                "numberOfFailedThings", "numberOfRejectedThings", "numberOfTimedOutThings",
                "numberOfRemovedThings", "numberOfCanceledThings"]


class ManagementTest(harness.ControlAssertions, SharedBrokerTest):

    def setUp(self):
        super().setUp()
        self.dev = self.client()

    # -- management helpers --

    def assert_no_job(self, job_id):
        self.fails("describeJob", "ResourceNotFoundException", jobId=job_id)

    # -- device helpers --

    def device(self, thing, levels, payload):
        outcome, body, _ = self.dev.request(P(thing, *levels.split("/")), payload)
        return outcome, body

    def device_ok(self, thing, levels, payload):
        outcome, body = self.device(thing, levels, payload)
        self.assertEqual(outcome, "accepted", body)
        return body

    def pending_ids(self, thing):
        body = self.device_ok(thing, "get", {})
        return [s["jobId"] for s in body["inProgressJobs"] + body["queuedJobs"]]


class CreateJobTest(ManagementTest):

    def test_bare_thing_names(self):
        t2 = self.name("t")
        j = self.name("j")
        data = self.ok("createJob", jobId=j, targets=[self.thing, t2], document={"a": 1})
        self.assertEqual(data, {"jobId": j, "jobArn": f"{ARN_PREFIX}:job/{j}"})
        for thing in (self.thing, t2):
            e = self.device_ok(thing, f"{j}/get", {})["execution"]
            self.assertEqual((e["status"], e["versionNumber"], e["executionNumber"]), ("QUEUED", 1, 1))
            self.assertEqual(e["jobDocument"], {"a": 1})
        job = self.describe_job(j)
        self.assertEqual(job["jobId"], j)
        self.assertEqual(job["jobArn"], f"{ARN_PREFIX}:job/{j}")
        self.assertEqual(job["status"], "IN_PROGRESS")
        self.assertEqual(job["targetSelection"], "SNAPSHOT")
        self.assertEqual(len(job["targets"]), 2)
        for given, stored in zip((self.thing, t2), job["targets"]):
            self.assertIn(stored, (given, thing_arn(given)))
        self.assertNotIn("description", job)

    def test_thing_arns(self):
        t2 = self.name("t")
        j = self.create([thing_arn(self.thing), thing_arn(t2)])
        for thing in (self.thing, t2):
            self.assertEqual(self.pending_ids(thing), [j])
            self.assertEqual(self.describe_exec(j, thing)["thingArn"], thing_arn(thing))

    def test_thing_arn_with_colons_in_the_thing_name(self):
        # thing names may contain ':' ([a-zA-Z0-9:_-]{1,128}), so may the ARN's name part
        thing = self.name("t") + ":dev:1"
        j = self.create([thing_arn(thing)])
        self.assertEqual(self.pending_ids(thing), [j])

    def test_thing_name_with_colons_bare(self):
        thing = self.name("t") + ":dev:2"
        j = self.create([thing])
        self.assertEqual(self.pending_ids(thing), [j])

    def test_document_as_object_and_as_json_string(self):
        doc = {"operation": "update", "files": [{"name": "fw.bin", "size": 1024}], "ok": True}
        j1 = self.create(document=doc)
        j2 = self.create(document=json.dumps(doc, indent=2))
        for j in (j1, j2):
            e = self.device_ok(self.thing, f"{j}/get", {})["execution"]
            self.assertEqual(e["jobDocument"], doc)

    def test_description(self):
        j = self.name("j")
        desc = "Firmware 1.2.3 for sensors \u2713"
        data = self.ok("createJob", jobId=j, targets=[self.thing], document={}, description=desc)
        self.assertEqual(data["description"], desc)
        self.assertEqual(self.describe_job(j)["description"], desc)

    def test_duplicate_job_id(self):
        j = self.create(document={"first": 1})
        other = self.name("t")
        self.fails("createJob", "ResourceAlreadyExistsException", jobId=j, targets=[other],
                   document={"second": 2})
        self.assertEqual(self.pending_ids(other), [])
        e = self.device_ok(self.thing, f"{j}/get", {})["execution"]
        self.assertEqual(e["jobDocument"], {"first": 1})

    def test_missing_and_invalid_fields(self):
        t = self.thing
        good = {"targets": [t], "document": {"a": 1}}
        cases = [
            ("no jobId", {"targets": [t], "document": {}}),
            ("jobId number", dict(good, jobId=5)),
            ("jobId bad character", dict(good, jobId="bad.id")),
            ("jobId empty", dict(good, jobId="")),
            ("jobId over 64", dict(good, jobId="j" * 65)),
            ("no targets", {"jobId": None, "document": {}}),
            ("targets not a list", dict(good, jobId=None, targets=t)),
            ("targets empty", dict(good, jobId=None, targets=[])),
            ("target not a string", dict(good, jobId=None, targets=[5])),
            ("target bad name", dict(good, jobId=None, targets=["bad name!"])),
            ("target over 128", dict(good, jobId=None, targets=["x" * 129])),
            ("target other ARN", dict(good, jobId=None, targets=[f"{ARN_PREFIX}:policy/p"])),
            ("one bad target of two", dict(good, jobId=None, targets=[t, "bad/name"])),
            ("no document", {"jobId": None, "targets": [t]}),
            ("document null", dict(good, jobId=None, document=None)),
            ("document array", dict(good, jobId=None, document=[1])),
            ("document number", dict(good, jobId=None, document=3)),
            ("document string not JSON", dict(good, jobId=None, document="{not json")),
            ("document string holding an array", dict(good, jobId=None, document="[1,2]")),
            ("description not a string", dict(good, jobId=None, description=7)),
            ("targetSelection unknown", dict(good, jobId=None, targetSelection="SOMETIMES")),
            ("namespaceId bad", dict(good, jobId=None, namespaceId="ns.x")),
            ("namespaceId not a string", dict(good, jobId=None, namespaceId=1)),
        ]
        for label, fields in cases:
            fields = dict(fields)
            if "jobId" in fields and fields["jobId"] is None:
                fields["jobId"] = self.name("j")
            with self.subTest(label):
                self.fails("createJob", "InvalidRequestException", **fields)
                if not label.startswith(("jobId", "no jobId")):
                    self.assert_no_job(fields["jobId"])
        self.assertEqual(self.pending_ids(t), [])

    def test_unsupported_and_invalid_policy_fields_are_refused(self):
        # fields not acted on are refused rather than silently ignored, and policies
        # out of AWS's ranges are refused too (docs/management.md)
        cases = [
            ("timeoutConfig", {"timeoutConfig": {"inProgressTimeoutInMinutes": 10081}}),
            ("jobExecutionsRolloutConfig", {"jobExecutionsRolloutConfig": {"maximumPerMinute": 0}}),
            ("abortConfig", {"abortConfig": {"criteriaList": []}}),
            ("jobExecutionsRetryConfig", {"jobExecutionsRetryConfig": {"criteriaList": []}}),
            ("schedulingConfig", {"schedulingConfig": {"startTime": "2030-01-01 00:00"}}),
            # maintenanceWindows and presignedUrlConfig are taken since they are
            # supported (test_update_job.py); out of AWS's ranges they are refused
            ("maintenanceWindows", {"schedulingConfig": {"startTime": "2030-01-01T00:00",
                                                         "maintenanceWindows": [{"startTime": "cron(0 0 * * * *)",
                                                                                 "durationInMinutes": 60}]}}),
            ("documentSource", {"documentSource": "https://example.com/doc.json"}),
            ("presignedUrlConfig", {"presignedUrlConfig": {"expiresInSec": 59}}),
        ]
        for label, extra in cases:
            j = self.name("j")
            fields = dict({"jobId": j, "targets": [self.thing], "document": {}}, **extra)
            with self.subTest(label):
                self.fails("createJob", "InvalidRequestException", **fields)
                self.assert_no_job(j)
        self.assertEqual(self.pending_ids(self.thing), [])
        # SNAPSHOT, the default, is accepted when spelled out
        j = self.create(targetSelection="SNAPSHOT")
        self.assertEqual(self.pending_ids(self.thing), [j])

    def test_a_thing_named_twice_gets_one_execution(self):
        j = self.create([self.thing, thing_arn(self.thing), self.thing])
        self.assertEqual(self.pending_ids(self.thing), [j])
        self.assertEqual(self.counts(j), {"numberOfQueuedThings": 1})

    def test_document_size_limit(self):
        # {"d":"xxx…"} is 8 characters plus the x's
        at_limit = {"d": "x" * (32768 - 8)}
        self.assertEqual(len(json.dumps(at_limit, separators=(",", ":"))), 32768)
        j = self.create(document=at_limit)
        e = self.device_ok(self.thing, f"{j}/get", {})["execution"]
        self.assertEqual(e["jobDocument"], at_limit)
        for size in (32769, 40000):
            j = self.name("j")
            with self.subTest(size=size):
                self.fails("createJob", "InvalidRequestException", jobId=j, targets=[self.thing],
                           document={"d": "x" * (size - 8)})
                self.assert_no_job(j)
        j = self.name("j")
        self.fails("createJob", "InvalidRequestException", jobId=j, targets=[self.thing],
                   document=json.dumps({"d": "x" * 32761}, separators=(",", ":")))
        self.assert_no_job(j)

    def test_at_most_100_targets(self):
        things = [self.name("t") for _ in range(101)]
        j = self.name("j")
        self.fails("createJob", "LimitExceededException", jobId=j, targets=things)
        self.assert_no_job(j)
        j = self.create(things[:100])
        self.assertEqual(self.counts(j), {"numberOfQueuedThings": 100})


class GroupTargetTest(ManagementTest):

    def group(self, *things):
        name = self.name("g")
        data = self.ok("createThingGroup", thingGroupName=name)
        self.assertEqual(data["thingGroupArn"], f"{ARN_PREFIX}:thinggroup/{name}")
        for thing in things:
            self.ok("addThingToThingGroup", thingGroupName=name, thingName=thing)
        return name

    def group_arn(self, name):
        return f"{ARN_PREFIX}:thinggroup/{name}"

    def test_thing_group_arn_targets_its_members(self):
        t2 = self.name("t")
        g = self.group(self.thing, t2)
        j = self.create([self.group_arn(g), self.thing])
        for thing in (self.thing, t2):
            self.assertEqual(self.pending_ids(thing), [j])
        self.assertEqual(self.counts(j), {"numberOfQueuedThings": 2})

    def test_thing_group_arn_with_colons_in_the_name(self):
        # group names follow the thing name pattern, ':' included
        g = self.name("g") + ":line:1"
        self.ok("createThingGroup", thingGroupName=g)
        self.ok("addThingToThingGroup", thingGroupName=g, thingName=self.thing)
        j = self.create([self.group_arn(g)])
        self.assertEqual(self.pending_ids(self.thing), [j])

    def test_missing_group_is_refused(self):
        j = self.name("j")
        self.fails("createJob", "ResourceNotFoundException", jobId=j,
                   targets=[self.thing, self.group_arn(self.name("nogroup"))], document={})
        self.assert_no_job(j)
        self.assertEqual(self.pending_ids(self.thing), [])

    def test_snapshot_job_for_an_empty_group_is_completed_at_once(self):
        j = self.create([self.group_arn(self.group())])
        job = self.describe_job(j)
        self.assertEqual(job["status"], "COMPLETED")
        self.assertIn("completedAt", job)

    def test_snapshot_job_does_not_follow_the_group(self):
        g = self.group(self.thing)
        j = self.create([self.group_arn(g)])
        late = self.name("t")
        self.ok("addThingToThingGroup", thingGroupName=g, thingName=late)
        self.assertEqual(self.pending_ids(late), [])
        self.assertEqual(self.pending_ids(self.thing), [j])

    def test_continuous_job_follows_membership(self):
        g = self.group(self.thing)
        j = self.create([self.group_arn(g)], targetSelection="CONTINUOUS")
        self.assertEqual(self.describe_job(j)["targetSelection"], "CONTINUOUS")
        late = self.name("t")
        watcher = self.client()
        watcher.subscribe(P(late, "notify-next"))
        self.ok("addThingToThingGroup", thingGroupName=g, thingName=late)
        body, _ = watcher.expect(P(late, "notify-next"))
        self.assertEqual(body["execution"]["jobId"], j)
        self.assertEqual(self.pending_ids(late), [j])
        # every execution terminal: a continuous job still does not complete
        self.device_ok(self.thing, f"{j}/update", {"status": "SUCCEEDED"})
        self.device_ok(late, "start-next", {})
        self.device_ok(late, f"{j}/update", {"status": "SUCCEEDED"})
        job = self.describe_job(j)
        self.assertEqual(job["status"], "IN_PROGRESS")
        self.assertNotIn("completedAt", job)

    def test_leaving_the_group_removes_a_pending_continuous_execution(self):
        g = self.group(self.thing)
        j = self.create([self.group_arn(g)], targetSelection="CONTINUOUS")
        self.ok("removeThingFromThingGroup", thingGroupName=g, thingName=self.thing)
        e = self.describe_exec(j)
        self.assertEqual((e["status"], e["versionNumber"]), ("REMOVED", 2))
        self.assertEqual(self.pending_ids(self.thing), [])
        outcome, body = self.device(self.thing, f"{j}/update", {"status": "IN_PROGRESS"})
        self.assertEqual((outcome, body["code"]), ("rejected", "InvalidStateTransition"))
        self.assertEqual(body["executionState"], {"status": "REMOVED", "versionNumber": 2})
        # coming back: a new execution with the next number
        self.ok("addThingToThingGroup", thingGroupName=g, thingName=self.thing)
        e = self.describe_exec(j)
        self.assertEqual((e["status"], e["executionNumber"], e["versionNumber"]), ("QUEUED", 2, 1))
        self.assertEqual(self.device_ok(self.thing, f"{j}/get", {})["execution"]["executionNumber"], 2)


class DescribeTest(ManagementTest):

    def test_job_status_and_process_details(self):
        t2 = self.name("t")
        before = int(time.time())
        j = self.create([self.thing, t2])
        job = self.describe_job(j)
        self.assertEqual(job["status"], "IN_PROGRESS")
        self.assertNotIn("completedAt", job)
        self.assertFalse(job["forceCanceled"])
        for k in ("createdAt", "lastUpdatedAt"):
            self.assertGreaterEqual(job[k], before - 1)
            self.assertLess(job[k], time.time() + 2)
        self.assertEqual(sorted(job["jobProcessDetails"]), sorted(PROCESS_KEYS))
        self.assertEqual(self.counts(j), {"numberOfQueuedThings": 2})

        self.device_ok(self.thing, "start-next", {})
        self.assertEqual(self.counts(j), {"numberOfQueuedThings": 1, "numberOfInProgressThings": 1})
        self.device_ok(self.thing, f"{j}/update", {"status": "SUCCEEDED"})
        self.assertEqual(self.counts(j), {"numberOfQueuedThings": 1, "numberOfSucceededThings": 1})
        job = self.describe_job(j)
        self.assertEqual(job["status"], "IN_PROGRESS")
        self.assertNotIn("completedAt", job)

        self.device_ok(t2, f"{j}/update", {"status": "FAILED"})
        job = self.describe_job(j)
        self.assertEqual(job["status"], "COMPLETED")
        self.assertIsInstance(job["completedAt"], (int, float))
        self.assertGreaterEqual(job["completedAt"], job["createdAt"])
        self.assert_recent(job["completedAt"])
        self.assertEqual(self.counts(j), {"numberOfSucceededThings": 1, "numberOfFailedThings": 1})

    def test_rejected_counts(self):
        j = self.create()
        self.device_ok(self.thing, f"{j}/update", {"status": "REJECTED"})
        self.assertEqual(self.counts(j), {"numberOfRejectedThings": 1})
        self.assertEqual(self.describe_job(j)["status"], "COMPLETED")

    def test_describe_job_errors(self):
        self.fails("describeJob", "ResourceNotFoundException", jobId=self.name("nojob"))
        self.fails("describeJob", "InvalidRequestException")
        self.fails("describeJob", "InvalidRequestException", jobId=12)

    def test_execution_shape(self):
        j = self.create(document={"secret": "not in this shape"})
        e = self.describe_exec(j)
        self.assertEqual(e["jobId"], j)
        self.assertEqual(e["status"], "QUEUED")
        self.assertEqual(e["thingArn"], thing_arn(self.thing))
        self.assertIs(e["forceCanceled"], False)
        self.assertEqual((e["versionNumber"], e["executionNumber"]), (1, 1))
        self.assertNotIn("jobDocument", e)
        self.assertNotIn("startedAt", e)
        self.assertEqual(e.get("statusDetails", {}).get("detailsMap", {}), {})
        self.device_ok(self.thing, f"{j}/update",
                       {"status": "IN_PROGRESS", "statusDetails": {"pct": "50", "phase": "dl"}})
        e = self.describe_exec(j)
        self.assertEqual(e["status"], "IN_PROGRESS")
        self.assertEqual(e["statusDetails"], {"detailsMap": {"pct": "50", "phase": "dl"}})
        self.assertEqual(e["versionNumber"], 2)
        for k in ("queuedAt", "startedAt", "lastUpdatedAt"):
            self.assert_recent(e[k], k)
        self.assertNotIn("jobDocument", e)

    def test_status_details_shape_without_details(self):
        """An execution without details shows `statusDetails: {}` (as AWS does for a
        QUEUED one), whether it never had any or a device cleared them; details show
        as `{"detailsMap": {...}}`."""
        j = self.create()
        self.assertEqual(self.describe_exec(j)["statusDetails"], {})
        self.device_ok(self.thing, "start-next", {})
        self.assertEqual(self.describe_exec(j)["statusDetails"], {})
        self.device_ok(self.thing, f"{j}/update", {"status": "IN_PROGRESS", "statusDetails": {"a": "1"}})
        self.assertEqual(self.describe_exec(j)["statusDetails"], {"detailsMap": {"a": "1"}})
        self.device_ok(self.thing, f"{j}/update", {"status": "IN_PROGRESS", "statusDetails": {}})
        self.assertEqual(self.describe_exec(j)["statusDetails"], {})
        # cleared by an operator's cancel
        k = self.create()
        self.ok("cancelJobExecution", jobId=k, thingName=self.thing, statusDetails={})
        e = self.describe_exec(k)
        self.assertEqual((e["status"], e["statusDetails"]), ("CANCELED", {}))

    def test_execution_lookup_errors(self):
        j = self.create()
        self.assertEqual(self.describe_exec(j, executionNumber=1)["executionNumber"], 1)
        self.fails("describeJobExecution", "ResourceNotFoundException", jobId=j,
                   thingName=self.thing, executionNumber=2)
        self.fails("describeJobExecution", "ResourceNotFoundException", jobId=j,
                   thingName=self.name("t"))
        self.fails("describeJobExecution", "ResourceNotFoundException", jobId=self.name("nojob"),
                   thingName=self.thing)
        self.fails("describeJobExecution", "InvalidRequestException", jobId=j)
        self.fails("describeJobExecution", "InvalidRequestException", jobId=j, thingName="bad name")
        self.fails("describeJobExecution", "InvalidRequestException", jobId=j,
                   thingName=self.thing, executionNumber="x")


class CancelJobTest(ManagementTest):

    def test_cancel_without_force(self):
        t_run, t_queued, t_done = self.thing, self.name("t"), self.name("t")
        j = self.create([t_run, t_queued, t_done])
        self.device_ok(t_run, "start-next", {})
        self.device_ok(t_done, f"{j}/update", {"status": "SUCCEEDED"})
        data = self.ok("cancelJob", jobId=j, reasonCode="SUPERSEDED", comment="replaced by v2")
        self.assertEqual((data["jobId"], data["jobArn"]), (j, f"{ARN_PREFIX}:job/{j}"))

        e = self.describe_exec(j, t_queued)
        self.assertEqual((e["status"], e["versionNumber"], e["forceCanceled"]), ("CANCELED", 2, False))
        e = self.describe_exec(j, t_run)
        self.assertEqual((e["status"], e["versionNumber"]), ("IN_PROGRESS", 2))
        e = self.describe_exec(j, t_done)
        self.assertEqual((e["status"], e["versionNumber"]), ("SUCCEEDED", 2))

        job = self.describe_job(j)
        self.assertEqual(job["status"], "CANCELED")
        self.assertFalse(job["forceCanceled"])
        self.assertEqual((job["reasonCode"], job["comment"]), ("SUPERSEDED", "replaced by v2"))
        self.assertEqual(self.counts(j), {"numberOfInProgressThings": 1, "numberOfCanceledThings": 1,
                                          "numberOfSucceededThings": 1})

        # the device of the canceled execution sees it as terminal
        self.assertEqual(self.pending_ids(t_queued), [])
        outcome, body = self.device(t_queued, f"{j}/update", {"status": "IN_PROGRESS"})
        self.assertEqual(outcome, "rejected")
        self.assertEqual(body["code"], "InvalidStateTransition")
        self.assertEqual(body["executionState"], {"status": "CANCELED", "versionNumber": 2})
        # the one in progress may still finish
        self.device_ok(t_run, f"{j}/update", {"status": "SUCCEEDED"})
        self.assertEqual(self.describe_exec(j, t_run)["status"], "SUCCEEDED")

    def test_cancel_with_force(self):
        t_run, t_queued = self.thing, self.name("t")
        j = self.create([t_run, t_queued])
        self.device_ok(t_run, f"{j}/update", {"status": "IN_PROGRESS", "statusDetails": {"s": "1"}})
        self.ok("cancelJob", jobId=j, force=True)
        e = self.describe_exec(j, t_run)
        self.assertEqual((e["status"], e["forceCanceled"], e["versionNumber"]), ("CANCELED", True, 3))
        self.assertEqual(e["statusDetails"], {"detailsMap": {"s": "1"}})
        e = self.describe_exec(j, t_queued)
        self.assertEqual((e["status"], e["versionNumber"]), ("CANCELED", 2))
        self.assertFalse(e["forceCanceled"])
        job = self.describe_job(j)
        self.assertEqual(job["status"], "CANCELED")
        self.assertTrue(job["forceCanceled"])
        self.assertEqual(self.counts(j), {"numberOfCanceledThings": 2})
        outcome, body = self.device(t_run, f"{j}/update", {"status": "SUCCEEDED"})
        self.assertEqual((outcome, body["code"]), ("rejected", "InvalidStateTransition"))
        self.assertEqual(body["executionState"]["status"], "CANCELED")
        self.assertEqual(self.device_ok(t_run, f"{j}/get", {})["execution"]["status"], "CANCELED")
        self.assertEqual(self.pending_ids(t_run), [])

    def test_cancel_errors(self):
        self.fails("cancelJob", "ResourceNotFoundException", jobId=self.name("nojob"))
        self.fails("cancelJob", "InvalidRequestException")
        j = self.create()
        self.fails("cancelJob", "InvalidRequestException", jobId=j, force="yes")
        self.assertEqual(self.describe_job(j)["status"], "IN_PROGRESS")
        self.assertEqual(self.describe_exec(j)["status"], "QUEUED")
        self.device_ok(self.thing, f"{j}/update", {"status": "SUCCEEDED"})
        self.fails("cancelJob", "InvalidStateTransitionException", jobId=j)
        self.assertEqual(self.describe_job(j)["status"], "COMPLETED")


class RequestFormTest(ManagementTest):

    def test_several_commands_answered_in_order(self):
        j = self.name("j")
        responses = self.operator.control(
            {"command": "createJob", "correlationData": "1", "jobId": j, "targets": [self.thing],
             "document": {"v": 1}},
            {"command": "describeJob", "correlationData": "2", "jobId": j},
            {"command": "createJob", "correlationData": "3", "jobId": j, "targets": [self.thing],
             "document": {"v": 2}},
            {"command": "noSuchCommand", "correlationData": "4"},
            {"command": "cancelJob", "correlationData": "5", "jobId": j},
            {"command": "describeJob", "correlationData": "6", "jobId": j})
        self.assertEqual([r["correlationData"] for r in responses], ["1", "2", "3", "4", "5", "6"])
        self.assertEqual([r["command"] for r in responses],
                         ["createJob", "describeJob", "createJob", "noSuchCommand", "cancelJob",
                          "describeJob"])
        self.assertEqual([("error" in r) for r in responses], [False, False, True, True, False, False])
        self.assertEqual(responses[1]["data"]["job"]["status"], "IN_PROGRESS")
        self.assertTrue(responses[2]["error"].startswith("ResourceAlreadyExistsException"))
        self.assertEqual(responses[5]["data"]["job"]["status"], "CANCELED")

    def test_correlation_data_echoed(self):
        j = self.create()
        for value in ("abc", "\u00e9\u65e5\U0001F600", 42, {"req": [1, "two"]}, ""):
            with self.subTest(correlationData=value):
                [resp] = self.operator.control({"command": "describeJob", "jobId": j,
                                                "correlationData": value})
                self.assertEqual(resp["correlationData"], value)
                [resp] = self.operator.control({"command": "describeJob", "jobId": self.name("nojob"),
                                                "correlationData": value})
                self.assertEqual(resp["correlationData"], value)
                self.assertIn("error", resp)
        [resp] = self.operator.control({"command": "describeJob", "jobId": j})
        self.assertNotIn("correlationData", resp)

    def test_unknown_or_bad_command(self):
        for cmd in ({"command": "deleteEverything"}, {"command": "createjob"}, {"command": 5},
                    {"jobId": "x"}):
            with self.subTest(cmd=cmd):
                [resp] = self.operator.control(cmd)
                self.assertTrue(resp["error"].startswith("InvalidRequestException: "), resp)
                self.assertNotIn("data", resp)
        [resp] = self.operator.control(7)
        self.assertTrue(resp["error"].startswith("InvalidRequestException: "), resp)

    def test_empty_command_list(self):
        self.assertEqual(self.operator.control(), [])

    def test_malformed_payload_is_answered(self):
        for payload in (b"not json", b"", b"{", b"[]", b"[{\"command\":\"describeJob\"}]",
                        b'{"commands": {}}', b'{"commands": "createJob"}', b"{}", b"null",
                        b"\xff\xfe", b'{"commands": [], "x": "\xc3"}'):
            with self.subTest(payload=payload):
                self.operator.publish("$CONTROL/jobs/v1", payload)
                body, _ = self.operator.expect("$CONTROL/jobs/v1/response")
                [resp] = body["responses"]
                self.assertTrue(resp["error"].startswith("InvalidRequestException: "), resp)
        # still serving
        j = self.create()
        self.assertEqual(self.describe_job(j)["status"], "IN_PROGRESS")

    def test_trailing_garbage_is_malformed(self):
        j = self.name("j")
        payload = json.dumps({"commands": [{"command": "createJob", "jobId": j,
                                            "targets": [self.thing], "document": {}}]}) + " trailing"
        self.operator.publish("$CONTROL/jobs/v1", payload)
        body, _ = self.operator.expect("$CONTROL/jobs/v1/response")
        [resp] = body["responses"]
        self.assertTrue(resp.get("error", "").startswith("InvalidRequestException: "), resp)
        self.assert_no_job(j)

    def test_reply_qos_and_request_not_routed(self):
        spy = self.client()
        spy.subscribe("$CONTROL/#")
        j = self.create()
        self.operator.publish("$CONTROL/jobs/v1", {"commands": [{"command": "describeJob", "jobId": j}]},
                              qos=0)
        body, msg = self.operator.expect("$CONTROL/jobs/v1/response")
        self.assertEqual(msg.qos, 0)
        self.assertEqual(body["responses"][0]["data"]["job"]["jobId"], j)
        # the request goes to the plugin, never to subscribers
        self.assertNotIn("$CONTROL/jobs/v1", [m.topic for m in spy.sync()])

    def test_failed_command_leaves_no_change(self):
        watcher = self.client()
        watcher.subscribe(P(self.thing, "#"))
        j = self.name("j")
        self.fails("createJob", "InvalidRequestException", jobId=j,
                   targets=[self.thing, "bad name!"], document={})
        self.assert_no_job(j)
        self.assertEqual(self.pending_ids(self.thing), [])
        self.assertEqual([m.topic for m in watcher.sync() if "notify" in m.topic], [])
        existing = self.create(targets=[self.name("t")])
        self.fails("createJob", "ResourceAlreadyExistsException", jobId=existing,
                   targets=[self.thing], document={})
        self.fails("cancelJob", "InvalidRequestException", jobId=existing, force=1)
        self.assertEqual(self.describe_job(existing)["status"], "IN_PROGRESS")
        self.assertEqual(self.pending_ids(self.thing), [])
        self.assertEqual([m.topic for m in watcher.sync() if "notify" in m.topic], [])

    def test_mqtt5_response_topic_and_correlation_data(self):
        op5 = self.client(protocol=mqtt.MQTTv5)
        reply_topic = f"replies/{self.name('r')}"
        op5.subscribe(reply_topic)
        j = self.create()
        props = Properties(PacketTypes.PUBLISH)
        props.ResponseTopic = reply_topic
        props.CorrelationData = b"\x01corr-42"
        op5.publish("$CONTROL/jobs/v1", {"commands": [{"command": "describeJob", "jobId": j}]},
                    properties=props)
        body, _ = op5.expect("$CONTROL/jobs/v1/response")
        self.assertEqual(body["responses"][0]["data"]["job"]["jobId"], j)
        body, msg = op5.expect(reply_topic)
        self.assertEqual(body["responses"][0]["data"]["job"]["jobId"], j)
        self.assertEqual(getattr(msg.properties, "CorrelationData", None), b"\x01corr-42")


if __name__ == "__main__":
    unittest.main()
