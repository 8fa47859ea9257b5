// A device agent built on the AWS IoT Device SDK v1 for JavaScript (aws-iot-device-sdk),
// unchanged: its jobs client asks for the next job ($next/get), runs each job it is
// handed (from $next/get/accepted or notify-next) by reporting IN_PROGRESS then
// SUCCEEDED, and prints every job it was handed as one JSON line on stdout. It stops
// after COUNT jobs. The SDK speaks MQTT over TLS with a client certificate only.
//
// usage: node jobs_agent_v1.js PORT THING CERT_DIR COUNT
//   CERT_DIR holds ca.crt, THING.crt and THING.key
'use strict';
const path = require('path');
const awsIot = require('aws-iot-device-sdk');

const [port, thingName, certDir, count] =
  [Number(process.argv[2]), process.argv[3], process.argv[4], Number(process.argv[5])];

const jobs = awsIot.jobs({
  host: 'localhost', port, protocol: 'mqtts', clientId: thingName,
  caPath: path.join(certDir, 'ca.crt'),
  certPath: path.join(certDir, `${thingName}.crt`),
  keyPath: path.join(certDir, `${thingName}.key`),
  keepalive: 30,
});

let done = 0;
function handler(operation) {
  return (err, job) => {
    if (err) {
      console.error('job error', err);
      process.exit(1);
    }
    console.log(JSON.stringify({ handler: operation, id: job.id, document: job.document,
                                 operation: job.operation, status: job.status }));
    job.inProgress({ step: 'running' }, (e1) => {
      if (e1) { console.error('inProgress', e1); process.exit(1); }
      job.succeeded({ step: 'done', handler: operation }, (e2) => {
        if (e2) { console.error('succeeded', e2); process.exit(1); }
        if (++done === count) jobs.end(false, () => process.exit(0));
      });
    });
  };
}

jobs.on('error', (err) => { console.error('connection error', err.message); process.exit(1); });
jobs.on('connect', () => {
  jobs.subscribeToJobs(thingName, 'reboot', handler('reboot'));
  jobs.subscribeToJobs(thingName, handler('default'));
  jobs.startJobNotifications(thingName, (err) => {
    if (err) { console.error('startJobNotifications', err); process.exit(1); }
  });
});
