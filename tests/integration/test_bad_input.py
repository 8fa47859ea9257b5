"""Bad input through the real broker: every class of malformed, mistyped, out-of-range,
oversize or misdirected request, on the device API and on the management API.

Each one must be answered (the right rejected code on the device API, an
InvalidRequestException or other clear error on the management API) with the offending
client left connected (no on_disconnect, MQTT 5 PUBACK reason code below 0x80), the
broker still answering another client right after, and no stored record changed.
Floods and plugin_opt_rate_limit are at the end.

test_device_api.py and test_management.py already cover the everyday validation of each
field; this file is the hostile side: encodings, nesting, sizes, boundaries, floods.
"""
import json
import queue
import socket
import time
import unittest

import paho.mqtt.client as mqtt

import harness
from harness import P, SharedBrokerTest

V5 = mqtt.MQTTv5
CONTROL = "$CONTROL/jobs/v1"
RESPONSE = CONTROL + "/response"
NS = "aws-gg-deployment"
KIB = 1024
MIB = 1024 * 1024


def compact(value, ascii_only=True):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=ascii_only).encode()


def nested_arrays(depth):
    return "[" * depth + "]" * depth


def padded(name, length):
    """`name` lengthened with x's to exactly `length` characters."""
    assert len(name) <= length
    return name + "x" * (length - len(name))


_Paho = harness.PahoWithReasonCodes


class Client(harness.Client):
    """harness.Client over _Paho, MQTT 5 by default: self.c.puback_codes maps each QoS 1
    publish's mid to the reason code of its PUBACK."""

    def __init__(self, port, client_id, protocol=V5):
        self.id = client_id
        self.messages = queue.Queue()
        self.protocol = protocol
        self.disconnects = []
        self._subacks = set()
        self._sync_topic = None
        self._sync_count = 0
        self.qos1_sent = 0
        self.c = _Paho(client_id=client_id, protocol=protocol)
        self.c.on_message = lambda c, u, m: self.messages.put(m)
        self.c.on_disconnect = lambda c, u, rc, *a: self.disconnects.append(rc)
        self.c.on_subscribe = lambda c, u, mid, *a: self._subacks.add(mid)
        self.c.connect("127.0.0.1", port, keepalive=30)
        self.c.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.c.loop_start()
        deadline = time.time() + harness.WAIT
        while not self.c.is_connected() and time.time() < deadline:
            time.sleep(0.005)
        if not self.c.is_connected():
            self.c.loop_stop()
            raise RuntimeError(f"client {client_id} could not connect")

    def publish(self, topic, payload, qos=1, **kw):
        info = super().publish(topic, payload, qos=qos, **kw)
        if qos == 1:
            self.qos1_sent += 1
        return info


class BadInputTest(SharedBrokerTest):
    """Helpers shared by every class here."""

    def v5(self, prefix="c"):
        c = Client(self.broker.port, self.name(prefix))
        self.clients.append(c)
        return c

    def assert_unharmed(self, *clients):
        """Each client is still connected, was never disconnected, and (MQTT 5) got a
        PUBACK with a success reason code for every QoS 1 publish."""
        for c in clients:
            self.assertTrue(c.c.is_connected(), f"{c.id} is no longer connected")
            self.assertEqual(c.disconnects, [], f"{c.id} was disconnected")
            if isinstance(c.c, _Paho):
                self.assertEqual(len(c.c.puback_codes), c.qos1_sent, f"{c.id}: PUBACKs missing")
                errors = {mid: f"0x{code:02x}" for mid, code in c.c.puback_codes.items()
                          if code >= 0x80}
                self.assertEqual(errors, {}, f"{c.id}: PUBACK with an error reason code")

    def control(self, client, *commands, timeout=harness.WAIT):
        return client.control(*commands, timeout=timeout)

    def mgmt(self, command, **fields):
        """One command from the class's operator; returns its response entry."""
        [resp] = self.operator.control(dict(fields, command=command))
        return resp

    def mgmt_data(self, command, **fields):
        resp = self.mgmt(command, **fields)
        self.assertNotIn("error", resp, resp)
        return resp["data"]

    def assert_error(self, resp, exception="InvalidRequestException", label=""):
        self.assertNotIn("data", resp, f"{label}: {resp}")
        self.assertIsInstance(resp.get("error"), str, f"{label}: {resp}")
        self.assertTrue(resp["error"].startswith(exception + ": "), f"{label}: {resp['error']}")

    def record(self, job_id, thing):
        """The stored execution as the management API describes it."""
        return self.mgmt_data("describeJobExecution", jobId=job_id, thingName=thing)["execution"]

    def new_job(self, targets, document=None, **fields):
        job_id = self.name("j")[:64]
        self.create_job(job_id, targets, document if document is not None else {"op": job_id},
                        **fields)
        return job_id


# ---------------------------------------------------------------- device API

