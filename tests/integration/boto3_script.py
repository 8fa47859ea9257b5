"""boto3 against the plugin's AWS-compatible HTTP API, unchanged but for endpoint_url.

Run by test_http_api.py with a Python that has boto3 (not the one running the tests):

    python3 boto3_script.py '{"endpoint": "http://127.0.0.1:PORT", "key": "...",
                              "secret": "...", "prefix": "b3"}'

Prints one JSON object: for every step its name and either {"ok": <response>} or
{"raised": ...}. Responses are kept as botocore parsed them (minus ResponseMetadata):
an int stays an int and a float a float in the JSON, and a parsed timestamp becomes
{"datetime": "<ISO 8601>"}, so the test can check the types botocore handed out.
Steps that expect an error name the modeled exception class and record whether botocore
raised that class (client.exceptions.X), with the HTTP status and the error code.
"""
import datetime
import json
import sys

import boto3
import botocore.exceptions
from botocore.config import Config

ARGS = json.loads(sys.argv[1])
P = ARGS["prefix"]
ACCOUNT_ARN = "arn:aws:iot:us-east-1:000000000000"
CONFIG = Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=15)
OUT = {}
# integers with trailing zeros: they must come back as written
DOCUMENT = '{"operation":"install","size":1000,"parts":[1,20,300]}'


def client(service, key=None, secret=None):
    return boto3.client(service, endpoint_url=ARGS["endpoint"], region_name="us-east-1",
                        aws_access_key_id=key or ARGS["key"],
                        aws_secret_access_key=secret or ARGS["secret"],
                        verify=ARGS.get("verify", True), config=CONFIG)


def error_record(e):
    resp = e.response
    return {"class": type(e).__name__, "code": resp.get("Error", {}).get("Code"),
            "message": resp.get("Error", {}).get("Message"),
            "status": resp.get("ResponseMetadata", {}).get("HTTPStatusCode")}


def step(name, fn, **kw):
    """A call that should succeed."""
    try:
        resp = fn(**kw)
        resp.pop("ResponseMetadata", None)
        OUT[name] = {"ok": resp}
        return resp
    except botocore.exceptions.ClientError as e:
        OUT[name] = {"unexpected": error_record(e)}
    except Exception as e:  # noqa: BLE001 - reported to the test
        OUT[name] = {"crash": repr(e)}
    return None


def expect(name, cl, exception, fn, **kw):
    """A call that should raise the modeled exception cl.exceptions.<exception>."""
    modeled = getattr(cl.exceptions, exception)
    try:
        resp = fn(**kw)
        resp.pop("ResponseMetadata", None)
        OUT[name] = {"raised": None, "ok": resp}
    except modeled as e:
        OUT[name] = {"raised": exception, **error_record(e)}
    except botocore.exceptions.ClientError as e:
        OUT[name] = {"raised": "other", **error_record(e)}
    except Exception as e:  # noqa: BLE001
        OUT[name] = {"crash": repr(e)}


def thing_arn(name):
    return f"{ACCOUNT_ARN}:thing/{name}"


