"""Raw HTTP/1.1 probes that a request-smuggling or parser attack is built from, and a raw
client that reports every answer on the connection (a smuggled request shows up as a
second answer). Used against each service (test_http_hardening) and the gateway
(test_gateway)."""
import json
import socket

LOGIN = b"/api/v1/auth/login"

# name -> (request bytes, the status a service answers with). Each refused probe also
# carries a request after it that must never be answered.
TAIL = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
PROBES = {
    "two Content-Length": (
        b"POST " + LOGIN + b" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 2\r\nContent-Length: 36\r\n\r\n{}" + TAIL, 400),
    "Content-Length +2": (
        b"POST " + LOGIN + b" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: +2\r\n\r\n{}" + TAIL, 400),
    "no Host": (b"GET /health HTTP/1.1\r\n\r\n" + TAIL, 400),
    "two Hosts": (b"GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n" + TAIL, 400),
    "space before colon": (b"GET /health HTTP/1.1\r\nHost : x\r\n\r\n" + TAIL, 400),
    "obs-fold": (b"GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n" + TAIL, 400),
    "chunk extension": (
        b"POST " + LOGIN + b" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n2;ext=1\r\n{}\r\n0\r\n\r\n" + TAIL, 411),
    "TE and CL": (
        b"POST " + LOGIN + b" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}" + TAIL, 400),
    "huge version": (b"GET /health HTTP/1.99999999999\r\nHost: x\r\n\r\n" + TAIL, 400),
    "malformed request line": (b"\x16\x03\x01 hello\r\n\r\n" + TAIL, 501),
    "header over 32 KiB": (
        b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 40000 + b"\r\n\r\n", 431),
    "unknown expectation": (b"GET /health HTTP/1.1\r\nHost: x\r\nExpect: tea\r\n\r\n" + TAIL, 417),
    "body over the limit": (
        b"POST " + LOGIN + b" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 2000000\r\n\r\n{", 413),
}


def exchange(port, data, timeout=5.0):
    """Sends `data` on one connection and reads until the server closes it or goes quiet.
    Returns (answers, closed): answers as (status, headers dict lowercased, body bytes)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    got, closed = b"", False
    try:
        try:
            s.sendall(data)
        except OSError:
            pass  # the server may refuse before reading everything
        s.settimeout(1.5)
        while True:
            try:
                b = s.recv(65536)
            except socket.timeout:
                break
            except OSError:
                closed = True
                break
            if not b:
                closed = True
                break
            got += b
    finally:
        s.close()
    return split_answers(got), closed


def split_answers(data):
    answers = []
    while data.startswith(b"HTTP/1."):
        head, sep, rest = data.partition(b"\r\n\r\n")
        if not sep:
            break
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ")[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(b":")
            headers[k.strip().lower().decode()] = v.strip().decode("latin-1")
        n = int(headers.get("content-length", "0"))
        answers.append((status, headers, rest[:n]))
        data = rest[n:]
    return answers


def assert_problem(test, answer, status=None):
    got, headers, body = answer
    if status is not None:
        test.assertEqual(got, status, body)
    test.assertEqual(headers.get("content-type"), "application/problem+json", body)
    doc = json.loads(body)
    test.assertEqual(doc["status"], got)
    test.assertTrue(doc.get("detail"))