class DeviceBadInputTest(BadInputTest):

    def setUp(self):
        super().setUp()
        self.dev = self.v5("dev")
        self.bystander = self.client()
        self.bystander_thing = self.name("by")

    # -- requests and checks --

    def ops(self, j):
        """The request levels of every operation on self.thing (job j)."""
        return ["get", "start-next", f"{j}/get", "$next/get", f"{j}/update",
                f"$next/namespace-{NS}/get", f"{j}/namespace-{NS}/update"]

    def assert_serving(self):
        """Another client's request is answered right away, and the offender is unharmed."""
        token = self.name("ok")
        outcome, body, _ = self.bystander.request(P(self.bystander_thing, "get"),
                                                  {"clientToken": token})
        self.assertEqual((outcome, body.get("clientToken")), ("accepted", token), body)
        self.assert_unharmed(self.dev, self.bystander)

    def rejected(self, levels, payload, code, token=None, thing=None, label=""):
        """Sends on P(thing)/levels; asserts a `code` rejection echoing `token` (None: no
        clientToken in the reply), then that the broker still serves others."""
        topic = P(thing or self.thing, *levels.split("/"))
        outcome, body, msg = self.dev.request(topic, payload)
        what = f"{label or repr(payload)[:80]} on {levels}"
        self.assertEqual(outcome, "rejected", f"{what}: expected {code}, got {body}")
        self.assertEqual(msg.topic, topic + "/rejected")
        self.assertEqual(body.get("code"), code, f"{what}: {body}")
        self.assertIsInstance(body.get("message"), str, body)
        self.assertIsInstance(body.get("timestamp"), int, body)
        if token is None:
            self.assertNotIn("clientToken", body, what)
        else:
            self.assertEqual(body.get("clientToken"), token, what)
        if code not in ("VersionMismatch", "InvalidStateTransition"):
            self.assertNotIn("executionState", body, what)
        self.assert_serving()
        return body

    def accepted(self, levels, payload, thing=None):
        outcome, body, _ = self.dev.request(P(thing or self.thing, *levels.split("/")), payload)
        self.assertEqual(outcome, "accepted", f"{levels}: {body}")
        return body

    def queued_job(self, thing=None, **fields):
        """A job with one QUEUED execution (version 1) on `thing` (default self.thing)."""
        return self.new_job([thing or self.thing], **fields)

    def started_job(self, thing=None):
        """A job whose execution on `thing` is IN_PROGRESS, version 2, details keep=me."""
        j = self.queued_job(thing)
        self.accepted(f"{j}/update", {"status": "IN_PROGRESS", "statusDetails": {"keep": "me"}},
                      thing=thing)
        return j

    def assert_record(self, before, job_id, thing=None):
        after = self.record(job_id, thing or self.thing)
        self.assertEqual(after, before, "the stored execution changed")

    # -- malformed JSON --

    MALFORMED = [
        ("truncated", b'{"status":"IN_PROGRESS","clientToken":"tk"'),
        ("truncated in a string", b'{"status":"IN_PRO'),
        ("truncated in an escape", b'{"status":"IN_PROGRESS","clientToken":"\\u00'),
        ("missing value", b'{"status":"IN_PROGRESS","clientToken":}'),
        ("trailing comma", b'{"status":"IN_PROGRESS","clientToken":"tk",}'),
        ("trailing garbage", b'{"status":"IN_PROGRESS","clientToken":"tk"} x'),
        ("two objects", b'{"status":"IN_PROGRESS"}{"clientToken":"tk"}'),
        ("extra brace", b'{"status":"IN_PROGRESS","clientToken":"tk"}}'),
        ("single quotes", b"{'status':'IN_PROGRESS','clientToken':'tk'}"),
        ("single-quoted value", b'{"status":\'IN_PROGRESS\',"clientToken":"tk"}'),
        ("unquoted key", b'{status:"IN_PROGRESS","clientToken":"tk"}'),
        ("bare word", b'{"status":IN_PROGRESS,"clientToken":"tk"}'),
        ("NaN", b'{"status":"IN_PROGRESS","clientToken":"tk","expectedVersion":NaN}'),
        ("Infinity", b'{"status":"IN_PROGRESS","clientToken":"tk","expectedVersion":Infinity}'),
        ("-Infinity", b'{"status":"IN_PROGRESS","clientToken":"tk","stepTimeoutInMinutes":-Infinity}'),
        ("leading plus", b'{"status":"IN_PROGRESS","clientToken":"tk","expectedVersion":+2}'),
        ("leading point", b'{"status":"IN_PROGRESS","clientToken":"tk","expectedVersion":.2}'),
        ("hex number", b'{"status":"IN_PROGRESS","clientToken":"tk","expectedVersion":0x2}'),
        ("Python True", b'{"status":"IN_PROGRESS","clientToken":"tk","includeJobDocument":True}'),
        ("block comment", b'{"status":"IN_PROGRESS", /* c */ "clientToken":"tk"}'),
        ("line comment", b'// c\n{"status":"IN_PROGRESS","clientToken":"tk"}'),
        ("hash comment", b'{"status":"IN_PROGRESS","clientToken":"tk"} # c'),
        ("bad escape", b'{"status":"IN_PROGRESS","clientToken":"t\\xk"}'),
        ("short unicode escape", b'{"status":"IN_PROGRESS","clientToken":"\\u12"}'),
        ("white space only", b" \n\t "),
        ("NUL only", b"\x00"),
    ]

    def test_malformed_json_is_invalid_json_on_every_operation(self):
        j = self.started_job()
        before = self.record(j, self.thing)
        for levels in self.ops(j):
            for label, payload in self.MALFORMED:
                with self.subTest(op=levels, payload=label):
                    self.rejected(levels, payload, "InvalidJson", label=label)
        self.assert_record(before, j)

    # Not JSON under RFC 8259 either, but each would be a valid update if read
    # leniently: a fresh job per case, so one accepted doesn't hide the next.
    LENIENT = [
        ("number with a leading zero", b'{"status":"IN_PROGRESS","clientToken":"tk","expectedVersion":02}'),
        ("number with a trailing point", b'{"status":"IN_PROGRESS","clientToken":"tk","expectedVersion":2.}'),
        ("raw U+0001 in a string", b'{"status":"IN_PROGRESS","clientToken":"a\x01b"}'),
        ("raw tab in a string", b'{"status":"IN_PROGRESS","clientToken":"a\tb"}'),
        ("raw newline in a string", b'{"status":"IN_PROGRESS","clientToken":"a\nb"}'),
    ]

    def test_json_that_only_a_lenient_parser_reads_is_invalid_json(self):
        for label, payload in self.LENIENT:
            j = self.started_job()
            before = self.record(j, self.thing)
            with self.subTest(payload=label):
                self.rejected(f"{j}/update", payload, "InvalidJson", label=label)
                self.assert_record(before, j)

    # -- encodings --

    NON_UTF8 = [
        ("0xff in a key", b'{"sta\xfftus":"IN_PROGRESS"}'),
        ("0xff in a string value", b'{"status":"IN_PROGRESS","clientToken":"t\xffk"}'),
        ("latin-1 in a details value", b'{"status":"IN_PROGRESS","statusDetails":{"k":"caf\xe9"}}'),
        ("0xff in a details key", b'{"status":"IN_PROGRESS","statusDetails":{"k\xff":"v"}}'),
        ("lone continuation byte", b'{"status":"IN_PROGRESS","clientToken":"\x80"}'),
        ("truncated 3-byte sequence", b'{"status":"IN_PROGRESS","clientToken":"\xe2\x82"}'),
        ("truncated sequence at the end", b'{"status":"IN_PROGRESS"}\xe2\x82'),
        ("overlong '/' in 2 bytes", b'{"status":"IN_PROGRESS","clientToken":"\xc0\xaf"}'),
        ("overlong '/' in 3 bytes", b'{"status":"IN_PROGRESS","clientToken":"\xe0\x80\xaf"}'),
        ("overlong '/' in 4 bytes", b'{"status":"IN_PROGRESS","clientToken":"\xf0\x80\x80\xaf"}'),
        ("overlong NUL", b'{"status":"IN_PROGRESS","clientToken":"a\xc0\x80b"}'),
        ("overlong U+07FF", b'{"status":"IN_PROGRESS","clientToken":"\xe0\x9f\xbf"}'),
        ("overlong U+FFFF", b'{"status":"IN_PROGRESS","clientToken":"\xf0\x8f\xbf\xbf"}'),
        ("overlong quote ending the string", b'{"status":"IN_PROGRESS","clientToken":"\xc0\xa2}'),
        ("overlong in a key", b'{"\xc0\xafstatus":"IN_PROGRESS"}'),
        ("raw high surrogate", b'{"status":"IN_PROGRESS","clientToken":"\xed\xa0\x80"}'),
        ("raw low surrogate", b'{"status":"IN_PROGRESS","clientToken":"\xed\xbf\xbf"}'),
        ("surrogate pair as CESU-8", b'{"status":"IN_PROGRESS","clientToken":"\xed\xa0\xbd\xed\xb8\x80"}'),
        ("raw surrogate in a key", b'{"st\xed\xa0\x80atus":"IN_PROGRESS"}'),
        ("raw surrogate in a details value", b'{"status":"IN_PROGRESS","statusDetails":{"k":"\xed\xb0\x80"}}'),
        ("above U+10FFFF", b'{"status":"IN_PROGRESS","clientToken":"\xf4\x90\x80\x80"}'),
        ("0xf5 lead byte", b'{"status":"IN_PROGRESS","clientToken":"\xf5\x80\x80\x80"}'),
        ("5-byte form", b'{"status":"IN_PROGRESS","clientToken":"\xf8\x88\x80\x80\x80"}'),
        ("0xfe", b'{"status":"IN_PROGRESS","clientToken":"\xfe"}'),
        ("UTF-16 with BOM", "\ufeff{\"status\":\"IN_PROGRESS\"}".encode("utf-16")),
    ]

    def test_non_utf8_payloads_are_invalid_json_on_every_operation(self):
        j = self.started_job()
        before = self.record(j, self.thing)
        for levels in self.ops(j):
            for label, payload in self.NON_UTF8:
                with self.subTest(op=levels, payload=label):
                    self.rejected(levels, payload, "InvalidJson", label=label)
        self.assert_record(before, j)

    def test_escaped_lone_surrogates_are_refused(self):
        # valid JSON grammar, but no Unicode string: refused either as InvalidJson or as
        # InvalidRequest, never stored or echoed
        j = self.started_job()
        before = self.record(j, self.thing)
        for label, payload in (
                ("high in clientToken", b'{"status":"IN_PROGRESS","clientToken":"\\ud800"}'),
                ("low in clientToken", b'{"status":"IN_PROGRESS","clientToken":"\\udc00"}'),
                ("high then letter", b'{"status":"IN_PROGRESS","clientToken":"\\ud83dA"}'),
                ("reversed pair", b'{"status":"IN_PROGRESS","clientToken":"\\ude00\\ud83d"}'),
                ("high in details", b'{"status":"IN_PROGRESS","statusDetails":{"k":"x\\ud800"}}'),
                ("low in a details key", b'{"status":"IN_PROGRESS","statusDetails":{"\\udfff":"v"}}')):
            with self.subTest(label):
                outcome, body, _ = self.dev.request(P(self.thing, j, "update"), payload)
                self.assertEqual(outcome, "rejected", body)
                self.assertIn(body["code"], ("InvalidJson", "InvalidRequest"), body)
                self.assertNotIn("clientToken", body)
                self.assert_serving()
        self.assert_record(before, j)

    NON_OBJECTS = [b"[]", b' [ ] ', b'[{"status":"IN_PROGRESS","clientToken":"tk"}]',
                   b'"IN_PROGRESS"', b'"{\\"status\\":\\"IN_PROGRESS\\"}"', b'""', b"2", b"-0.5",
                   b"1e999", b"null", b"true", b"false"]

    def test_json_that_is_not_an_object_is_invalid_json_on_every_operation(self):
        j = self.started_job()
        before = self.record(j, self.thing)
        for levels in self.ops(j):
            for payload in self.NON_OBJECTS:
                with self.subTest(op=levels, payload=payload):
                    self.rejected(levels, payload, "InvalidJson")
        self.assert_record(before, j)

    # -- types and ranges --

    STRINGS = [5, 0, -1.5, True, False, [], {}, ["IN_PROGRESS"], {"v": "IN_PROGRESS"}]
    BOOLS = ["true", "false", 1, 0, [], {}, [True], "yes"]
    NUMBERS = [True, False, [], {}, [1], {"v": 1}, "abc", "", " 1", "1 ", "0x1", "1e0", "+1",
               "\u0661", "1.0", "1.5"]
    DETAILS = ["done", 5, True, [], [{"k": "v"}], {"k": 5}, {"k": ["v"]}, {"k": {"v": "w"}},
               {"k": True}]

    def typed_fields(self, j):
        describe = {"clientToken": self.STRINGS, "executionNumber": self.NUMBERS,
                    "includeJobDocument": self.BOOLS}
        return [
            ("get", {}, {"clientToken": self.STRINGS}),
            ("start-next", {}, {"clientToken": self.STRINGS, "statusDetails": self.DETAILS,
                                "stepTimeoutInMinutes": self.NUMBERS}),
            (f"{j}/get", {}, describe),
            ("$next/get", {}, describe),
            (f"{j}/update", {"status": "IN_PROGRESS"},
             {"clientToken": self.STRINGS, "status": self.STRINGS, "statusDetails": self.DETAILS,
              "expectedVersion": self.NUMBERS, "executionNumber": self.NUMBERS,
              "stepTimeoutInMinutes": self.NUMBERS, "includeJobExecutionState": self.BOOLS,
              "includeJobDocument": self.BOOLS}),
        ]

    def test_wrong_types_for_every_field_of_every_operation(self):
        # a QUEUED execution: start-next or an update read leniently would change it
        j = self.queued_job()
        before = self.record(j, self.thing)
        for levels, base, fields in self.typed_fields(j):
            for field, values in fields.items():
                for value in values:
                    body = dict(base, clientToken="tok-1")
                    body[field] = value
                    token = None if field == "clientToken" else "tok-1"
                    with self.subTest(op=levels, field=field, value=value):
                        self.rejected(levels, compact(body), "InvalidRequest", token=token)
        self.assert_record(before, j)

    RANGES = {
        "expectedVersion": [1.5, 0.5, -1, "-1", -0.5, 1e300, -1e300, 1e-300, "1e300", "12x",
                            "9" * 19, "9" * 400, 10 ** 400, 2 ** 63, -(2 ** 63), 2 ** 53 + 2],
        "executionNumber": [0, "0", -1, "-1", 0.5, 1.5, 1e300, "12x", "9" * 400, 10 ** 400,
                            2 ** 63],
        "stepTimeoutInMinutes": [0, "0", 10081, "10081", -2, "-2", 1.5, 1e300, "12x",
                                 "9" * 400, 10 ** 400, 2 ** 63],
    }

    def test_numbers_out_of_range_or_fractional(self):
        j = self.queued_job()
        before = self.record(j, self.thing)
        plans = [(f"{j}/update", {"status": "IN_PROGRESS"},
                  ("expectedVersion", "executionNumber", "stepTimeoutInMinutes")),
                 ("start-next", {}, ("stepTimeoutInMinutes",)),
                 (f"{j}/get", {}, ("executionNumber",)),
                 ("$next/get", {}, ("executionNumber",))]
        for levels, base, fields in plans:
            for field in fields:
                values = list(self.RANGES[field])
                if levels == "start-next" and field == "stepTimeoutInMinutes":
                    values += [-1, "-1"]   # -1 clears a step timer on update only
                for value in values:
                    body = dict(base, clientToken="rng")
                    body[field] = value
                    with self.subTest(op=levels, field=field, value=str(value)[:30]):
                        self.rejected(levels, compact(body), "InvalidRequest", token="rng")
        self.assert_record(before, j)

    # -- statusDetails limits, in both encodings, on update and start-next --

    BAD_DETAILS = [
        ("value of 1025 characters", {"k": "x" * 1025}),
        ("value of 1025 two-byte characters", {"k": "\u00e9" * 1025}),
        ("value of 1025 astral characters", {"k": "\U0001F600" * 1025}),
        ("key of 129 characters", {"k" * 129: "v"}),
        ("control character in a key", {"k\u0001": "v"}),
        ("U+200B in a key", {"k\u200b": "v"}),
        ("non-ASCII key", {"k\u00e9": "v"}),
        ("serialized map over 32768 bytes", {f"k{i:02d}": "x" * 1024 for i in range(33)}),
        ("map over 32768 bytes in 2-byte characters", {f"k{i:02d}": "\u00e9" * 600 for i in range(30)}),
        ("10000 keys", {f"k{i}": "v" for i in range(10000)}),
        ("value nested 900 deep", {"k": json.loads(nested_arrays(900))}),
    ]

    # Characters AWS stores in a value (a handler's output: newlines, tabs, colour
    # codes) are accepted in both encodings and echoed intact.
    ANY_CHARACTER_DETAILS = [
        ("tab, newline, carriage return", {"stdout": "a\tb\r\nc\n"}),
        ("ANSI colour codes", {"stdout": "\u001b[31mred\u001b[0m\n"}),
        ("empty value", {"k": ""}),
        ("U+0001", {"k": "a\u0001b"}),
        ("U+001F", {"k": "a\u001fb"}),
        ("U+007F", {"k": "a\u007fb"}),
        ("U+0085", {"k": "a\u0085b"}),
        ("U+009F", {"k": "a\u009fb"}),
        ("U+00AD", {"k": "a\u00adb"}),
        ("U+061C", {"k": "a\u061cb"}),
        ("U+200B", {"k": "a\u200bb"}),
        ("U+200F", {"k": "a\u200fb"}),
        ("U+202E", {"k": "a\u202eb"}),
        ("U+2066", {"k": "a\u2066b"}),
        ("U+FEFF", {"k": "\ufeffab"}),
        ("U+FFF9", {"k": "a\ufff9b"}),
        ("U+E0001 tag", {"k": "a\U000E0001b"}),
        ("U+E000 private use", {"k": "a\ue000b"}),
        ("U+F8FF private use", {"k": "a\uf8ffb"}),
        ("U+F0000 private use", {"k": "a\U000F0000b"}),
        ("U+10FFFD private use", {"k": "a\U0010FFFDb"}),
        ("U+FDD0 noncharacter", {"k": "a\ufdd0b"}),
        ("U+FFFE noncharacter", {"k": "a\ufffeb"}),
        ("U+FFFF noncharacter", {"k": "a\uffffb"}),
        ("U+1FFFF noncharacter", {"k": "a\U0001FFFFb"}),
    ]

    def test_status_details_accept_any_character(self):
        for label, details in self.ANY_CHARACTER_DETAILS:
            for ascii_only in (True, False):
                j = self.queued_job()
                with self.subTest(details=label, escaped=ascii_only):
                    body = {"status": "IN_PROGRESS", "clientToken": "ok", "statusDetails": details}
                    outcome, reply, _ = self.dev.request(P(self.thing, j, "update"),
                                                         compact(body, ascii_only))
                    self.assertEqual(outcome, "accepted", reply)
                    outcome, reply, _ = self.dev.request(P(self.thing, j, "get"), {})
                    self.assertEqual(outcome, "accepted", reply)
                    self.assertEqual(reply["execution"]["statusDetails"], details)

    def test_status_details_limits_in_both_encodings(self):
        j = self.queued_job()
        before = self.record(j, self.thing)
        for levels, base in ((f"{j}/update", {"status": "IN_PROGRESS"}), ("start-next", {})):
            for label, details in self.BAD_DETAILS:
                for ascii_only in (True, False):
                    body = dict(base, clientToken="sd", statusDetails=details)
                    with self.subTest(op=levels, details=label, escaped=ascii_only):
                        self.rejected(levels, compact(body, ascii_only), "InvalidRequest",
                                      token="sd", label=label)
        self.assert_record(before, j)

    # -- names in topics --

    def test_names_at_and_one_over_their_limits_in_topics(self):
        thing = padded(self.name("t"), 128)
        ns = padded(self.name("ns"), 64)
        j = padded(self.name("j"), 64)
        self.create_job(j, [thing], {"at": "limits"}, namespaceId=ns)
        plain = padded(self.name("p"), 64)
        self.create_job(plain, [thing], {"plain": 1})
        before = (self.record(j, thing), self.record(plain, thing))
        # at the limits: served
        e = self.accepted(f"{j}/namespace-{ns}/get", {}, thing=thing)["execution"]
        self.assertEqual((e["jobId"], e["jobDocument"]), (j, {"at": "limits"}))
        self.assertEqual(self.accepted(f"$next/namespace-{ns}/get", {}, thing=thing)["execution"]["jobId"], j)
        self.assertEqual(self.accepted(f"{plain}/get", {}, thing=thing)["execution"]["jobId"], plain)
        # one over, each a prefix of a real name plus one character: InvalidTopic, never
        # cut down to the real name
        over = [(thing + "x", f"{j}/namespace-{ns}/update"), (thing + "x", f"{plain}/update"),
                (thing + "x", "start-next"), (thing + "x", "get"),
                (thing, f"{j}x/namespace-{ns}/update"), (thing, f"{plain}x/update"),
                (thing, f"{plain}x/get"), (thing, f"{j}/namespace-{ns}x/update"),
                (thing, f"{j}/namespace-{ns}x/get"), (thing, f"$next/namespace-{ns}x/get")]
        for t, levels in over:
            with self.subTest(thing_len=len(t), op=levels[-40:]):
                self.rejected(levels, {"status": "SUCCEEDED", "clientToken": "lim"}, "InvalidTopic",
                              token="lim", thing=t)
        self.assertEqual((self.record(j, thing), self.record(plain, thing)), before)

    def test_long_invalid_topics_are_answered_on_their_own_rejected_topic(self):
        # protocol.md: InvalidTopic goes to <published topic>/rejected, whatever its length;
        # a reply topic cut short (and cut inside a UTF-8 sequence) is neither that topic
        # nor a valid MQTT topic name
        j = self.queued_job()
        before = self.record(j, self.thing)
        topics = [P("x" * 1000, "get"), P(self.thing, "j" * 1000, "update"),
                  P("\u00e9" * 300, "get"), P(self.thing, "\u00e9" * 251, "get"),
                  P(self.thing, j, "namespace-" + "n" * 60000, "update")]
        for topic in topics:
            with self.subTest(topic=topic[:40], length=len(topic.encode())):
                self.dev.publish(topic, {"status": "SUCCEEDED", "clientToken": "long"})
                m = self.dev.get(harness.WAIT)
                self.assertIsNotNone(m, "no reply")
                got = bytes(m._topic)
                try:
                    got.decode("utf-8")
                except UnicodeDecodeError:
                    self.fail(f"reply topic of {len(got)} bytes is not UTF-8: ends {got[-12:]!r}")
                self.assertEqual(len(got), len(topic.encode()) + len("/rejected"),
                                 f"reply topic of {len(got)} bytes ends {got[-24:]!r}")
                self.assertEqual(got, (topic + "/rejected").encode())
                body = json.loads(m.payload)
                self.assertEqual((body["code"], body.get("clientToken")), ("InvalidTopic", "long"))
                self.assert_serving()
        self.assert_record(before, j)

    def test_empty_topic_levels(self):
        j = self.queued_job()
        before = self.record(j, self.thing)
        body = {"status": "SUCCEEDED", "clientToken": "empty"}
        for levels in ("/get", "/update", "get/", "start-next/", f"{j}/", f"{j}/update/",
                       f"{j}//update", f"/{j}/update", "$next//get", f"{j}/namespace-/update",
                       "//", "/"):
            with self.subTest(levels=levels):
                self.rejected(levels, body, "InvalidTopic", token="empty")
        for topic in ("$aws/things//jobs/start-next", "$aws/things//jobs//update"):
            with self.subTest(topic=topic):
                outcome, reply, msg = self.dev.request(topic, body)
                self.assertEqual((outcome, msg.topic, reply["code"]),
                                 ("rejected", topic + "/rejected", "InvalidTopic"))
                self.assert_serving()
        # not under $aws/things/<thing>/jobs/: not a jobs request, so no answer at all
        for topic in (f"$aws/things/{self.thing}//jobs/{j}/update", f"$aws//things/{self.thing}/jobs/get"):
            self.dev.publish(topic, body)
        self.assertEqual([m.topic for m in self.dev.sync()], [])
        self.assert_serving()
        self.assert_record(before, j)

    # -- statuses --

    STATUSES = ["", " IN_PROGRESS", "IN_PROGRESS ", "in_progress", "In_Progress", "IN-PROGRESS",
                "INPROGRESS", "IN_PROGRESS\u200b", "\uff29\uff2e_PROGRESS", "SUCCESS", "FAILURE",
                "DONE", "CANCELLED", "COMPLETED", "DELETION_IN_PROGRESS", "S" * 10000,
                "QUEUED", "CANCELED", "TIMED_OUT", "REMOVED"]

    def test_unknown_and_device_forbidden_statuses(self):
        queued = self.queued_job()
        started = self.started_job()
        before = (self.record(queued, self.thing), self.record(started, self.thing))
        for j in (queued, started):
            for status in self.STATUSES:
                with self.subTest(job=j, status=status[:20]):
                    self.rejected(f"{j}/update", {"status": status, "clientToken": "st"},
                                  "InvalidRequest", token="st")
            with self.subTest(job=j, status="IN_PROGRESS + U+0000"):
                # a string holding U+0000 is refused, and no token is echoed (protocol.md)
                self.rejected(f"{j}/update", {"status": "IN_PROGRESS\u0000", "clientToken": "st"},
                              "InvalidRequest")
        self.assertEqual((self.record(queued, self.thing), self.record(started, self.thing)), before)

    # -- nesting and size --

    def test_deep_nesting(self):
        j = self.started_job()
        before = self.record(j, self.thing)
        deep = [
            ("arrays 2000 deep", b'{"status":"IN_PROGRESS","x":' + nested_arrays(2000).encode() + b"}"),
            ("objects 2000 deep", b'{"status":"IN_PROGRESS","x":' + b'{"a":' * 2000 + b"1" + b"}" * 2001),
            ("arrays 100000 deep", b'{"status":"IN_PROGRESS","x":' + nested_arrays(100000).encode() + b"}"),
            ("a million unclosed brackets", b'{"status":"IN_PROGRESS","x":' + b"[" * 1000000),
            ("a payload 2000 deep", nested_arrays(2000).encode()),
        ]
        for levels in self.ops(j):
            for label, payload in deep:
                with self.subTest(op=levels, payload=label):
                    self.rejected(levels, payload, "InvalidJson", label=label)
        for levels, base in ((f"{j}/update", {"status": "IN_PROGRESS"}), ("start-next", {})):
            for label, details in (("array 900 deep", json.loads(nested_arrays(900))),
                                   ("object 900 deep", {"k": json.loads('{"a":' * 899 + '"v"' + "}" * 899)})):
                with self.subTest(op=levels, statusDetails=label):
                    self.rejected(levels, compact(dict(base, clientToken="deep", statusDetails=details)),
                                  "InvalidRequest", token="deep")
        self.assert_record(before, j)
        # 900 deep in a field a request does not use is still JSON: ignored
        body = self.accepted("get", b'{"clientToken":"d","x":' + nested_arrays(900).encode() + b"}")
        self.assertEqual(body["clientToken"], "d")
        self.assert_serving()

    def test_large_payloads(self):
        j = self.started_job()
        before = self.record(j, self.thing)
        for size in (256 * KIB, 2 * MIB):
            with self.subTest(size=size, case="unknown field"):
                body = self.accepted("get", {"clientToken": "big", "pad": "x" * size})
                self.assertEqual(body["clientToken"], "big")
                self.assert_serving()
            with self.subTest(size=size, case="statusDetails value"):
                self.rejected(f"{j}/update", {"status": "IN_PROGRESS", "clientToken": "big",
                                              "statusDetails": {"k": "x" * size}},
                              "InvalidRequest", token="big")
            with self.subTest(size=size, case="statusDetails keys"):
                details = {f"k{i}": "v" * 100 for i in range(size // 110)}
                self.rejected("start-next", {"clientToken": "big", "statusDetails": details},
                              "InvalidRequest", token="big")
            with self.subTest(size=size, case="not JSON"):
                self.rejected(f"{j}/update", b'{"status":"IN_PROGRESS","pad":"' + b"x" * size,
                              "InvalidJson")
            with self.subTest(size=size, case="status"):
                self.rejected(f"{j}/update", {"status": "S" * size, "clientToken": "big"},
                              "InvalidRequest", token="big")
        # clientToken has no length limit (protocol.md): echoed whole
        token = "t" * (256 * KIB)
        self.assertEqual(self.accepted(f"{j}/get", {"clientToken": token})["clientToken"], token)
        self.assert_record(before, j)

    # -- requests for what the thing cannot reach --

    def test_other_things_deleted_and_other_namespace_jobs(self):
        other = self.name("o")
        theirs = self.queued_job(thing=other)
        namespaced = self.queued_job(namespaceId="ns-a")
        doomed = self.queued_job()
        records = lambda: (self.record(theirs, other), self.record(namespaced, self.thing))
        before = records()
        cases = [(f"{theirs}/update", {"status": "SUCCEEDED"}), (f"{theirs}/get", {}),
                 (f"{theirs}/namespace-ns-a/update", {"status": "SUCCEEDED"}),
                 (f"{namespaced}/update", {"status": "SUCCEEDED"}), (f"{namespaced}/get", {}),
                 (f"{namespaced}/namespace-ns-b/update", {"status": "SUCCEEDED"}),
                 (f"{namespaced}/namespace-{NS}/get", {})]
        for levels, body in cases:
            with self.subTest(levels):
                self.rejected(levels, dict(body, clientToken="nf"), "ResourceNotFound", token="nf")
        self.assertEqual(records(), before)
        self.assertEqual(self.record(namespaced, self.thing)["status"], "QUEUED")

        self.assert_error(self.mgmt("deleteJob", jobId=doomed), "InvalidStateTransitionException")
        self.mgmt_data("deleteJob", jobId=doomed, force=True)
        for levels, body in ((f"{doomed}/update", {"status": "IN_PROGRESS"}),
                             (f"{doomed}/update", {"status": "SUCCEEDED", "expectedVersion": 1}),
                             (f"{doomed}/get", {})):
            with self.subTest(deleted=levels):
                self.rejected(levels, dict(body, clientToken="gone"), "ResourceNotFound", token="gone")
        self.assert_error(self.mgmt("describeJob", jobId=doomed), "ResourceNotFoundException")
        pending = self.accepted("get", {})
        self.assertNotIn(doomed, [s["jobId"] for s in pending["inProgressJobs"] + pending["queuedJobs"]])
        # the id used again for another thing: the old thing's execution does not come back
        self.create_job(doomed, [other], {"again": 1})
        self.rejected(f"{doomed}/update", {"status": "SUCCEEDED", "clientToken": "gone"},
                      "ResourceNotFound", token="gone")
        self.assertEqual(self.record(doomed, other)["status"], "QUEUED")

    def test_update_with_the_right_expected_version_sent_twice(self):
        j = self.started_job()
        payload = {"status": "IN_PROGRESS", "expectedVersion": 2, "clientToken": "once",
                   "statusDetails": {"step": "2"}}
        self.assertEqual(self.accepted(f"{j}/update", payload)["clientToken"], "once")
        after_first = self.record(j, self.thing)
        self.assertEqual((after_first["versionNumber"], after_first["statusDetails"]),
                         (3, {"detailsMap": {"step": "2"}}))
        body = self.rejected(f"{j}/update", payload, "VersionMismatch", token="once")
        self.assertEqual(body["executionState"]["versionNumber"], 3)
        self.assertEqual(body["executionState"]["status"], "IN_PROGRESS")
        self.assert_record(after_first, j)
        # a terminal update replayed: the second is refused, nothing changes
        done = dict(payload, status="SUCCEEDED", expectedVersion=3)
        self.accepted(f"{j}/update", done)
        final = self.record(j, self.thing)
        body = self.rejected(f"{j}/update", done, "VersionMismatch", token="once")
        self.assertEqual(body["executionState"]["versionNumber"], 4)
        self.assert_record(final, j)

    def test_pipelined_updates_with_the_same_expected_version_one_wins(self):
        # sent back to back (one broker loop pass, one transaction): still one accepted
        j = self.started_job()
        second = self.client()
        topic = P(self.thing, j, "update")
        for n, (a, b) in enumerate(((self.dev, self.dev), (self.dev, second))):
            version = 2 + n
            for client, token in ((a, "first"), (b, "second")):
                client.c.publish(topic, json.dumps({"status": "IN_PROGRESS", "expectedVersion": version,
                                                    "clientToken": token,
                                                    "statusDetails": {"by": token}}), qos=0)
            replies = {}
            for client in {a, b}:
                for _ in range(2 if a is b else 1):
                    m = client.get(harness.WAIT)
                    self.assertIsNotNone(m, "a reply is missing")
                    body = json.loads(m.payload)
                    replies[body["clientToken"]] = (m.topic.rsplit("/", 1)[1], body.get("code"))
            with self.subTest(same_client=a is b):
                # one client's requests are handled in order; two clients' in either order
                winner = "first" if a is b else next((t for t, r in replies.items()
                                                      if r[0] == "accepted"), "first")
                loser = {"first": "second", "second": "first"}[winner]
                self.assertEqual(replies, {winner: ("accepted", None),
                                           loser: ("rejected", "VersionMismatch")})
                e = self.record(j, self.thing)
                self.assertEqual((e["versionNumber"], e["statusDetails"]),
                                 (version + 1, {"detailsMap": {"by": winner}}))
        self.assert_serving()
        self.assert_unharmed(second)

    def test_bad_requests_at_qos0_and_qos2_are_answered_too(self):
        j = self.started_job()
        before = self.record(j, self.thing)
        for qos in (0, 2):
            for levels, payload, code in ((f"{j}/update", b"{'x'", "InvalidJson"),
                                          (f"{j}/update", b'{"status":"\xc0\xaf"}', "InvalidJson"),
                                          (f"{j}/update", {"status": 5}, "InvalidRequest"),
                                          ("frobnicate", {}, "InvalidTopic")):
                with self.subTest(qos=qos, code=code):
                    outcome, body, msg = self.dev.request(P(self.thing, *levels.split("/")),
                                                          payload, qos=qos)
                    self.assertEqual((outcome, body["code"], msg.qos), ("rejected", code, min(qos, 1)))
                    self.assert_serving()
        self.assert_record(before, j)


# ---------------------------------------------------------------- floods

class FloodTest(BadInputTest):

    def collect(self, client, count, timeout=30.0):
        out = []
        deadline = time.time() + timeout
        while len(out) < count and time.time() < deadline:
            m = client.get(max(0.0, deadline - time.time()))
            if m is not None:
                out.append(m)
        return out

    def test_2000_requests_at_qos0_as_fast_as_possible_are_all_answered(self):
        dev = self.client()
        bystander = self.client()
        thing = self.thing
        for i in range(2000):
            dev.c.publish(P(thing, "get"), json.dumps({"clientToken": str(i)}), qos=0)
            if i == 1000:
                # another client's request is answered while the flood is going on
                outcome, body, _ = bystander.request(P(self.name("b"), "get"), {"clientToken": "mid"})
                self.assertEqual((outcome, body["clientToken"]), ("accepted", "mid"))
        replies = self.collect(dev, 2000)
        tokens = [json.loads(m.payload)["clientToken"] for m in replies]
        self.assertEqual(len(tokens), 2000, f"{2000 - len(tokens)} replies lost")
        self.assertEqual(sorted(tokens, key=int), [str(i) for i in range(2000)])
        self.assertEqual({m.topic for m in replies}, {P(thing, "get", "accepted")})
        self.assertEqual(dev.sync(), [], "more replies than requests")
        outcome, _, _ = bystander.request(P(self.name("b"), "get"), {})
        self.assertEqual(outcome, "accepted")
        self.assert_unharmed(dev, bystander)

    def test_2000_mixed_requests_at_qos1_are_all_answered_with_the_right_code(self):
        dev = self.v5("flood")
        bystander = self.client()
        j = self.new_job([self.thing])
        j2 = self.new_job([self.thing])
        before = (self.record(j, self.thing), self.record(j2, self.thing))
        kinds = [("get", lambda i: {"clientToken": str(i)}, "get/accepted"),
                 (f"{j}/get", lambda i: {"clientToken": str(i), "includeJobDocument": False},
                  f"{j}/get/accepted"),
                 (f"{j}/update", lambda i: {"clientToken": str(i), "status": "QUEUED"},
                  f"{j}/update/rejected"),
                 (f"{j2}/update", lambda i: b'{"status":"IN_PROGRESS", clientToken:' + str(i).encode(),
                  f"{j2}/update/rejected")]
        for i in range(2000):
            levels, payload, _ = kinds[i % 4]
            body = payload(i)
            dev.c.publish(P(self.thing, *levels.split("/")),
                          body if isinstance(body, bytes) else json.dumps(body), qos=1)
            dev.qos1_sent += 1
        replies = self.collect(dev, 2000)
        self.assertEqual(len(replies), 2000, f"{2000 - len(replies)} replies lost")
        by_topic = {}
        for m in replies:
            by_topic.setdefault(m.topic, []).append(json.loads(m.payload))
        self.assertEqual({t: len(v) for t, v in by_topic.items()},
                         {P(self.thing, *k[2].split("/")): 500 for k in kinds})
        for n, (levels, _, reply) in enumerate(kinds):
            bodies = by_topic[P(self.thing, *reply.split("/"))]
            if n < 3:
                self.assertEqual(sorted(int(b["clientToken"]) for b in bodies), list(range(n, 2000, 4)))
            if n == 2:
                self.assertEqual({b["code"] for b in bodies}, {"InvalidRequest"})
            if n == 3:
                self.assertEqual({b["code"] for b in bodies}, {"InvalidJson"})
        self.assertEqual(dev.sync(), [], "more replies than requests")
        deadline = time.time() + harness.WAIT
        while len(dev.c.puback_codes) < 2001 and time.time() < deadline:
            time.sleep(0.01)
        self.assert_unharmed(dev, bystander)
        outcome, _, _ = bystander.request(P(self.name("b"), "get"), {})
        self.assertEqual(outcome, "accepted")
        self.assertEqual((self.record(j, self.thing), self.record(j2, self.thing)), before)


class RateLimitTest(BadInputTest):

    options = {"rate_limit": "20"}

    def test_burst_is_throttled_per_thing_and_recovers(self):
        dev = self.client()
        other_client = self.client()
        other = self.name("o")
        j = self.new_job([self.thing])
        oj = self.new_job([other])
        topic = P(self.thing, j, "update")
        start = time.time()
        for i in range(100):
            dev.c.publish(topic, json.dumps({"status": "IN_PROGRESS", "clientToken": f"b{i}",
                                             "statusDetails": {"n": str(i)}}), qos=0)
        replies = []
        deadline = time.time() + 10
        while len(replies) < 100 and time.time() < deadline:
            m = dev.get(max(0.0, deadline - time.time()))
            if m is not None:
                replies.append((m.topic.rsplit("/", 1)[1], json.loads(m.payload)))
        elapsed = time.time() - start
        self.assertEqual(len(replies), 100, "every request of the burst is answered")
        self.assertEqual(sorted(int(b["clientToken"][1:]) for _, b in replies), list(range(100)))
        accepted = sorted(int(b["clientToken"][1:]) for o, b in replies if o == "accepted")
        throttled = [b for o, b in replies if o == "rejected"]
        self.assertEqual({b["code"] for b in throttled}, {"RequestThrottled"})
        for b in throttled:
            self.assertTrue(b["clientToken"].startswith("b"))
            self.assertIsInstance(b["message"], str)
            self.assertNotIn("executionState", b)
        self.assertGreaterEqual(len(accepted), 20, "the burst allowance is 20")
        self.assertLessEqual(len(accepted), 20 + int(elapsed * 20) + 1,
                             f"too many accepted in {elapsed:.3f}s")
        if 20 + elapsed * 20 + 1 < 100:
            # (a broker so loaded that the burst took 4 s could rightly take it all)
            self.assertGreater(len(throttled), 0)
        # another thing is unaffected: its whole allowance, right now
        for i in range(20):
            outcome, body, _ = other_client.request(P(other, "get"), {"clientToken": f"o{i}"})
            self.assertEqual((outcome, body.get("clientToken")), ("accepted", f"o{i}"), body)
        # throttled requests changed nothing: one version per accepted update, the
        # details of the last accepted one
        e = self.record(j, self.thing)
        self.assertEqual(e["versionNumber"], 1 + len(accepted))
        self.assertEqual(e["statusDetails"], {"detailsMap": {"n": str(accepted[-1])}})
        self.assertEqual(self.record(oj, other)["versionNumber"], 1)
        # after a second the allowance is back
        time.sleep(1.1)
        for i in range(15):
            outcome, body, _ = dev.request(topic, {"status": "IN_PROGRESS", "clientToken": f"a{i}"})
            self.assertEqual((outcome, body.get("clientToken")), ("accepted", f"a{i}"), body)
        self.assertEqual(self.record(j, self.thing)["versionNumber"], 16 + len(accepted))
        self.assert_unharmed(dev, other_client)
        # "not logged at the information level"
        self.assertNotIn("RequestThrottled", self.broker.read_log())


# ---------------------------------------------------------------- management API

    def test_things_whose_names_share_a_slot_share_the_limit(self):
        """Two things in the same of the limiter's 4,096 slots share one bucket: taking
        turns, they get no more through than one thing alone."""
        def slot(name):
            h = 2166136261  # FNV-1a, as plugin/core/ratelimit.c picks the slot (util/hash.h)
            for b in name.encode():
                h = ((h ^ b) * 16777619) & 0xFFFFFFFF
            return h % 4096
        a = self.name("s")
        b = next(n for n in (f"{a}-{i}" for i in range(1, 1_000_000)) if slot(n) == slot(a))
        dev = self.client()
        start = time.time()
        for i in range(400):
            dev.c.publish(P(a if i % 2 == 0 else b, "get"), json.dumps({"clientToken": str(i)}), qos=0)
        outcomes = {}
        deadline = time.time() + 30
        while len(outcomes) < 400 and time.time() < deadline:
            m = dev.get(max(0.0, deadline - time.time()))
            if m is not None:
                outcomes[int(json.loads(m.payload)["clientToken"])] = m.topic.rsplit("/", 1)[1]
        elapsed = time.time() - start
        self.assertEqual(len(outcomes), 400, "every request is answered")
        accepted = sum(1 for o in outcomes.values() if o == "accepted")
        self.assertGreaterEqual(accepted, 20, "the burst allowance is 20")
        self.assertLessEqual(accepted, 20 + int(elapsed * 20) + 1,
                             f"{accepted} of 400 accepted in {elapsed:.3f}s at 20/s for both")
        self.assert_unharmed(dev)


class ManagementBadInputTest(BadInputTest):

    def setUp(self):
        super().setUp()
        self.op = self.v5("op")
        self.other_thing = self.name("t2")
        self.job_id = self.new_job([self.thing, self.other_thing])
        self.group = self.name("g")
        self.mgmt_data("createThingGroup", thingGroupName=self.group)
        self.mgmt_data("addThingToThingGroup", thingGroupName=self.group, thingName=self.thing)

    def all_jobs(self):
        jobs, token = [], None
        while True:
            fields = {"maxResults": 250}
            if token:
                fields["nextToken"] = token
            data = self.mgmt_data("listJobs", **fields)
            jobs += [(j["jobId"], j["status"], j["lastUpdatedAt"]) for j in data["jobs"]]
            token = data.get("nextToken")
            if not token:
                return jobs

    def state(self):
        """Everything a bad command could have changed."""
        return {
            "jobs": self.all_jobs(),
            "job": self.mgmt("describeJob", jobId=self.job_id),
            "document": self.mgmt("getJobDocument", jobId=self.job_id),
            "executions": self.mgmt("listJobExecutionsForJob", jobId=self.job_id),
            "execution": self.record(self.job_id, self.thing),
            "thing": self.mgmt("listJobExecutionsForThing", thingName=self.thing),
            "members": self.mgmt("listThingsInThingGroup", thingGroupName=self.group),
            "groups": self.mgmt("listThingGroups", namePrefixFilter=self.group),
        }

    def assert_serving(self):
        """The class's other operator is answered right away; self.op is unharmed."""
        data = self.mgmt_data("describeJob", jobId=self.job_id)
        self.assertEqual(data["job"]["jobId"], self.job_id)
        self.assert_unharmed(self.op)

    def raw(self, payload, timeout=harness.WAIT):
        """Publishes `payload` as is on $CONTROL/jobs/v1; returns the responses."""
        self.op.publish(CONTROL, payload)
        body, _ = self.op.expect(RESPONSE, timeout)
        return body["responses"]

    def control_in_requests(self, commands, timeout=20.0):
        """Sends the commands from self.op, 100 to a request (the most one may hold);
        returns all the responses, in order."""
        responses = []
        for i in range(0, len(commands), 100):
            responses += self.control(self.op, *commands[i:i + 100], timeout=timeout)
        return responses

    def refused(self, commands, exception="InvalidRequestException"):
        """Sends the commands from self.op; every response must be an `exception` error,
        in order."""
        responses = self.control_in_requests(commands)
        self.assertEqual(len(responses), len(commands))
        for cmd, resp in zip(commands, responses):
            label = resp.get("correlationData")
            self.assertEqual(resp.get("correlationData"), cmd.get("correlationData"))
            self.assertEqual(resp.get("command"), cmd.get("command") if isinstance(cmd.get("command"), str) else "")
            self.assert_error(resp, exception, label)
        self.assert_serving()
        return responses

    # -- envelopes --

    def test_malformed_envelopes(self):
        before = self.state()
        probes = []
        cases = []

        def add(label, make):
            probe = self.name("probe")
            probes.append(probe)
            cj = ('{"command":"createJob","jobId":"%s","targets":["%s"],"document":{}}'
                  % (probe, self.thing))
            payload = make(cj)
            cases.append((label, payload if isinstance(payload, bytes) else payload.encode()))

        add("truncated", lambda cj: '{"commands":[' + cj)
        add("trailing garbage", lambda cj: '{"commands":[' + cj + ']} x')
        add("two envelopes", lambda cj: '{"commands":[' + cj + ']}{"commands":[]}')
        add("trailing comma", lambda cj: '{"commands":[' + cj + ',]}')
        add("single quotes", lambda cj: ("{'commands':[" + cj + "]}").replace('"', "'"))
        add("unquoted key", lambda cj: '{commands:[' + cj + ']}')
        add("NaN", lambda cj: '{"commands":[' + cj[:-1] + ',"x":NaN}]}')
        add("Infinity", lambda cj: '{"commands":[' + cj[:-1] + ',"x":Infinity}]}')
        add("block comment", lambda cj: '{"commands":[/* c */' + cj + ']}')
        add("line comment", lambda cj: '// c\n{"commands":[' + cj + ']}')
        add("Commands", lambda cj: '{"Commands":[' + cj + ']}')
        add("commands an object", lambda cj: '{"commands":' + cj + '}')
        add("commands a string", lambda cj: '{"commands":' + json.dumps(cj) + '}')
        add("commands null", lambda cj: '{"commands":null,"x":[' + cj + ']}')
        add("commands a number", lambda cj: '{"commands":1,"x":[' + cj + ']}')
        add("bare array", lambda cj: '[' + cj + ']')
        add("JSON string", lambda cj: json.dumps('{"commands":[' + cj + ']}'))
        add("number", lambda cj: "1")
        add("true", lambda cj: "true")
        add("2000 deep", lambda cj: '{"commands":[' + cj + ',' + nested_arrays(2000) + ']}')
        add("100000 deep", lambda cj: '{"commands":[' + cj + ',' + nested_arrays(100000) + ']}')
        add("non-UTF-8 in a field", lambda cj: ('{"commands":[' + cj[:-1] + ',"description":"').encode()
            + b'\xff"}]}')
        add("overlong encoding", lambda cj: ('{"commands":[' + cj[:-1] + ',"description":"').encode()
            + b'\xc0\xaf"}]}')
        add("raw surrogate", lambda cj: ('{"commands":[' + cj[:-1] + ',"description":"').encode()
            + b'\xed\xa0\x80"}]}')
        add("above U+10FFFF", lambda cj: ('{"commands":[' + cj[:-1] + ',"description":"').encode()
            + b'\xf4\x90\x80\x80"}]}')
        add("escaped NUL", lambda cj: '{"commands":[' + cj[:-1] + ',"description":"a\\u0000b"}]}')
        add("escaped lone surrogate", lambda cj: '{"commands":[' + cj[:-1] + ',"description":"\\ud800"}]}')
        add("2 MiB of garbage", lambda cj: b'{"commands":[' + cj.encode() + b"," + b"x" * (2 * MIB))
        add("white space", lambda cj: " \n\t")
        for label, payload in cases:
            with self.subTest(label):
                responses = self.raw(payload)
                self.assertEqual(len(responses), 1, responses)
                self.assert_error(responses[0], label=label)
                self.assert_serving()
        for probe in probes:
            self.assert_error(self.mgmt("describeJob", jobId=probe), "ResourceNotFoundException")
        self.assertEqual(self.state(), before)
        # a large but well-formed envelope is simply answered
        big = {"commands": [{"command": "describeJob", "jobId": self.job_id}], "pad": "x" * (2 * MIB)}
        [resp] = self.raw(json.dumps(big).encode())
        self.assertEqual(resp["data"]["job"]["jobId"], self.job_id)

    def test_commands_that_are_not_objects_each_get_an_error_in_order(self):
        before = self.state()
        probe = self.name("probe")
        items = [1, "createJob", None, [], True, 1.5, [{"command": "createJob", "jobId": probe}],
                 {"command": "describeJob", "jobId": self.job_id, "correlationData": "last"}]
        responses = self.control(self.op, *items)
        self.assertEqual(len(responses), len(items))
        for resp in responses[:-1]:
            self.assert_error(resp)
            self.assertEqual(resp["command"], "")
        self.assertEqual(responses[-1]["correlationData"], "last")
        self.assertEqual(responses[-1]["data"]["job"]["jobId"], self.job_id)
        self.assert_error(self.mgmt("describeJob", jobId=probe), "ResourceNotFoundException")
        self.assertEqual(self.state(), before)
        self.assert_serving()

    # -- fields --

    STR = [5, 1.5, True, [], {}, ["x"]]
    BOOL = ["true", 1, 0, [], {}]
    INT = ["abc", True, 1.5, [], {}, "", "1.5", " 1"]
    OBJ = ["x", 5, True, [], [{}]]

    def typed_commands(self):
        j, t, g = self.job_id, self.thing, self.group
        return [
            ("createJob", {"jobId": None, "targets": [t], "document": {}},
             {"jobId": self.STR, "targets": ["t", 5, {}, True, [5], [None], [[t]], [{}]],
              "document": [5, True, [], [1], "not json", "[1]"], "description": self.STR,
              "targetSelection": self.STR, "namespaceId": self.STR, "timeoutConfig": self.OBJ,
              "jobExecutionsRetryConfig": self.OBJ, "jobExecutionsRolloutConfig": self.OBJ,
              "abortConfig": self.OBJ, "schedulingConfig": self.OBJ}),
            ("cancelJob", {"jobId": j},
             {"jobId": self.STR, "force": self.BOOL, "reasonCode": self.STR, "comment": self.STR}),
            ("deleteJob", {"jobId": j, "force": True}, {"jobId": self.STR, "force": self.BOOL}),
            ("describeJob", {"jobId": j}, {"jobId": self.STR}),
            ("getJobDocument", {"jobId": j}, {"jobId": self.STR}),
            ("listJobs", {},
             {"status": self.STR, "targetSelection": self.STR, "thingGroupName": self.STR,
              "namespaceId": self.STR, "maxResults": self.INT, "nextToken": self.STR}),
            ("describeJobExecution", {"jobId": j, "thingName": t},
             {"jobId": self.STR, "thingName": self.STR, "executionNumber": self.INT}),
            ("cancelJobExecution", {"jobId": j, "thingName": t},
             {"jobId": self.STR, "thingName": self.STR, "force": self.BOOL,
              "expectedVersion": self.INT, "statusDetails": self.OBJ + [{"k": 1}, {"k": None}]}),
            ("deleteJobExecution", {"jobId": j, "thingName": t, "executionNumber": 1, "force": True},
             {"jobId": self.STR, "thingName": self.STR, "executionNumber": self.INT,
              "force": self.BOOL}),
            ("listJobExecutionsForJob", {"jobId": j},
             {"jobId": self.STR, "status": self.STR, "maxResults": self.INT, "nextToken": self.STR}),
            ("listJobExecutionsForThing", {"thingName": t},
             {"thingName": self.STR, "status": self.STR, "namespaceId": self.STR,
              "maxResults": self.INT, "nextToken": self.STR}),
            ("createThingGroup", {"thingGroupName": None},
             {"thingGroupName": self.STR, "thingGroupProperties": self.OBJ + [{"thingGroupDescription": 5}]}),
            ("deleteThingGroup", {"thingGroupName": g}, {"thingGroupName": self.STR}),
            ("addThingToThingGroup", {"thingGroupName": g, "thingName": self.other_thing},
             {"thingGroupName": self.STR, "thingName": self.STR}),
            ("removeThingFromThingGroup", {"thingGroupName": g, "thingName": t},
             {"thingGroupName": self.STR, "thingName": self.STR}),
            ("listThingsInThingGroup", {"thingGroupName": g},
             {"thingGroupName": self.STR, "maxResults": self.INT, "nextToken": self.STR}),
            ("listThingGroups", {},
             {"namePrefixFilter": self.STR, "maxResults": self.INT, "nextToken": self.STR}),
        ]

    def test_wrong_types_for_every_field_of_every_command(self):
        before = self.state()
        created = {"jobId": [], "thingGroupName": []}
        for command, base, fields in self.typed_commands():
            batch = []
            for field, values in fields.items():
                for n, value in enumerate(values):
                    cmd = dict(base, command=command, correlationData=f"{command}.{field}.{n}")
                    for k in ("jobId", "thingGroupName"):
                        if cmd.get(k, "") is None:
                            cmd[k] = self.name("new")[:64]
                            created[k].append(cmd[k])
                    cmd[field] = value
                    batch.append(cmd)
            with self.subTest(command=command):
                self.refused(batch)
        for name in created["jobId"]:
            self.assert_error(self.mgmt("describeJob", jobId=name), "ResourceNotFoundException")
        for name in created["thingGroupName"]:
            self.assertEqual(self.mgmt_data("listThingGroups", namePrefixFilter=name)["thingGroups"], [])
        self.assertEqual(self.state(), before)

    def test_numbers_out_of_range_or_fractional(self):
        before = self.state()
        j, t, g = self.job_id, self.thing, self.group
        batch = []

        def add(command, base, field, values):
            for n, value in enumerate(values):
                batch.append(dict(base, command=command, correlationData=f"{command}.{field}.{n}",
                                  **{field: value}))

        sizes = [0, "0", 251, "251", -1, "-1", 1.5, 1e300, "12x", "9" * 30, 10 ** 400, 2 ** 63]
        for command, base in (("listJobs", {}), ("listJobExecutionsForJob", {"jobId": j}),
                              ("listJobExecutionsForThing", {"thingName": t}),
                              ("listThingsInThingGroup", {"thingGroupName": g}),
                              ("listThingGroups", {})):
            add(command, base, "maxResults", sizes)
            add(command, base, "nextToken", ["abc", "-1", "1.5", "", "1e3", "0x10"])
        numbers = [0, "0", -1, 0.5, 1.5, 1e300, "12x", "9" * 400, 10 ** 400, 2 ** 63]
        add("describeJobExecution", {"jobId": j, "thingName": t}, "executionNumber", numbers)
        add("deleteJobExecution", {"jobId": j, "thingName": t, "force": True}, "executionNumber", numbers)
        add("cancelJobExecution", {"jobId": j, "thingName": t}, "expectedVersion",
            [-1, "-1", 1.5, 1e300, -1e300, "12x", "9" * 400, 10 ** 400])
        create = {"jobId": None, "targets": [t], "document": {}}
        for field, inner, values in (
                ("timeoutConfig", "inProgressTimeoutInMinutes", [0, 10081, -2, 1.5, 1e300, "12x", 10 ** 400]),
                ("jobExecutionsRolloutConfig", "maximumPerMinute", [0, 1001, -1, 1.5, 1e300, "12x"])):
            for n, value in enumerate(values):
                cmd = dict(create, command="createJob", correlationData=f"{field}.{n}",
                           jobId=self.name("new"), **{field: {inner: value}})
                batch.append(cmd)
        self.refused(batch)
        for cmd in batch:
            if cmd["command"] == "createJob":
                self.assert_error(self.mgmt("describeJob", jobId=cmd["jobId"]), "ResourceNotFoundException")
        self.assertEqual(self.state(), before)
        # a token no listing could have returned: refused, or an empty page; never a crash
        for command, base in (("listJobs", {}), ("listJobExecutionsForJob", {"jobId": j}),
                              ("listThingGroups", {})):
            for token in ("9" * 30, str(2 ** 63 - 1), str(2 ** 63 - 2)):
                with self.subTest(command=command, nextToken=token):
                    resp = self.mgmt(command, nextToken=token, maxResults=250, **base)
                    if "error" in resp:
                        self.assert_error(resp)
                    else:
                        listed = [v for v in resp["data"].values() if isinstance(v, list)]
                        self.assertEqual(listed, [[]], resp)
                        self.assertNotIn("nextToken", resp["data"])
        self.assert_serving()

    def test_names_at_and_one_over_their_limits(self):
        thing = padded(self.name("t"), 128)
        j = padded(self.name("j"), 64)
        ns = padded(self.name("ns"), 64)
        group = padded(self.name("g"), 128)
        # one over first, while the name one shorter does not exist: nothing is cut down to it
        self.refused([{"command": "createJob", "jobId": j + "x", "targets": [thing], "document": {}},
                      {"command": "createJob", "jobId": j, "targets": [thing + "x"], "document": {}},
                      {"command": "createJob", "jobId": j, "targets": [thing], "document": {},
                       "namespaceId": ns + "x"},
                      {"command": "createThingGroup", "thingGroupName": group + "x"}])
        self.assert_error(self.mgmt("describeJob", jobId=j), "ResourceNotFoundException")
        self.assertEqual(self.mgmt_data("listThingGroups", namePrefixFilter=group)["thingGroups"], [])
        self.assertEqual(self.mgmt_data("listJobExecutionsForThing", thingName=thing)["executionSummaries"], [])
        # at the limits: accepted
        self.assertEqual(self.mgmt_data("createJob", jobId=j, targets=[thing], document={},
                                        namespaceId=ns)["jobId"], j)
        self.mgmt_data("createThingGroup", thingGroupName=group)
        self.mgmt_data("addThingToThingGroup", thingGroupName=group, thingName=thing)
        self.assertEqual(self.record(j, thing)["status"], "QUEUED")
        before = (self.mgmt("describeJob", jobId=j), self.record(j, thing),
                  self.mgmt("listThingsInThingGroup", thingGroupName=group))
        # one over, next to a real name
        self.refused([
            {"command": "describeJob", "jobId": j + "x"},
            {"command": "getJobDocument", "jobId": j + "x"},
            {"command": "cancelJob", "jobId": j + "x", "force": True},
            {"command": "deleteJob", "jobId": j + "x", "force": True},
            {"command": "describeJobExecution", "jobId": j, "thingName": thing + "x"},
            {"command": "cancelJobExecution", "jobId": j, "thingName": thing + "x", "force": True},
            {"command": "deleteJobExecution", "jobId": j, "thingName": thing + "x",
             "executionNumber": 1, "force": True},
            {"command": "listJobExecutionsForThing", "thingName": thing + "x"},
            {"command": "listJobExecutionsForJob", "jobId": j + "x"},
            {"command": "addThingToThingGroup", "thingGroupName": group, "thingName": thing + "x"},
            {"command": "removeThingFromThingGroup", "thingGroupName": group, "thingName": thing + "x"},
            {"command": "removeThingFromThingGroup", "thingGroupName": group + "x", "thingName": thing},
            {"command": "deleteThingGroup", "thingGroupName": group + "x"},
            {"command": "listThingsInThingGroup", "thingGroupName": group + "x"},
        ])
        self.assertEqual((self.mgmt("describeJob", jobId=j), self.record(j, thing),
                          self.mgmt("listThingsInThingGroup", thingGroupName=group)), before)
        # a namespace filter one over the limit finds nothing (or is refused)
        listed = [x["jobId"] for x in self.mgmt_data("listJobs", namespaceId=ns)["jobs"]]
        self.assertEqual(listed, [j])
        for command, fields in (("listJobs", {"namespaceId": ns + "x"}),
                                ("listJobExecutionsForThing", {"thingName": thing, "namespaceId": ns + "x"})):
            with self.subTest(command=command):
                resp = self.mgmt(command, **fields)
                if "error" in resp:
                    self.assert_error(resp)
                else:
                    listed = [v for v in resp["data"].values() if isinstance(v, list)]
                    self.assertEqual(listed, [[]], resp)

    def test_unknown_statuses_in_filters_and_fields(self):
        before = self.state()
        j, t = self.job_id, self.thing
        batch = []
        for status in ("BOGUS", "in_progress", "", " QUEUED", "QUEUED", "SUCCEEDED", "S" * 10000):
            batch.append({"command": "listJobs", "status": status})  # job statuses only
        for status in ("BOGUS", "queued", "", "IN-PROGRESS", "COMPLETED", "DELETION_IN_PROGRESS"):
            batch.append({"command": "listJobExecutionsForJob", "jobId": j, "status": status})
            batch.append({"command": "listJobExecutionsForThing", "thingName": t, "status": status})
        for selection in ("snapshot", "", "BOTH", "CONTINUOUS "):
            batch.append({"command": "listJobs", "targetSelection": selection})
            batch.append({"command": "createJob", "jobId": self.name("new"), "targets": [t],
                          "document": {}, "targetSelection": selection})
        self.refused(batch)
        self.assertEqual(self.state(), before)

    def test_status_details_limits_on_cancel_job_execution(self):
        before = self.state()
        batch = []
        cases = DeviceBadInputTest.BAD_DETAILS + [
            ("11 entries", {f"k{i}": "v" for i in range(11)})]
        for label, details in cases:
            for ascii_only in (True, False):
                batch.append((label, compact({"command": "cancelJobExecution", "jobId": self.job_id,
                                              "thingName": self.thing, "statusDetails": details},
                                             ascii_only)))
        for label, payload in batch:
            with self.subTest(label):
                [resp] = self.raw(b'{"commands":[' + payload + b"]}")
                self.assert_error(resp, label=label)
                self.assert_serving()
        self.assertEqual(self.state(), before)
        # the same command with ten valid entries goes through
        details = {f"k{i}": "v" * 1024 for i in range(10)}
        self.mgmt_data("cancelJobExecution", jobId=self.job_id, thingName=self.thing,
                       statusDetails=details)
        e = self.record(self.job_id, self.thing)
        self.assertEqual((e["status"], e["statusDetails"]), ("CANCELED", {"detailsMap": details}))

    # -- documents --

    def test_document_limits(self):
        before = self.state()
        t = self.thing
        cases = [
            ("32769 two-byte characters", compact({"d": "\u00e9" * (32769 - 8)}, False)),
            ("32769 two-byte characters, escaped", compact({"d": "\u00e9" * (32769 - 8)})),
            ("32769 astral characters", compact({"d": "\U0001F600" * (32769 - 8)}, False)),
            ("10000 keys", compact({f"k{i}": i for i in range(10000)})),
            ("2 MiB", compact({"d": "x" * (2 * MIB)})),
            ("a string over the limit", compact(json.dumps({"d": "x" * 40000}))),
            ("a string holding 2000 deep", compact('{"d":' + nested_arrays(2000) + "}")),
            ("a string holding non-JSON", compact("{'d': 1}")),
            # JSON numbers no double holds: refused rather than stored as something else
            ("a number out of double range", b'{"d":1e999}'),
            ("a negative number out of double range", b'{"d":-1e999}'),
            ("a string holding a number out of range", compact('{"d":1E400}')),
        ]
        for label, document in cases:
            job_id = self.name("doc")
            with self.subTest(label):
                envelope = (b'{"commands":[{"command":"createJob","jobId":"%s","targets":["%s"],'
                            b'"document":%s}]}' % (job_id.encode(), t.encode(), document))
                [resp] = self.raw(envelope)
                if "data" in resp:
                    stored = self.mgmt("getJobDocument", jobId=job_id).get("data", {}).get("document", "")
                    self.mgmt("deleteJob", jobId=job_id, force=True)  # keeps the checks below apart
                    self.fail(f"{label}: accepted, and stored as {stored[:120]}")
                self.assert_error(resp, label=label)
                self.assert_error(self.mgmt("describeJob", jobId=job_id), "ResourceNotFoundException")
                self.assert_serving()
        self.assertEqual(self.state(), before)
        # at the limit in characters, not bytes, and deep: accepted and given back unchanged
        for label, document in (("32768 two-byte characters", {"d": "\u00e9" * (32768 - 8)}),
                                ("900 deep", {"d": json.loads(nested_arrays(900))})):
            with self.subTest(label):
                job_id = self.name("doc")
                self.assertEqual(self.mgmt_data("createJob", jobId=job_id, targets=[self.other_thing],
                                                document=document)["jobId"], job_id)
                stored = self.mgmt_data("getJobDocument", jobId=job_id)["document"]
                self.assertEqual(json.loads(stored), document)
                self.mgmt_data("deleteJob", jobId=job_id, force=True)
        self.assertEqual(self.state(), before)

    # -- volume --

    def test_1000_commands_in_10_requests_are_answered_in_order(self):
        before_jobs = self.all_jobs()
        fresh = self.name("fresh")
        commands, expected = [], []
        for i in range(1000):
            kind = i % 5
            if i == 500:
                cmd, outcome = {"command": "createJob", "jobId": fresh, "targets": [self.other_thing],
                                "document": {"n": 500}}, "data"
            elif i == 501:
                cmd, outcome = {"command": "createJob", "jobId": fresh, "targets": [self.thing],
                                "document": {}}, "ResourceAlreadyExistsException"
            elif kind == 0:
                cmd, outcome = {"command": "describeJob", "jobId": self.job_id}, "data"
            elif kind == 1:
                cmd, outcome = {"command": "describeJob", "jobId": self.name("none")}, "ResourceNotFoundException"
            elif kind == 2:
                cmd, outcome = {"command": f"noSuchCommand{i}"}, "InvalidRequestException"
            elif kind == 3:
                cmd, outcome = {"command": "createJob", "jobId": f"{fresh}-{i}", "targets": [self.thing],
                                "document": 5}, "InvalidRequestException"
            else:
                cmd, outcome = {"command": "listThingGroups", "maxResults": 1}, "data"
            cmd["correlationData"] = i
            commands.append(cmd)
            expected.append(outcome)
        responses = self.control_in_requests(commands)
        self.assertEqual([r.get("correlationData") for r in responses], list(range(1000)))
        self.assertEqual([r["command"] for r in responses], [c["command"] for c in commands])
        got = ["data" if "data" in r else r["error"].split(":", 1)[0] for r in responses]
        self.assertEqual(got, expected)
        self.assertEqual(responses[0]["data"]["job"]["jobId"], self.job_id)
        after = self.all_jobs()
        self.assertEqual([x[0] for x in after], [x[0] for x in before_jobs] + [fresh])
        self.assertEqual(json.loads(self.mgmt_data("getJobDocument", jobId=fresh)["document"]), {"n": 500})
        self.assert_serving()

    def test_command_with_100kb_of_garbage_fields(self):
        before = self.state()
        garbage = {f"garbage{i}": "x" * 1000 for i in range(100)}
        garbage["nested"] = {"a": [{"b": "y" * 1000}] * 10, "deep": json.loads(nested_arrays(500))}
        corr = {"blob": "z" * 100000}
        # unknown fields are ignored by a read-only command, correlationData echoed whole
        [resp] = self.control(self.op, dict(garbage, command="describeJob", jobId=self.job_id,
                                            correlationData=corr))
        self.assertEqual(resp["correlationData"], corr)
        self.assertEqual(resp["data"]["job"]["jobId"], self.job_id)
        self.assertEqual(set(resp["data"]), {"job"})
        # 100 KB in the fields a command reads: refused, nothing changes
        self.refused([
            {"command": "cancelJob", "jobId": self.job_id, "comment": "c" * 100000},
            {"command": "cancelJob", "jobId": self.job_id, "reasonCode": "r" * 100000},
            {"command": "createJob", "jobId": self.name("g"), "targets": [self.thing],
             "document": {}, "description": "d" * 100000},
            {"command": "createJob", "jobId": "j" * 100000, "targets": [self.thing], "document": {}},
            {"command": "createJob", "jobId": self.name("g"), "targets": ["t" * 100000], "document": {}},
            {"command": "describeJobExecution", "jobId": self.job_id, "thingName": "t" * 100000},
            {"command": "createThingGroup", "thingGroupName": self.name("g"),
             "thingGroupProperties": {"thingGroupDescription": "d" * 100000}},
            {"command": "x" * 100000},
        ])
        self.assertEqual(self.state(), before)
        # and a mutating command with garbage beside valid fields does just its job
        [resp] = self.control(self.op, dict(garbage, command="cancelJobExecution", jobId=self.job_id,
                                            thingName=self.other_thing))
        self.assertEqual(resp.get("data"), {}, resp)
        e = self.record(self.job_id, self.other_thing)
        self.assertEqual((e["status"], e["statusDetails"]), ("CANCELED", {}))
        self.assertNotIn("garbage0", json.dumps(self.mgmt_data("describeJob", jobId=self.job_id)))
        self.assert_serving()


if __name__ == "__main__":
    unittest.main()