def main():
    data = client("iot-jobs-data")
    iot = client("iot")
    t1, t2, t3 = f"{P}-dev1", f"{P}-dev:2", f"{P}-dev3"
    group, j1, j2, jts = f"{P}-grp", f"{P}-j1", f"{P}-j2", f"{P}-ts"
    group_arn = f"{ACCOUNT_ARN}:thinggroup/{group}"

    # ---- thing groups and jobs (control plane)
    step("create_thing_group", iot.create_thing_group, thingGroupName=group,
         thingGroupProperties={"thingGroupDescription": "boto3 group"})
    step("add_thing_to_thing_group", iot.add_thing_to_thing_group, thingGroupName=group, thingName=t2)
    step("create_job", iot.create_job, jobId=j1, targets=[thing_arn(t1), group_arn],
         document=DOCUMENT,
         description="boto3 job", jobExecutionsRolloutConfig={"maximumPerMinute": 50},
         timeoutConfig={"inProgressTimeoutInMinutes": 60})
    step("create_job_2", iot.create_job, jobId=j2, targets=[thing_arn(t1)], document='{"operation":"second"}')
    step("describe_job", iot.describe_job, jobId=j1)
    step("get_job_document", iot.get_job_document, jobId=j1)
    step("list_jobs", iot.list_jobs, status="IN_PROGRESS", maxResults=250)
    try:  # nextToken round trips, as the paginator does them
        pages = iot.get_paginator("list_job_executions_for_job").paginate(
            jobId=j1, PaginationConfig={"PageSize": 1})
        OUT["paginate_executions_for_job"] = {"ok": [
            [s["thingArn"] for s in page["executionSummaries"]] for page in pages]}
    except Exception as e:  # noqa: BLE001
        OUT["paginate_executions_for_job"] = {"crash": repr(e)}

    # ---- the device plane
    step("get_pending", data.get_pending_job_executions, thingName=t1)
    step("start_next", data.start_next_pending_job_execution, thingName=t1,
         statusDetails={"step": "start"}, stepTimeoutInMinutes=10)
    step("describe_next", data.describe_job_execution, thingName=t1, jobId="$next")
    step("describe_with_document", data.describe_job_execution, thingName=t1, jobId=j1,
         includeJobDocument=True, executionNumber=1)
    step("describe_without_document", data.describe_job_execution, thingName=t1, jobId=j1,
         includeJobDocument=False)
    step("update_in_progress", data.update_job_execution, thingName=t1, jobId=j1, status="IN_PROGRESS",
         expectedVersion=2, statusDetails={"step": "download", "progress": "50"},
         includeJobExecutionState=True, includeJobDocument=True)
    expect("update_wrong_version", data, "InvalidStateTransitionException", data.update_job_execution,
           thingName=t1, jobId=j1, status="IN_PROGRESS", expectedVersion=1)
    # version 3 -> 10: the last reply carries versionNumber 10
    for v in range(3, 10):
        step("update_to_version_10", data.update_job_execution, thingName=t1, jobId=j1,
             status="IN_PROGRESS", expectedVersion=v, includeJobExecutionState=True)
    step("describe_version_10", data.describe_job_execution, thingName=t1, jobId=j1)
    step("update_succeeded", data.update_job_execution, thingName=t1, jobId=j1, status="SUCCEEDED",
         expectedVersion=10, statusDetails={"step": "done"}, includeJobExecutionState=True)
    expect("update_terminal", data, "InvalidStateTransitionException", data.update_job_execution,
           thingName=t1, jobId=j1, status="IN_PROGRESS")
    expect("describe_unknown_job", data, "ResourceNotFoundException", data.describe_job_execution,
           thingName=t1, jobId=f"{P}-none")
    expect("update_bad_status", data, "InvalidRequestException", data.update_job_execution,
           thingName=t1, jobId=j2, status="BOGUS")
    expect("bad_thing_name", data, "InvalidRequestException", data.get_pending_job_executions,
           thingName="bad.thing")
    step("get_pending_after", data.get_pending_job_executions, thingName=t1)
    step("get_pending_colon", data.get_pending_job_executions, thingName=t2)
    step("describe_next_colon", data.describe_job_execution, thingName=t2, jobId="$next")

    # ---- executions (control plane)
    step("list_executions_for_job", iot.list_job_executions_for_job, jobId=j1)
    step("list_executions_for_thing", iot.list_job_executions_for_thing, thingName=t1)
    step("describe_execution_control", iot.describe_job_execution, jobId=j1, thingName=t1)
    expect("cancel_execution_wrong_version", iot, "VersionConflictException", iot.cancel_job_execution,
           jobId=j1, thingName=t2, expectedVersion=7)
    step("cancel_execution", iot.cancel_job_execution, jobId=j1, thingName=t2,
         statusDetails={"reason": "boto3"})
    step("describe_canceled_execution", iot.describe_job_execution, jobId=j1, thingName=t2)
    expect("cancel_execution_again", iot, "InvalidStateTransitionException", iot.cancel_job_execution,
           jobId=j1, thingName=t2)
    step("delete_execution", iot.delete_job_execution, jobId=j1, thingName=t2, executionNumber=1)
    expect("describe_deleted_execution", iot, "ResourceNotFoundException", iot.describe_job_execution,
           jobId=j1, thingName=t2)

    # ---- control-plane errors, cancel and delete
    expect("describe_unknown", iot, "ResourceNotFoundException", iot.describe_job, jobId=f"{P}-none")
    expect("create_duplicate", iot, "ResourceAlreadyExistsException", iot.create_job, jobId=j1,
           targets=[thing_arn(t1)], document="{}")
    expect("create_bad_document", iot, "InvalidRequestException", iot.create_job, jobId=f"{P}-bad",
           targets=[thing_arn(t1)], document="[1]")
    expect("delete_in_progress_job", iot, "InvalidStateTransitionException", iot.delete_job, jobId=j2)
    expect("delete_pending_execution", iot, "InvalidStateTransitionException", iot.delete_job_execution,
           jobId=j2, thingName=t1, executionNumber=1)
    expect("create_thing_group_conflict", iot, "ResourceAlreadyExistsException", iot.create_thing_group,
           thingGroupName=group, thingGroupProperties={"thingGroupDescription": "another"})
    step("cancel_job", iot.cancel_job, jobId=j2, force=True, comment="withdrawn", reasonCode="BAD_BUILD")
    step("describe_canceled_job", iot.describe_job, jobId=j2)
    step("delete_canceled_job", iot.delete_job, jobId=j2)
    step("delete_job_force", iot.delete_job, jobId=j1, force=True)
    expect("describe_deleted_job", iot, "ResourceNotFoundException", iot.describe_job, jobId=j1)
    step("list_things_in_group", iot.list_things_in_thing_group, thingGroupName=group)
    step("list_thing_groups", iot.list_thing_groups, namePrefixFilter=P)
    step("remove_thing", iot.remove_thing_from_thing_group, thingGroupName=group, thingName=t2)
    step("list_things_in_group_after", iot.list_things_in_thing_group, thingGroupName=group)
    step("delete_thing_group", iot.delete_thing_group, thingGroupName=group)
    step("list_thing_groups_after", iot.list_thing_groups, namePrefixFilter=P)

    # ---- things, templates, UpdateJob, AssociateTargetsWithJob, windows, event configurations
    thing, continuous, from_template = f"{P}-pump", f"{P}-cont", f"{P}-tpl-job"
    template, managed = f"{P}-tpl", "arn:aws:iot:us-east-1::jobtemplate/AWS-Download-File:1.0"
    step("create_thing", iot.create_thing, thingName=thing, thingTypeName="pump",
         attributePayload={"attributes": {"site": "plant-7", "model": "p100"}})
    step("update_thing", iot.update_thing, thingName=thing, expectedVersion=1,
         attributePayload={"attributes": {"fw": "1.2"}, "merge": True})
    expect("update_thing_stale", iot, "VersionConflictException", iot.update_thing, thingName=thing,
           expectedVersion=1, attributePayload={"attributes": {"fw": "1.3"}, "merge": True})
    step("describe_thing", iot.describe_thing, thingName=thing)
    step("list_things", iot.list_things, attributeName="site", attributeValue="plant-7", thingTypeName="pump")
    step("list_thing_groups_for_thing", iot.list_thing_groups_for_thing, thingName=thing)
    step("create_job_template", iot.create_job_template, jobTemplateId=template, description="boto3 template",
         document='{"operation":"reboot"}', timeoutConfig={"inProgressTimeoutInMinutes": 30})
    step("describe_job_template", iot.describe_job_template, jobTemplateId=template)
    step("list_job_templates", iot.list_job_templates, maxResults=250)
    step("list_managed_job_templates", iot.list_managed_job_templates, templateName="AWS-Download-File")
    step("describe_managed_job_template", iot.describe_managed_job_template, templateName="AWS-Download-File",
         templateVersion="1.0")
    step("create_job_from_managed", iot.create_job, jobId=from_template, targets=[thing_arn(thing)],
         jobTemplateArn=managed, documentParameters={"downloadUrl": "https://example.com/f", "filePath": "/tmp/f"})
    step("get_managed_job_document", iot.get_job_document, jobId=from_template)
    expect("create_job_missing_parameter", iot, "InvalidRequestException", iot.create_job, jobId=f"{P}-bad",
           targets=[thing_arn(thing)], jobTemplateArn=managed, documentParameters={"filePath": "/tmp/f"})
    # an older botocore (Debian 12's 1.29) knows no maintenance windows: it would refuse
    # the call itself, so the job goes without, and the test is told
    windows = {}
    if "maintenanceWindows" in iot.meta.service_model.shape_for("SchedulingConfig").members:
        windows = {"schedulingConfig": {"maintenanceWindows": [{"startTime": "cron(0 2 ? * MON-FRI *)",
                                                                "durationInMinutes": 120}]}}
    else:
        OUT["botocore_without_windows"] = botocore.__version__
    step("create_continuous", iot.create_job, jobId=continuous, targets=[thing_arn(thing)],
         document='{"operation":"config"}', targetSelection="CONTINUOUS", **windows)
    step("update_job", iot.update_job, jobId=continuous, description="faster",
         jobExecutionsRolloutConfig={"maximumPerMinute": 100})
    step("associate_targets", iot.associate_targets_with_job, jobId=continuous, targets=[thing_arn(t3)],
         comment="one more")
    step("describe_continuous", iot.describe_job, jobId=continuous)
    expect("associate_snapshot", iot, "InvalidRequestException", iot.associate_targets_with_job,
           jobId=from_template, targets=[thing_arn(t3)])
    step("update_event_configurations", iot.update_event_configurations,
         eventConfigurations={"JOB": {"Enabled": True}, "JOB_EXECUTION": {"Enabled": False}})
    step("describe_event_configurations", iot.describe_event_configurations)
    step("delete_job_template", iot.delete_job_template, jobTemplateId=template)
    expect("describe_deleted_template", iot, "ResourceNotFoundException", iot.describe_job_template,
           jobTemplateId=template)
    step("delete_thing", iot.delete_thing, thingName=thing)

    # ---- authentication
    for name, cl in (("wrong_secret_iot", client("iot", secret=ARGS["secret"] + "x")),
                     ("wrong_secret_data", client("iot-jobs-data", secret=ARGS["secret"] + "x")),
                     ("unknown_key", client("iot", key="AKIDUNKNOWN000000000"))):
        try:
            (cl.list_jobs() if name != "wrong_secret_data" else cl.get_pending_job_executions(thingName=t1))
            OUT[name] = {"raised": None}
        except botocore.exceptions.ClientError as e:
            OUT[name] = {"raised": "ClientError", **error_record(e)}


def to_json(o):
    if isinstance(o, datetime.datetime):
        return {"datetime": o.isoformat()}
    return repr(o)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # noqa: BLE001
        OUT["script_crash"] = repr(e)
    print(json.dumps(OUT, default=to_json))
