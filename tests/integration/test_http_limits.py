"""The HTTP API under a large fleet and an attacker (docs/http-api.md, "Connections and
slow clients"): it keeps answering with thousands of MQTT clients connected and with
thousands of unfinished requests held open, cuts a request that trickles in, and
refuses ambiguous message framing. Loopback only; every loop is bounded."""
import json
import socket
import time
import unittest

from harness import SharedBrokerTest, free_port

MQTT_CONNECT_311 = bytes([0x10, 0x0c, 0x00, 0x04]) + b"MQTT" + bytes([0x04, 0x02, 0x00, 0x3c, 0x00, 0x00])


def http_request(port, raw, timeout=10.0, source="127.0.0.1"):
    """Sends raw bytes, returns (status, headers text, body) of the answer."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=(source, 0))
    try:
        s.sendall(raw)
        data = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
            head, sep, body = data.partition(b"\r\n\r\n")
            if sep:
                length = [int(l.split(b":")[1]) for l in head.split(b"\r\n")
                          if l.lower().startswith(b"content-length:")]
                if length and len(body) >= length[0]:
                    break
    finally:
        s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1]) if head.startswith(b"HTTP/1.1 ") else None
    return status, head.decode(), body


class HttpLimitsTest(SharedBrokerTest):
    """A listener with a short request deadline, so the cut is seen quickly."""

    @classmethod
    def setUpClass(cls):
        cls.http_port = free_port()
        cls.options = {"http_listen": f"127.0.0.1:{cls.http_port}", "http_request_timeout": "2",
                       "http_unsigned_identity": "lab-1"}
        super().setUpClass()

    def start_next(self):
        """StartNextPendingJobExecution for a thing without jobs: 200 and {}."""
        return http_request(self.http_port, b"PUT /things/lab-1/jobs/$next HTTP/1.1\r\nHost: x\r\n"
                            b"Content-Length: 2\r\nConnection: close\r\n\r\n{}")

    def test_answers_with_2000_mqtt_clients_connected(self):
        # each holds a socket in the broker: the HTTP sockets that follow are numbered
        # past 1024, which select() cannot watch
        clients = []
        try:
            for _ in range(2000):
                s = socket.create_connection(("127.0.0.1", self.broker.port), timeout=10)
                s.sendall(MQTT_CONNECT_311)
                clients.append(s)
            connacks = sum(1 for s in clients if s.recv(4)[:1] == b"\x20")
            self.assertEqual(connacks, 2000)
            for _ in range(3):
                status, _, body = self.start_next()
                self.assertEqual(status, 200, body)
                self.assertEqual(json.loads(body), {})
        finally:
            for s in clients:
                s.close()

    def test_2000_unfinished_requests_do_not_lock_out_a_client(self):
        # an attacker on 30 loopback addresses opens 2,000 connections and never
        # finishes a request's headers
        attackers = []
        try:
            for i in range(2000):
                source = f"127.0.0.{2 + i % 30}"
                try:
                    s = socket.create_connection(("127.0.0.1", self.http_port), timeout=10,
                                                 source_address=(source, 0))
                    s.sendall(b"GET /jobs HTTP/1.1\r\nHost: x\r\n")
                    attackers.append(s)
                except OSError:
                    pass   # refused: the per-address limit
            self.assertGreater(len(attackers), 1000)
            # a client still gets its answer, at once, many times over
            for _ in range(5):
                status, _, body = self.start_next()
                self.assertEqual(status, 200, body)
        finally:
            for s in attackers:
                s.close()

    def test_a_request_trickling_in_is_cut_at_its_deadline(self):
        s = socket.create_connection(("127.0.0.1", self.http_port), timeout=30)
        start = time.monotonic()
        s.sendall(b"GET /jobs HTTP/1.1\r\n")
        closed = False
        try:
            # a header byte every 0.2 s: libmicrohttpd's idle timeout alone never fires
            for _ in range(150):
                time.sleep(0.2)
                s.sendall(b"X")
        except OSError:
            closed = True
        if not closed:
            s.settimeout(5)
            try:
                closed = s.recv(1) == b""
            except OSError:
                closed = True
        elapsed = time.monotonic() - start
        s.close()
        self.assertTrue(closed, "a trickling request was never cut")
        self.assertGreaterEqual(elapsed, 1.5, "cut before its deadline")
        self.assertLess(elapsed, 30)

    def test_body_length_said_twice_differently_is_refused(self):
        status, head, body = http_request(self.http_port,
            b"PUT /jobs/x HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}")
        self.assertEqual(status, 400, head)
        self.assertIn("two different Content-Length", json.loads(body)["message"])

    def test_body_length_and_chunked_together_is_refused(self):
        status, head, body = http_request(self.http_port,
            b"PUT /jobs/x HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"2\r\n{}\r\n0\r\n\r\n")
        self.assertEqual(status, 400, head)
        self.assertIn("both Content-Length and Transfer-Encoding", json.loads(body)["message"])

    def test_the_same_length_twice_is_accepted(self):
        status, head, body = http_request(self.http_port,
            b"PUT /things/lab-1/jobs/$next HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 2\r\n"
            b"Connection: close\r\n\r\n{}")
        self.assertEqual(status, 200, head + body.decode())


if __name__ == "__main__":
    unittest.main()
