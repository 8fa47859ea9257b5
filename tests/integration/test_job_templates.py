"""Job templates: custom templates (create, describe, list with paging, delete; from an
existing job), jobs created from them with the command's own fields over the
template's, and the AWS managed templates with their document parameters, which the
device receives substituted. Over $CONTROL/jobs/v1, the AWS CLI (unmodified, against
the HTTP API) and jobsctl."""
import json
import os
import subprocess
import unittest

from test_http_api import ARN, HttpApiTest

JOBSCTL = os.environ.get("JOBS_JOBSCTL")
MANAGED = ["AWS-Download-File", "AWS-Install-Application", "AWS-Reboot", "AWS-Remove-Application",
           "AWS-Restart-Application", "AWS-Start-Application", "AWS-Stop-Application"]
DOWNLOAD_ARN = "arn:aws:iot:us-east-1::jobtemplate/AWS-Download-File:1.0"
# as AWS's Developer Guide prints describe-managed-job-template --template-name AWS-Download-File
DOWNLOAD_DOCUMENT = (
    '{"version":"1.0","steps":[{"action":{"name":"Download-File","type":"runHandler","input":'
    '{"handler":"download-file.sh","args":["${aws:iot:parameter:downloadUrl}","${aws:iot:parameter:filePath}"],'
    '"path":"${aws:iot:parameter:pathToHandler}"},"runAsUser":"${aws:iot:parameter:runAsUser}"}}]}')


