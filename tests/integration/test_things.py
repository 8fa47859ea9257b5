"""The registry of things (docs/management.md, "Things"): createThing, describeThing,
updateThing, deleteThing, listThings and listThingGroupsForThing over the management
API, the same through the AWS CLI on the HTTP API and through jobsctl, and
plugin_opt_require_registered_things off (the default: any name is a target or a
member) and on (as AWS: only registered things)."""
import json
import os
import re
import subprocess
import unittest

from harness import ControlAssertions, SharedBrokerTest, group_arn, thing_arn
from test_http_api import HttpApiTest

JOBSCTL = os.environ.get("JOBS_JOBSCTL")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
# botocore's model (iot 2015-05-28): the members of DescribeThing's and ListThings' answers
DESCRIBE_THING = {"defaultClientId", "thingName", "thingId", "thingArn", "thingTypeName", "attributes",
                  "version", "billingGroupName"}
THING_ATTRIBUTE = {"thingName", "thingTypeName", "thingArn", "attributes", "version"}


class ThingsTest(HttpApiTest, ControlAssertions):
    """The default broker (plugin_opt_require_registered_things off) with the HTTP API."""

    ok = ControlAssertions.ok
    aws_ok = HttpApiTest.ok

    def test_create_describe_update_delete(self):
        t = self.thing
        created = self.ok("createThing", thingName=t, thingTypeName="sensor",
                          attributePayload={"attributes": {"model": "m-1", "loc": "a/b:c"}})
        self.assertEqual(set(created), {"thingName", "thingArn", "thingId"})
        self.assertEqual(created["thingName"], t)
        self.assertEqual(created["thingArn"], thing_arn(t))
        self.assertRegex(created["thingId"], UUID)
        # the same configuration again: the same thing; another one: a conflict
        again = self.ok("createThing", thingName=t, thingTypeName="sensor",
                        attributePayload={"attributes": {"loc": "a/b:c", "model": "m-1"}})
        self.assertEqual(again, created)
        self.fails("createThing", "ResourceAlreadyExistsException", thingName=t, thingTypeName="sensor",
                   attributePayload={"attributes": {"model": "m-2", "loc": "a/b:c"}})
        self.fails("createThing", "ResourceAlreadyExistsException", thingName=t,
                   attributePayload={"attributes": {"model": "m-1", "loc": "a/b:c"}})

        d = self.ok("describeThing", thingName=t)
        self.assertEqual(d, {"defaultClientId": t, "thingName": t, "thingId": created["thingId"],
                             "thingArn": thing_arn(t), "thingTypeName": "sensor",
                             "attributes": {"model": "m-1", "loc": "a/b:c"}, "version": 1})

        # merge: one changed, one removed (empty value), one added; version + 1
        self.ok("updateThing", thingName=t, expectedVersion=1,
                attributePayload={"attributes": {"model": "m-3", "loc": "", "new": "x=[1]"}, "merge": True})
        d = self.ok("describeThing", thingName=t)
        self.assertEqual(d["attributes"], {"model": "m-3", "new": "x=[1]"})
        self.assertEqual(d["version"], 2)
        self.fails("updateThing", "VersionConflictException", thingName=t, expectedVersion=1,
                   attributePayload={"attributes": {}})
        # without merge the attributes are replaced; the type stays unless changed
        self.ok("updateThing", thingName=t, attributePayload={"attributes": {"only": "1"}})
        d = self.ok("describeThing", thingName=t)
        self.assertEqual((d["attributes"], d["thingTypeName"], d["version"]), ({"only": "1"}, "sensor", 3))
        self.ok("updateThing", thingName=t, removeThingType=True)
        d = self.ok("describeThing", thingName=t)
        self.assertNotIn("thingTypeName", d)
        self.assertEqual((d["attributes"], d["version"]), ({"only": "1"}, 4))
        self.ok("updateThing", thingName=t, thingTypeName="gateway")
        self.assertEqual(self.ok("describeThing", thingName=t)["thingTypeName"], "gateway")

        self.fails("deleteThing", "VersionConflictException", thingName=t, expectedVersion=4)
        self.ok("describeThing", thingName=t)
        self.ok("deleteThing", thingName=t, expectedVersion=5)
        self.fails("describeThing", "ResourceNotFoundException", thingName=t)
        self.fails("updateThing", "ResourceNotFoundException", thingName=t, attributePayload={"attributes": {}})
        # deleting a missing thing succeeds, as in AWS; the name is free again with a new id
        self.ok("deleteThing", thingName=t)
        self.assertNotEqual(self.ok("createThing", thingName=t)["thingId"], created["thingId"])
        d = self.ok("describeThing", thingName=t)
        self.assertEqual((d["attributes"], d["version"]), ({}, 1))

    def test_bad_input_is_refused(self):
        t = self.thing
        bad = [
            dict(thingName="bad/name"),
            dict(thingName="x" * 129),
            dict(thingName=t, thingTypeName="a b"),
            dict(thingName=t, attributePayload="attributes"),
            dict(thingName=t, attributePayload={"attributes": ["a"]}),
            dict(thingName=t, attributePayload={"attributes": {"a": 1}}),
            dict(thingName=t, attributePayload={"attributes": {"a b": "1"}}),
            dict(thingName=t, attributePayload={"attributes": {"a" * 129: "1"}}),
            dict(thingName=t, attributePayload={"attributes": {"a": "x" * 801}}),
            dict(thingName=t, attributePayload={"attributes": {"a": "no spaces"}}),
            dict(thingName=t, attributePayload={"attributes": {"a": "1"}, "merge": "yes"}),
            dict(thingName=t, billingGroupName="b g"),
            # three attributes without a thing type, fifty with one (AWS's limits)
            dict(thingName=t, attributePayload={"attributes": {f"a{i}": "1" for i in range(4)}}),
            dict(thingName=t, thingTypeName="ty", attributePayload={"attributes": {f"a{i}": "1" for i in range(51)}}),
        ]
        for fields in bad:
            with self.subTest(fields=str(fields)[:80]):
                self.fails("createThing", "InvalidRequestException", **fields)
        self.fails("createThing", "InvalidRequestException")
        # no billing groups here, so none exists
        self.fails("createThing", "ResourceNotFoundException", thingName=t, billingGroupName="bg")
        self.fails("describeThing", "ResourceNotFoundException", thingName=t)
        self.ok("createThing", thingName=t, thingTypeName="ty",
                attributePayload={"attributes": {f"a{i}": "1" for i in range(50)}})
        self.fails("updateThing", "InvalidRequestException", thingName=t, thingTypeName="x", removeThingType=True)
        # without its type the thing could keep three attributes only
        self.fails("updateThing", "InvalidRequestException", thingName=t, removeThingType=True)
        self.fails("updateThing", "InvalidRequestException", thingName=t, expectedVersion="one")
        self.fails("deleteThing", "InvalidRequestException", thingName=t, expectedVersion=-1)
        self.fails("listThings", "InvalidRequestException", attributeName="a b")
        self.fails("listThings", "InvalidRequestException", attributeValue="a b")
        self.fails("listThings", "InvalidRequestException", maxResults=251)
        self.fails("listThings", "InvalidRequestException", nextToken="x")
        self.fails("listThingGroupsForThing", "InvalidRequestException", thingName="a/b")
        d = self.ok("describeThing", thingName=t)
        self.assertEqual((len(d["attributes"]), d["version"]), (50, 1))

    def test_list_things_filters_and_pages(self):
        p = self.name("lt")
        things = {f"{p}-{i}": dict(attributes={"color": c, "size": s}, type=ty)
                  for i, (c, s, ty) in enumerate([("red", "10", "lamp"), ("redish", "20", None),
                                                  ("blue", "10", "lamp"), ("green", "3", None)])}
        for name, v in things.items():
            fields = {"thingTypeName": v["type"]} if v["type"] else {}
            self.ok("createThing", thingName=name, attributePayload={"attributes": v["attributes"]}, **fields)

        def names(**fields):
            out, token = [], None
            while True:
                page = self.ok("listThings", maxResults=2, **fields, **({"nextToken": token} if token else {}))
                self.assertLessEqual(len(page["things"]), 2)
                out += [x["thingName"] for x in page["things"] if x["thingName"].startswith(p)]
                token = page.get("nextToken")
                if not token:
                    return out

        n = sorted(things)
        self.assertEqual(names(), n)
        self.assertEqual(names(attributeName="color", attributeValue="red"), [n[0]])
        self.assertEqual(names(attributeName="color", attributeValue="red", usePrefixAttributeValue=True),
                         [n[0], n[1]])
        self.assertEqual(names(attributeName="size", attributeValue="10"), [n[0], n[2]])
        self.assertEqual(names(attributeValue="10"), [n[0], n[2]])
        self.assertEqual(names(attributeName="size"), n)
        self.assertEqual(names(attributeName="color", attributeValue="10"), [])
        self.assertEqual(names(thingTypeName="lamp"), [n[0], n[2]])
        self.assertEqual(names(thingTypeName="lamp", attributeName="color", attributeValue="blue"), [n[2]])
        [item] = [x for x in self.ok("listThings", thingTypeName="lamp", attributeValue="blue")["things"]]
        self.assertEqual(item, {"thingName": n[2], "thingTypeName": "lamp", "thingArn": thing_arn(n[2]),
                                "attributes": {"color": "blue", "size": "10"}, "version": 1})
        untyped = [x for x in self.ok("listThings", attributeValue="green")["things"] if x["thingName"] == n[3]]
        self.assertEqual(len(untyped), 1)
        self.assertNotIn("thingTypeName", untyped[0])

    def test_groups_and_jobs_of_a_thing(self):
        t, other = self.thing, self.name("unreg")
        g1, g2 = self.name("g"), self.name("g")
        self.ok("createThing", thingName=t)
        for g in (g1, g2):
            self.ok("createThingGroup", thingGroupName=g)
            # by default a group takes any name, registered or not
            self.ok("addThingToThingGroup", thingGroupName=g, thingName=t)
            self.ok("addThingToThingGroup", thingGroupName=g, thingName=other)
        want = [{"groupName": g, "groupArn": group_arn(g)} for g in sorted((g1, g2))]
        self.assertEqual(self.ok("listThingGroupsForThing", thingName=t), {"thingGroups": want})
        self.assertEqual(self.ok("listThingGroupsForThing", thingName=other)["thingGroups"], want)
        page = self.ok("listThingGroupsForThing", thingName=t, maxResults=1)
        self.assertEqual(page["thingGroups"], want[:1])
        rest = self.ok("listThingGroupsForThing", thingName=t, nextToken=page["nextToken"])
        self.assertEqual(rest, {"thingGroups": want[1:]})
        self.assertEqual(self.ok("listThingGroupsForThing", thingName=self.name("none")), {"thingGroups": []})

        # a job for a registered thing and for a name that is not one
        job = self.create(targets=[thing_arn(t), other])
        # a continuous job on g1: the thing leaving the group removes its execution
        cont = self.create(targets=[group_arn(g1)], targetSelection="CONTINUOUS")
        self.assertEqual(self.describe_exec(cont)["status"], "QUEUED")

        # deleting the thing takes it out of its groups; its job executions stay
        self.ok("deleteThing", thingName=t)
        self.assertEqual(self.ok("listThingGroupsForThing", thingName=t), {"thingGroups": []})
        for g in (g1, g2):
            self.assertEqual(self.ok("listThingsInThingGroup", thingGroupName=g)["things"], [other])
        self.assertEqual(self.describe_exec(job)["status"], "QUEUED")
        self.assertEqual(self.describe_exec(cont)["status"], "REMOVED")
        self.assertEqual(self.describe_exec(cont, thing=other)["status"], "QUEUED")

    def test_aws_cli(self):
        t, g = self.thing, self.name("g")
        self.ok("createThingGroup", thingGroupName=g)
        created = self.aws_ok(self.aws("iot", "create-thing", "--thing-name", t, "--thing-type-name", "cam",
                                       "--attribute-payload", '{"attributes": {"model": "c1", "fw": "1.0"}}'))
        self.assertEqual(created["thingArn"], thing_arn(t))
        self.assertRegex(created["thingId"], UUID)
        self.aws_ok(self.aws("iot", "add-thing-to-thing-group", "--thing-group-name", g, "--thing-name", t))
        d, groups, listed, missing = self.aws_many(
            ["iot", "describe-thing", "--thing-name", t],
            ["iot", "list-thing-groups-for-thing", "--thing-name", t],
            ["iot", "list-things", "--attribute-name", "model", "--attribute-value", "c1",
             "--thing-type-name", "cam"],
            ["iot", "describe-thing", "--thing-name", self.name("none")])
        d = self.aws_ok(d)
        self.assertLessEqual(set(d), DESCRIBE_THING)
        self.assertEqual(d, {"defaultClientId": t, "thingName": t, "thingId": created["thingId"],
                             "thingArn": thing_arn(t), "thingTypeName": "cam",
                             "attributes": {"model": "c1", "fw": "1.0"}, "version": 1})
        self.assertEqual(self.aws_ok(groups), {"thingGroups": [{"groupName": g, "groupArn": group_arn(g)}]})
        listed = self.aws_ok(listed)["things"]
        self.assertEqual([x["thingName"] for x in listed], [t])
        self.assertLessEqual(set(listed[0]), THING_ATTRIBUTE)
        self.assertAwsError(missing, "ResourceNotFoundException")

        # update-thing: merge, expected version, the type removed (shorthand as aws takes it)
        self.aws_ok(self.aws("iot", "update-thing", "--thing-name", t, "--expected-version", "1",
                             "--attribute-payload", 'attributes={fw=2.0,extra=x},merge=true'))
        conflict = self.aws("iot", "update-thing", "--thing-name", t, "--expected-version", "1",
                            "--remove-thing-type")
        self.assertAwsError(conflict, "VersionConflictException")
        self.aws_ok(self.aws("iot", "update-thing", "--thing-name", t, "--expected-version", "2",
                             "--remove-thing-type", "--attribute-payload", '{"attributes": {"model": "c2"}}'))
        d = self.ok("describeThing", thingName=t)
        self.assertEqual((d["attributes"], d["version"]), ({"model": "c2"}, 3))
        self.assertNotIn("thingTypeName", d)
        prefix = self.aws_ok(self.aws("iot", "list-things", "--attribute-name", "model", "--attribute-value", "c",
                                      "--use-prefix-attribute-value", "--max-items", "1000"))
        self.assertIn(t, [x["thingName"] for x in prefix["things"]])

        # delete-thing: the version must match when given
        self.assertAwsError(self.aws("iot", "delete-thing", "--thing-name", t, "--expected-version", "1"),
                            "VersionConflictException")
        self.assertEqual(self.aws_ok(self.aws("iot", "delete-thing", "--thing-name", t,
                                              "--expected-version", "3")), {})
        self.fails("describeThing", "ResourceNotFoundException", thingName=t)
        self.assertEqual(self.ok("listThingsInThingGroup", thingGroupName=g)["things"], [])

    @unittest.skipUnless(JOBSCTL, "JOBS_JOBSCTL is not set")
    def test_jobsctl(self):
        t = self.thing

        def jobsctl(*args):
            return subprocess.run([JOBSCTL, "-h", "127.0.0.1", "-p", str(self.broker.port), "-i", self.name("ctl"),
                                   "--timeout", "10", "--output", "json", *args],
                                  capture_output=True, text=True, timeout=60, env=dict(os.environ, JOBSCTL_CONFIG=""), stdin=subprocess.DEVNULL)

        proc = jobsctl("create-thing", "--thing-name", t, "--attribute-payload", "attributes={k=v}")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(json.loads(proc.stdout)["thingArn"], thing_arn(t))
        proc = jobsctl("update-thing", "--thing-name", t, "--attribute-payload", 'attributes={k2=w},merge=true',
                       "--expected-version", "1")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        proc = jobsctl("describe-thing", "--thing-name", t)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        d = json.loads(proc.stdout)
        self.assertEqual((d["attributes"], d["version"]), ({"k": "v", "k2": "w"}, 2))
        proc = jobsctl("list-things", "--attribute-name", "k2", "--attribute-value", "w")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn(t, [x["thingName"] for x in json.loads(proc.stdout)["things"]])
        proc = jobsctl("list-thing-groups-for-thing", "--thing-name", t)
        self.assertEqual((proc.returncode, json.loads(proc.stdout)), (0, {"thingGroups": []}), proc.stderr)
        proc = jobsctl("delete-thing", "--thing-name", t, "--expected-version", "1")
        self.assertEqual(proc.returncode, 1)
        self.assertRegex(proc.stderr, r"^jobsctl: VersionConflictException: ")
        proc = jobsctl("delete-thing", "--thing-name", t)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        proc = jobsctl("describe-thing", "--thing-name", t)
        self.assertEqual(proc.returncode, 1)
        self.assertRegex(proc.stderr, r"^jobsctl: ResourceNotFoundException: ")


