// A device agent built on the AWS IoT Device SDK v2 for JavaScript, unchanged: its
// IotJobsClientv2 lists, starts, describes and finishes the next job of a thing, then
// provokes one rejection, and prints what it saw as one JSON object on stdout.
//
// usage: node jobs_agent.js PORT THING
'use strict';
const { mqtt, io, mqtt_request_response } = require('aws-crt');
const { iotjobs } = require('aws-iot-device-sdk-v2');

const [port, thingName] = [Number(process.argv[2]), process.argv[3]];

function plain(value) {
  return JSON.parse(JSON.stringify(value, (k, v) => (v instanceof Date ? v.getTime() / 1000 : v)));
}

function openStream(stream, events) {
  return new Promise((resolve, reject) => {
    stream.on('subscriptionStatus', (e) => {
      if (e.type === mqtt_request_response.SubscriptionStatusEventType.SubscriptionEstablished) resolve();
      else if (e.type === mqtt_request_response.SubscriptionStatusEventType.SubscriptionHalted) reject(e.error);
    });
    stream.on('incomingPublish', (e) => events.push(plain(e.message)));
    stream.open();
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const client = new mqtt.MqttClient(new io.ClientBootstrap());
  const connection = client.new_connection({
    client_id: thingName, host_name: '127.0.0.1', port, clean_session: true,
    keep_alive: 30, use_websocket: false, socket_options: new io.SocketOptions(),
  });
  await connection.connect();
  const jobs = iotjobs.IotJobsClientv2.newFromMqtt311(connection, {
    maxRequestResponseSubscriptions: 4, maxStreamingSubscriptions: 2, operationTimeoutInSeconds: 10,
  });
  const out = { notify: [], notifyNext: [] };
  await openStream(jobs.createJobExecutionsChangedStream({ thingName }), out.notify);
  await openStream(jobs.createNextJobExecutionChangedStream({ thingName }), out.notifyNext);

  out.pendingBefore = plain(await jobs.getPendingJobExecutions({ thingName }));
  out.started = plain(await jobs.startNextPendingJobExecution({
    thingName, statusDetails: { step: 'download' }, stepTimeoutInMinutes: 5,
  }));
  const jobId = out.started.execution.jobId;
  out.described = plain(await jobs.describeJobExecution({ thingName, jobId, includeJobDocument: true }));
  out.updated = plain(await jobs.updateJobExecution({
    thingName, jobId, status: iotjobs.model.JobStatus.SUCCEEDED,
    expectedVersion: out.started.execution.versionNumber,
    statusDetails: { step: 'done' }, includeJobExecutionState: true,
  }));
  out.pendingAfter = plain(await jobs.getPendingJobExecutions({ thingName }));
  try {
    await jobs.updateJobExecution({ thingName, jobId, status: iotjobs.model.JobStatus.IN_PROGRESS });
    out.rejection = null;
  } catch (err) {
    out.rejection = plain(err.modeledError || { description: String(err) });
  }
  await sleep(300); // let the notifications of the last update arrive
  jobs.close();
  await connection.disconnect();
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().then(() => process.exit(0), (err) => {
  process.stderr.write(`jobs_agent: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
