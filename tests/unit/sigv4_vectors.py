#!/usr/bin/env python3
"""Generates the SigV4 test vectors baked into tests/unit/test_sigv4.c.

Kept for reference and to regenerate the vectors: botocore (the signer behind the AWS
CLI and boto3) signs each request at a fixed time, and the script prints, as C
initializers, the request as the AWS CLI puts it on the wire (method, raw path, raw
query, headers in the CLI's order, body) together with botocore's canonical request.

    /root/.pyenv/versions/3.11.7/bin/python3 tests/unit/sigv4_vectors.py            # print
    /root/.pyenv/versions/3.11.7/bin/python3 tests/unit/sigv4_vectors.py --write tests/unit/test_sigv4.c

--write replaces the text between the BEGIN/END GENERATED markers of the test file.
Generated with botocore 1.43.11 (AWS CLI 1.45.11).
"""
import datetime
import sys
from urllib.parse import urlsplit

import botocore
import botocore.auth
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

# The signing time of every vector: 2026-11-30T12:00:00Z (epoch 1796040000).
SIGNING_TIME = datetime.datetime(2026, 11, 30, 12, 0, 0, tzinfo=datetime.timezone.utc)
botocore.auth.get_current_datetime = lambda *a, **k: SIGNING_TIME

KEYS = {
    'AKIDEXAMPLE': 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
    'AKIDCONTROL0001': 'c0ntrolPlaneSecret+/0123456789abcdefghijk',
}
ENDPOINT = 'http://127.0.0.1:8443'
USER_AGENT = ('aws-cli/1.45.11 md/Botocore#1.43.11 ua/2.1 os/linux#6.18.44 md/arch#x86_64 '
              'lang/python#3.11.7 md/pyimpl#CPython cfg/retry-mode#legacy botocore/1.43.11')