class RegisteredThingsRequired(SharedBrokerTest, ControlAssertions):
    """plugin_opt_require_registered_things on: targets and members must be registered."""

    options = {"require_registered_things": "on"}

    def test_targets_and_members_must_be_registered(self):
        t, g = self.thing, self.name("g")
        self.ok("createThingGroup", thingGroupName=g)
        for target in (t, thing_arn(t)):
            err = self.fails("createJob", "ResourceNotFoundException", jobId=self.name("j"), targets=[target],
                             document={})
            self.assertIn(t, err)
        self.fails("addThingToThingGroup", "ResourceNotFoundException", thingGroupName=g, thingName=t)
        self.fails("listThingGroupsForThing", "ResourceNotFoundException", thingName=t)
        self.assertEqual(self.ok("listThingsInThingGroup", thingGroupName=g)["things"], [])

        self.ok("createThing", thingName=t)
        job = self.create(targets=[thing_arn(t)])
        self.assertEqual(self.describe_exec(job)["status"], "QUEUED")
        self.ok("addThingToThingGroup", thingGroupName=g, thingName=t)
        self.assertEqual(self.ok("listThingGroupsForThing", thingName=t)["thingGroups"],
                         [{"groupName": g, "groupArn": group_arn(g)}])
        # a job for the group reaches its registered member
        gjob = self.create(targets=[group_arn(g)])
        self.assertEqual(self.describe_exec(gjob)["status"], "QUEUED")

        # one target missing fails the whole job
        self.fails("createJob", "ResourceNotFoundException", jobId=self.name("j"),
                   targets=[t, self.name("missing")], document={})
        self.ok("deleteThing", thingName=t)
        self.fails("createJob", "ResourceNotFoundException", jobId=self.name("j"), targets=[t], document={})
        self.fails("listThingGroupsForThing", "ResourceNotFoundException", thingName=t)


if __name__ == "__main__":
    unittest.main()
