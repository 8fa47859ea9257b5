#!/bin/sh
# An operator's rollout with the unmodified AWS CLI against mosquitto-jobs' HTTP API
# (docs/http-api.md), watching AWS's jobs events over MQTT:
#   - registers three pumps as things, with attributes, and finds them by attribute;
#   - puts two of them in a group;
#   - creates a continuous job for the group from the AWS managed template
#     AWS-Download-File, its parameters filled in, rolled out only in a nightly
#     maintenance window (02:00-03:00 UTC);
#   - raises the job's rollout rate, adds the third pump as a target;
#   - watches $aws/events/# as the pumps finish (in the window).
#
# Settings, from the environment:
#   JOBS_ENDPOINT  the plugin's HTTP listener (plugin_opt_http_listen), e.g. http://127.0.0.1:8080
#   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: a key of plugin_opt_http_keys_file
#   MQTT_HOST, MQTT_PORT (127.0.0.1, 1883), MQTT_USER, MQTT_PASSWORD: an operator of the
#     management API, who may read the events (docs/security.md)
#   WATCH_COUNT    stop watching after this many events (default: watch until stopped)
#   WATCH_SECONDS  or after this many seconds (default: no limit)
set -eu

endpoint=${JOBS_ENDPOINT:?set JOBS_ENDPOINT to the HTTP listener of the plugin, e.g. http://127.0.0.1:8080}
iot() { aws --endpoint-url "$endpoint" --output json iot "$@"; }

# Watch the events from the start (line-buffered, with the client's debug lines: its
# SUBACK says the subscription holds).
events=$(mktemp)
trap 'rm -f "$events"; [ -z "${watcher:-}" ] || kill "$watcher" 2>/dev/null || true' EXIT
stdbuf -oL mosquitto_sub -h "${MQTT_HOST:-127.0.0.1}" -p "${MQTT_PORT:-1883}" ${MQTT_USER:+-u "$MQTT_USER"} \
    ${MQTT_PASSWORD:+-P "$MQTT_PASSWORD"} -q 1 -t '$aws/events/#' -v -d \
    ${WATCH_COUNT:+-C "$WATCH_COUNT"} ${WATCH_SECONDS:+-W "$WATCH_SECONDS"} >"$events" &
watcher=$!
until grep -q SUBACK "$events"; do
    kill -0 "$watcher" 2>/dev/null || { cat "$events" >&2; echo "mosquitto_sub ended" >&2; exit 1; }
    sleep 0.1
done

echo "== jobs events on"
iot update-event-configurations --event-configurations \
    '{"JOB":{"Enabled":true},"JOB_EXECUTION":{"Enabled":true}}'
iot describe-event-configurations --query 'eventConfigurations.[JOB,JOB_EXECUTION]'

echo "== things"
for pump in pump-1 pump-2 pump-3; do
    iot create-thing --thing-name "$pump" \
        --attribute-payload '{"attributes":{"site":"plant-7","model":"p100"}}' --query thingArn
done
iot list-things --attribute-name model --attribute-value p100 --query 'things[].thingName'
group=$(iot create-thing-group --thing-group-name line-a --query thingGroupArn --output text)
iot add-thing-to-thing-group --thing-group-name line-a --thing-name pump-1
iot add-thing-to-thing-group --thing-group-name line-a --thing-name pump-2
iot list-thing-groups-for-thing --thing-name pump-1 --query 'thingGroups[].groupName'

echo "== a job from a managed template, in a maintenance window"
template=$(iot describe-managed-job-template --template-name AWS-Download-File --query templateArn --output text)
iot create-job --job-id pump-config-7 --job-template-arn "$template" \
    --document-parameters downloadUrl=https://files.example.com/pump.conf,filePath=/etc/pump/pump.conf \
    --targets "$group" --target-selection CONTINUOUS \
    --scheduling-config '{"maintenanceWindows":[{"startTime":"cron(0 2 * * ? *)","durationInMinutes":60}]}' \
    --query jobId

echo "== a faster rollout, and one more pump"
iot update-job --job-id pump-config-7 --job-executions-rollout-config maximumPerMinute=100
pump3=$(iot describe-thing --thing-name pump-3 --query thingArn --output text)
iot associate-targets-with-job --job-id pump-config-7 --targets "$pump3" --comment "pump-3 joins" --query jobId
iot describe-job --job-id pump-config-7 \
    --query 'job.{status:status,targets:targets,rollout:jobExecutionsRolloutConfig,windows:schedulingConfig.maintenanceWindows}'

echo "== watching \$aws/events/#"
wait "$watcher" || true
watcher=
grep '^\$aws/events/' "$events"