class JobTemplates(HttpApiTest):

    def cok(self, command, **fields):
        [resp] = self.operator.control(dict(fields, command=command))
        self.assertNotIn("error", resp, resp)
        return resp["data"]

    def cfails(self, command, exception, **fields):
        [resp] = self.operator.control(dict(fields, command=command))
        self.assertNotIn("data", resp, resp)
        self.assertTrue(resp["error"].startswith(exception + ": "), resp["error"])
        return resp["error"]

    def create_from(self, targets=None, **fields):
        """createJob (for self.thing by default) with these fields only; returns the id."""
        job_id = self.name("j")[:64]
        fields = {k: v for k, v in fields.items() if v is not None}
        self.assertEqual(self.cok("createJob", jobId=job_id, targets=targets or [self.thing], **fields)["jobId"], job_id)
        return job_id

    def describe_job(self, job_id):
        return self.cok("describeJob", jobId=job_id)["job"]

    def template(self, **fields):
        """createJobTemplate (a document and a description unless given); returns the id."""
        tid = fields.pop("jobTemplateId", None) or self.name("tpl")[:64]
        fields.setdefault("description", f"template {tid}")
        if "jobArn" not in fields and "documentSource" not in fields:
            fields.setdefault("document", {"template": tid})
        data = self.cok("createJobTemplate", jobTemplateId=tid, **fields)
        self.assertEqual(data, {"jobTemplateId": tid, "jobTemplateArn": f"{ARN}:jobtemplate/{tid}"})
        return tid

    def device_document(self, job_id):
        """The document the device gets for its execution of the job, over MQTT."""
        return self.mqtt_describe(self.device(self.thing), self.thing, job_id)["jobDocument"]

    # ---- custom templates over $CONTROL/jobs/v1

    def test_create_describe_list_delete(self):
        # ids that sort in creation order: templates created within one second list by id
        base = self.name("tpl")
        tid = self.template(jobTemplateId=f"{base}-a", description="firmware 2.1", document={"op": "install", "v": "2.1"},
                            timeoutConfig={"inProgressTimeoutInMinutes": 30},
                            maintenanceWindows=[{"startTime": "cron(0 2 ? * SUN *)", "durationInMinutes": 60}])
        got = self.cok("describeJobTemplate", jobTemplateId=tid)
        self.assert_recent(got.pop("createdAt"))
        self.assertEqual(got, {
            "jobTemplateArn": f"{ARN}:jobtemplate/{tid}", "jobTemplateId": tid, "description": "firmware 2.1",
            "document": '{"op":"install","v":"2.1"}', "timeoutConfig": {"inProgressTimeoutInMinutes": 30},
            "maintenanceWindows": [{"startTime": "cron(0 2 ? * SUN *)", "durationInMinutes": 60}]})
        self.cfails("createJobTemplate", "ConflictException", jobTemplateId=tid, description="again",
                   document={"x": 1})

        # pages of two, in creation order
        more = [self.template(jobTemplateId=f"{base}-{x}") for x in "bcd"]
        seen, token, pages = [], None, 0
        while True:
            page = self.cok("listJobTemplates", maxResults=2, **({"nextToken": token} if token else {}))
            pages += 1
            self.assertLessEqual(len(page["jobTemplates"]), 2)
            for s in page["jobTemplates"]:
                self.assertEqual(set(s), {"jobTemplateArn", "jobTemplateId", "description", "createdAt"}, s)
                seen.append(s["jobTemplateId"])
            token = page.get("nextToken")
            if not token:
                break
        self.assertGreaterEqual(pages, 2)
        self.assertEqual([t for t in seen if t in [tid] + more], [tid] + more)

        self.assertEqual(self.cok("deleteJobTemplate", jobTemplateId=tid), {})
        self.cfails("describeJobTemplate", "ResourceNotFoundException", jobTemplateId=tid)
        self.cfails("deleteJobTemplate", "ResourceNotFoundException", jobTemplateId=tid)
        self.assertNotIn(tid, [s["jobTemplateId"] for s in self.cok("listJobTemplates", maxResults=250)["jobTemplates"]])

    def test_create_errors(self):
        tid = self.name("bad")
        cases = [
            ({"description": "d"}, "needs document, documentSource or jobArn"),
            ({"document": {"a": 1}}, "description is required"),
            ({"description": "d", "document": {"a": 1}, "documentSource": "https://s3.example.com/b/k"}, "not both"),
            ({"description": "d", "document": [1]}, "document"),
            ({"description": "d", "document": {"a": 1}, "timeoutConfig": {"inProgressTimeoutInMinutes": 0}},
             "inProgressTimeoutInMinutes"),
            ({"description": "d", "document": {"a": 1}, "maintenanceWindows": [{"startTime": "cron(0 2 * * ? *)"}]},
             "durationInMinutes"),
            ({"description": "d", "jobArn": f"{ARN}:job/no-such-job"}, "does not exist"),
        ]
        for fields, why in cases:
            with self.subTest(fields=fields):
                exception = "ResourceNotFoundException" if "jobArn" in fields else "InvalidRequestException"
                self.assertIn(why, self.cfails("createJobTemplate", exception, jobTemplateId=tid, **fields))
        self.assertIn("jobTemplateId", self.cfails("createJobTemplate", "InvalidRequestException",
                                                  jobTemplateId="no spaces", description="d", document={}))
        self.cfails("describeJobTemplate", "ResourceNotFoundException", jobTemplateId=tid)

    def test_job_from_custom_template(self):
        tid = self.template(document={"op": "reboot"}, timeoutConfig={"inProgressTimeoutInMinutes": 30},
                            jobExecutionsRetryConfig={"criteriaList": [{"failureType": "FAILED", "numberOfRetries": 2}]})
        arn = f"{ARN}:jobtemplate/{tid}"
        # the command's timeoutConfig over the template's; the rest from the template
        job = self.create_from(jobTemplateArn=arn, document=None, timeoutConfig={"inProgressTimeoutInMinutes": 90})
        got = self.describe_job(job)
        self.assertEqual(got["timeoutConfig"], {"inProgressTimeoutInMinutes": 90})
        self.assertEqual(got["jobExecutionsRetryConfig"],
                         {"criteriaList": [{"failureType": "FAILED", "numberOfRetries": 2}]})
        self.assertEqual(got["jobTemplateArn"], arn)
        self.assertEqual(got["description"], f"template {tid}")
        self.assertEqual(self.device_document(job), {"op": "reboot"})
        # the command's own document wins too
        own = self.create_from(jobTemplateArn=arn, document={"op": "own"})
        self.assertEqual(self.cok("getJobDocument", jobId=own)["document"], '{"op":"own"}')

        self.assertIn("managed", self.cfails("createJob", "InvalidRequestException", jobId=self.name("j"),
                                            targets=[self.thing], jobTemplateArn=arn, documentParameters={"a": "b"}))
        self.cfails("createJob", "ResourceNotFoundException", jobId=self.name("j"), targets=[self.thing],
                   jobTemplateArn=f"{ARN}:jobtemplate/no-such-template")
        self.cfails("createJob", "InvalidRequestException", jobId=self.name("j"), targets=[self.thing],
                   jobTemplateArn=f"{ARN}:job/{job}")
        self.assertIn("managed templates", self.cfails("createJob", "InvalidRequestException", jobId=self.name("j"),
                                                      targets=[self.thing], document={"a": 1},
                                                      documentParameters={"a": "b"}))

    def test_template_from_job(self):
        abort = {"criteriaList": [{"failureType": "FAILED", "action": "CANCEL", "thresholdPercentage": 50,
                                   "minNumberOfExecutedThings": 2}]}
        job = self.create_from(document={"op": "copy me"}, abortConfig=abort)
        tid = self.template(jobArn=f"{ARN}:job/{job}")
        got = self.cok("describeJobTemplate", jobTemplateId=tid)
        self.assertEqual(got["document"], '{"op":"copy me"}')
        self.assertEqual(got["abortConfig"], abort)
        again = self.create_from(jobTemplateArn=f"{ARN}:jobtemplate/{tid}", document=None, targets=[self.name("t2")])
        self.assertEqual(self.describe_job(again)["abortConfig"], abort)

    # ---- managed templates

    def test_managed_templates(self):
        listed = self.cok("listManagedJobTemplates")["managedJobTemplates"]
        self.assertEqual([t["templateName"] for t in listed], MANAGED)
        for t in listed:
            self.assertEqual(t, {"templateArn": f"arn:aws:iot:us-east-1::jobtemplate/{t['templateName']}:1.0",
                                 "templateName": t["templateName"], "description": t["description"],
                                 "environments": ["LINUX"], "templateVersion": "1.0"})
        page = self.cok("listManagedJobTemplates", maxResults=5)
        self.assertEqual(len(page["managedJobTemplates"]), 5)
        rest = self.cok("listManagedJobTemplates", nextToken=page["nextToken"])
        self.assertEqual([t["templateName"] for t in rest["managedJobTemplates"]], MANAGED[5:])
        self.assertNotIn("nextToken", rest)
        one = self.cok("listManagedJobTemplates", templateName="AWS-Reboot")["managedJobTemplates"]
        self.assertEqual([t["templateName"] for t in one], ["AWS-Reboot"])
        self.cfails("listManagedJobTemplates", "ResourceNotFoundException", templateName="AWS-Nothing")

        got = self.cok("describeManagedJobTemplate", templateName="AWS-Download-File")
        self.assertEqual(got["document"], DOWNLOAD_DOCUMENT)
        self.assertEqual(got["description"], "A managed job template for downloading a file.")
        self.assertEqual([(p["key"], p["regex"], p["optional"]) for p in got["documentParameters"]],
                         [("downloadUrl", "(.*?)", False), ("filePath", "(.*?)", False),
                          ("runAsUser", "(.){0,256}", True), ("pathToHandler", "(.){0,4096}", True)])
        self.assertEqual(self.cok("describeManagedJobTemplate", templateName="AWS-Reboot", templateVersion="1.0")
                         ["templateArn"], "arn:aws:iot:us-east-1::jobtemplate/AWS-Reboot:1.0")
        self.cfails("describeManagedJobTemplate", "ResourceNotFoundException", templateName="AWS-Reboot",
                   templateVersion="9.9")
        self.cfails("describeManagedJobTemplate", "InvalidRequestException", templateName="AWS-Reboot",
                   templateVersion="v1")
        self.cfails("describeManagedJobTemplate", "ResourceNotFoundException", templateName="AWS-Nothing")

    def test_job_from_managed_template(self):
        params = {"downloadUrl": "https://example.com/a \"b\".bin", "filePath": "/tmp/f", "runAsUser": "pi"}
        job = self.create_from(jobTemplateArn=DOWNLOAD_ARN, document=None, documentParameters=params)
        self.assertEqual(self.device_document(job), {"version": "1.0", "steps": [{"action": {
            "name": "Download-File", "type": "runHandler",
            "input": {"handler": "download-file.sh", "args": ["https://example.com/a \"b\".bin", "/tmp/f"],
                      "path": ""},
            "runAsUser": "pi"}}]})
        got = self.describe_job(job)
        self.assertEqual(got["jobTemplateArn"], DOWNLOAD_ARN)
        self.assertEqual(got["documentParameters"], params)
        self.assertEqual(got["description"], "A managed job template for downloading a file.")
        # a template without required parameters; the default version
        reboot = self.create_from(jobTemplateArn="arn:aws:iot:us-east-1::jobtemplate/AWS-Reboot", document=None,
                             targets=[self.name("t2")])
        self.assertEqual(json.loads(self.cok("getJobDocument", jobId=reboot)["document"])["steps"][0]["action"]["input"],
                         {"handler": "reboot.sh", "path": ""})

    def test_document_parameter_errors(self):
        good = {"downloadUrl": "https://example.com/f", "filePath": "/tmp/f"}
        cases = [
            ({"downloadUrl": "https://example.com/f"}, "filePath is required"),
            (dict(good, runAsUser="u" * 257), "regex"),
            (dict(good, colour="blue"), "not a parameter"),
            (dict(good, filePath=""), "1-30720"),
            (dict(good, filePath="a\nb"), "control"),
            (dict(good, filePath=7), "string"),
        ]
        for params, why in cases:
            with self.subTest(params=params):
                self.assertIn(why, self.cfails("createJob", "InvalidRequestException", jobId=self.name("j"),
                                              targets=[self.thing], jobTemplateArn=DOWNLOAD_ARN,
                                              documentParameters=params))
        self.assertIn("not document", self.cfails("createJob", "InvalidRequestException", jobId=self.name("j"),
                                                 targets=[self.thing], jobTemplateArn=DOWNLOAD_ARN,
                                                 documentParameters=good, document={"a": 1}))
        for arn in ("arn:aws:iot:us-east-1::jobtemplate/AWS-Nothing:1.0",
                    "arn:aws:iot:us-east-1::jobtemplate/AWS-Download-File:7.0"):
            self.cfails("createJob", "ResourceNotFoundException", jobId=self.name("j"), targets=[self.thing],
                       jobTemplateArn=arn, documentParameters=good)
        self.cfails("createJob", "InvalidRequestException", jobId=self.name("j"), targets=[self.thing],
                   jobTemplateArn="not-an-arn")

    # ---- the AWS CLI, unmodified, against the HTTP API

    def test_aws_cli(self):
        tid, job, thing = self.name("cli"), self.name("clij"), self.name("clit")
        created = self.ok(self.aws("iot", "create-job-template", "--job-template-id", tid,
                                   "--description", "from the CLI", "--document", '{"op":"cli"}',
                                   "--timeout-config", "inProgressTimeoutInMinutes=15"))
        self.assertEqual(created, {"jobTemplateArn": f"{ARN}:jobtemplate/{tid}", "jobTemplateId": tid})
        described, listed, managed, reboot, made, again = self.aws_many(
            ["iot", "describe-job-template", "--job-template-id", tid],
            ["iot", "list-job-templates", "--max-results", "1"],
            ["iot", "list-managed-job-templates"],
            ["iot", "describe-managed-job-template", "--template-name", "AWS-Reboot"],
            ["iot", "create-job", "--job-id", job, "--targets", f"{ARN}:thing/{thing}",
             "--job-template-arn", DOWNLOAD_ARN,
             "--document-parameters", "downloadUrl=https://example.com/index.html,filePath=/tmp/index.html"],
            ["iot", "create-job-template", "--job-template-id", tid, "--description", "again",
             "--document", "{}"])
        got = self.ok(described)
        self.assertEpochSeconds(int(got.pop("createdAt")), "createdAt")
        self.assertEqual(got, {"jobTemplateArn": f"{ARN}:jobtemplate/{tid}", "jobTemplateId": tid,
                               "description": "from the CLI", "document": '{"op":"cli"}',
                               "timeoutConfig": {"inProgressTimeoutInMinutes": 15}})
        self.assertGreaterEqual(len(self.ok(listed)["jobTemplates"]), 1)   # the CLI pages through all
        self.assertIn(tid, [t["jobTemplateId"] for t in self.ok(listed)["jobTemplates"]])
        self.assertEqual([t["templateName"] for t in self.ok(managed)["managedJobTemplates"]], MANAGED)
        self.assertEqual([p["key"] for p in self.ok(reboot)["documentParameters"]], ["runAsUser", "pathToHandler"])
        self.assertEqual(self.ok(made), {"jobArn": f"{ARN}:job/{job}", "jobId": job,
                                         "description": "A managed job template for downloading a file."})
        self.assertAwsError(again, "ConflictException")

        desc, doc, deleted, missing = self.aws_many(
            ["iot", "describe-job", "--job-id", job],
            ["iot", "get-job-document", "--job-id", job],
            ["iot", "delete-job-template", "--job-template-id", tid],
            ["iot", "delete-job-template", "--job-template-id", self.name("none")])
        job_desc = self.ok(desc)["job"]
        self.assertEqual(job_desc["jobTemplateArn"], DOWNLOAD_ARN)
        self.assertEqual(job_desc["documentParameters"],
                         {"downloadUrl": "https://example.com/index.html", "filePath": "/tmp/index.html"})
        self.assertEqual(json.loads(self.ok(doc)["document"])["steps"][0]["action"]["input"]["args"],
                         ["https://example.com/index.html", "/tmp/index.html"])
        self.assertEqual(deleted.rc, 0, deleted)
        self.assertAwsError(missing, "ResourceNotFoundException")
        bad = self.aws("iot", "create-job", "--job-id", self.name("clib"), "--targets", thing,
                       "--job-template-arn", DOWNLOAD_ARN, "--document-parameters", "downloadUrl=https://e.com/x")
        self.assertAwsError(bad, "InvalidRequestException")

    # ---- jobsctl

    @unittest.skipUnless(JOBSCTL, "JOBS_JOBSCTL is not set")
    def test_jobsctl(self):
        tid, job = self.name("ctl"), self.name("ctlj")

        def jobsctl(*args):
            env = dict(os.environ, JOBSCTL_CONFIG="")
            proc = subprocess.run([JOBSCTL, "-h", "127.0.0.1", "-p", str(self.broker.port), "--timeout", "20", *args],
                                  capture_output=True, text=True, timeout=30, env=env, stdin=subprocess.DEVNULL)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            return json.loads(proc.stdout) if proc.stdout else {}

        jobsctl("create-job-template", "--job-template-id", tid, "--description", "ctl",
                "--document", '{"op":"ctl"}')
        self.assertEqual(jobsctl("describe-job-template", "--job-template-id", tid)["document"], '{"op":"ctl"}')
        self.assertIn(tid, [t["jobTemplateId"] for t in jobsctl("list-job-templates")["jobTemplates"]])
        self.assertEqual([t["templateName"] for t in
                          jobsctl("list-managed-job-templates", "--template-name", "AWS-Stop-Application")
                          ["managedJobTemplates"]], ["AWS-Stop-Application"])
        self.assertEqual(jobsctl("describe-managed-job-template", "--template-name", "AWS-Install-Application")
                         ["documentParameters"][0]["key"], "packages")
        jobsctl("create-job", "--job-id", job, "--targets", self.thing, "--job-template-arn",
                "arn:aws:iot:us-east-1::jobtemplate/AWS-Install-Application:1.0", "--document-parameters",
                "packages=lftp dos2unix")
        self.assertEqual(self.device_document(job)["steps"][0]["action"]["input"]["args"], ["lftp dos2unix"])
        jobsctl("delete-job-template", "--job-template-id", tid)
        self.cfails("describeJobTemplate", "ResourceNotFoundException", jobTemplateId=tid)


if __name__ == "__main__":
    unittest.main()