# name, access key, service, region, method, path+query as botocore puts it in the URL,
# headers present when botocore signs (besides X-Amz-Date and Host, which it adds), body
VECTORS = [
    ('update_job_execution', 'AKIDEXAMPLE', 'iot-jobs-data', 'us-east-1', 'POST',
     '/things/MotionSensor1/jobs/SampleJob', [('Content-Type', 'application/json')],
     b'{"status": "IN_PROGRESS", "expectedVersion": 1}'),
    ('describe_next', 'AKIDEXAMPLE', 'iot-jobs-data', 'us-east-1', 'GET',
     '/things/MotionSensor1/jobs/%24next?includeJobDocument=true&executionNumber=2', [], b''),
    ('thing_with_colon', 'AKIDEXAMPLE', 'iot-jobs-data', 'us-east-1', 'GET',
     '/things/Motion%3ASensor1/jobs/SampleJob', [], b''),
    ('start_next_literal_dollar', 'AKIDEXAMPLE', 'iot-jobs-data', 'us-east-1', 'PUT',
     '/things/MotionSensor1/jobs/$next', [('Content-Type', 'application/json')], b'{}'),
    ('list_jobs', 'AKIDCONTROL0001', 'iot', 'us-east-1', 'GET',
     '/jobs?status=IN_PROGRESS&maxResults=2', [], b''),
    ('create_job', 'AKIDCONTROL0001', 'iot', 'eu-west-1', 'PUT', '/jobs/job1',
     [('Content-Type', 'application/json')],
     b'{"targets": ["arn:aws:iot:eu-west-1:123456789012:thing/MotionSensor1"], '
     b'"document": "{\\"op\\":\\"reboot\\"}"}'),
    # Beyond the CLI's usual requests: an encoded query value and a key without a value,
    # a repeated header and one with inner runs of spaces (both signed), a payload hash
    # header, and a path with dot segments and doubled slashes (botocore normalizes it).
    ('query_encoding_and_headers', 'AKIDEXAMPLE', 'iot-jobs-data', 'us-east-1', 'GET',
     '/things/MotionSensor1/jobs?nextToken=abc%2Fdef%3D%3D&flag=&maxResults=10',
     [('X-Amz-Meta-Note', '  two   spaces\tand a tab  '), ('X-Amz-Dup', 'b'), ('X-Amz-Dup', 'a'),
      ('X-Amz-Content-SHA256', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')],
     b''),
    ('dot_segments', 'AKIDEXAMPLE', 'iot', 'us-east-1', 'GET', '/jobs/./x/..//job1/', [], b''),
    # A Date header instead of X-Amz-Date: botocore rewrites it in RFC 2822 form.
    ('date_header', 'AKIDEXAMPLE', 'iot', 'us-east-1', 'DELETE', '/jobs/job1?force=true',
     [('Date', 'placeholder')], b''),
]


class CapturingSigV4(SigV4Auth):
    def canonical_request(self, request):
        self.captured = super().canonical_request(request)
        return self.captured


def sign(akid, service, region, method, target, headers, body):
    req = AWSRequest(method=method, url=ENDPOINT + target, data=body)
    for name, value in headers:
        req.headers[name] = value  # HTTPHeaders appends: repeated names stay repeated
    auth = CapturingSigV4(Credentials(akid, KEYS[akid]), service, region)
    auth.add_auth(req)
    return req, auth.captured


def c_string(s):
    out = '"'
    for ch in s:
        if ch == '\\':
            out += '\\\\'
        elif ch == '"':
            out += '\\"'
        elif ch == '\n':
            out += '\\n'
        elif ch == '\t':
            out += '\\t'
        elif ch == '?':
            out += '\\?'  # no trigraphs
        elif ' ' <= ch <= '~':
            out += ch
        else:
            raise ValueError(f'non-printable {ch!r}')
    return out + '"'


def c_vector(name, akid, service, region, method, target, headers, body):
    req, canonical = sign(akid, service, region, method, target, headers, body)
    parts = urlsplit(req.url)
    raw_query = parts.query if '?' in target else None
    # The wire headers, in the order the AWS CLI sends them (tests/unit/test_sigv4.c
    # documents a real capture): Host first, the unsigned ones interleaved.
    wire = [('Host', parts.netloc), ('Accept-Encoding', 'identity')]
    for k, v in req.headers.items():
        if k.lower() == 'authorization':
            continue
        if k.lower() in ('x-amz-date', 'date'):
            wire.append(('User-Agent', USER_AGENT))
        wire.append((k, v))
    wire.append(('Authorization', req.headers['Authorization']))
    wire.append(('amz-sdk-invocation-id', '0b1de25d-19a1-49b8-a637-214974caee88'))
    wire.append(('amz-sdk-request', 'attempt=1'))
    if body:
        wire.append(('Content-Length', str(len(body))))
    lines = [f'\t{{ {c_string(name)}, {c_string(service)}, {c_string(region)},',
             f'\t  {c_string(method)}, {c_string(parts.path)}, '
             f'{c_string(raw_query) if raw_query is not None else "NULL"},',
             f'\t  {c_string(body.decode())},',
             f'\t  {len(wire)}, {{']
    for k, v in wire:
        lines.append(f'\t\t{{ {c_string(k)}, {c_string(v)} }},')
    lines.append('\t  },')
    lines.append('\t  ' + '\n\t  '.join(c_string(line + '\n') for line in canonical.split('\n')[:-1])
                 + '\n\t  ' + c_string(canonical.split('\n')[-1]) + ' },')
    return '\n'.join(lines)


def generated():
    out = ['/* Generated by tests/unit/sigv4_vectors.py (botocore %s); do not edit. */' % botocore.__version__,
           'static const struct vector vectors[] = {']
    for v in VECTORS:
        out.append(c_vector(*v))
    out.append('};')
    return '\n'.join(out) + '\n'


def main():
    text = generated()
    if len(sys.argv) == 3 and sys.argv[1] == '--write':
        path = sys.argv[2]
        with open(path) as f:
            src = f.read()
        begin, end = '/* BEGIN GENERATED */\n', '/* END GENERATED */\n'
        a, b = src.index(begin) + len(begin), src.index(end)
        with open(path, 'w') as f:
            f.write(src[:a] + text + src[b:])
    else:
        sys.stdout.write(text)


if __name__ == '__main__':
    main()
