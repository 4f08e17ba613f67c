#!/usr/bin/env python3
"""adapter.py - a complete secmx bus adapter in Python, with no C in the way.

It speaks the wire protocol of docs/protocol.md directly over pyzmq (Debian
package python3-zmq): HELLO, WELCOME, DELIVER, ACK, NACK, SUBMIT,
SUBMIT_RESULT, HEARTBEAT, ERROR, BYE; heartbeats both ways; reconnection
with back-off; CURVE when given keys.

What it does with a delivery: writes the document to OUTDIR as
<idempotency key>.xml (atomically: temporary file, fsync, rename) and ACKs.
A redelivery whose file already exists is ACKed without writing again: the
output directory is the idempotency record. A document that is not a
well-formed delivery (size mismatch) is NACKed permanently.

    adapter.py --endpoint ipc:///run/secmx/bus.sock --name records \\
               --pattern 'Invoice' --pattern 'CreditNote' --outdir /srv/in

Options for tests: --count N exits after N documents are in OUTDIR;
--crash-after K exits (status 3) right after writing the K-th document,
before its ACK, as a crash would; --submit FILE sends FILE as an outbound
document first and prints the server's answer.
Exit status: 0 done, 1 refused by the server, 2 usage, 3 simulated crash.
"""

import argparse
import json
import os
import re
import sys
import time

import zmq

PROTO_VERSION = 1
HELLO, WELCOME, DELIVER, ACK, NACK, SUBMIT, SUBMIT_RESULT, HEARTBEAT, ERROR, BYE = range(1, 11)
NAMES = {HELLO: "HELLO", WELCOME: "WELCOME", DELIVER: "DELIVER", ACK: "ACK", NACK: "NACK",
         SUBMIT: "SUBMIT", SUBMIT_RESULT: "SUBMIT_RESULT", HEARTBEAT: "HEARTBEAT",
         ERROR: "ERROR", BYE: "BYE"}
FRAMES = {WELCOME: 2, DELIVER: 3, SUBMIT_RESULT: 2, HEARTBEAT: 2, ERROR: 2, BYE: 2}
MAX_BODY = 64 * 1024
MAX_DOC = 16 * 1024 * 1024


class ProtocolError(Exception):
    """A message from the server that the protocol does not allow."""


def log(msg):
    print("adapter: " + msg, file=sys.stderr, flush=True)


def encode(mtype, body, doc=None):
    """Frames for one message: header, compact JSON body, optional document."""
    if doc is not None:
        body = dict(body, document_size=len(doc))
    frames = [bytes([0x53, 0x58, PROTO_VERSION, mtype]),
              json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")]
    if doc is not None:
        frames.append(doc)
    return frames


def _no_duplicates(pairs):
    obj = {}
    for key, value in pairs:
        if key in obj:
            raise ValueError("duplicate key " + key)
        obj[key] = value
    return obj


def decode(frames):
    """Check one message from the server strictly; return (type, body, doc)."""
    if not 2 <= len(frames) <= 3:
        raise ProtocolError("%d frames" % len(frames))
    head = frames[0]
    if len(head) != 4 or head[0:2] != b"SX":
        raise ProtocolError("bad header")
    if head[2] != PROTO_VERSION:
        raise ProtocolError("protocol version %d" % head[2])
    mtype = head[3]
    if mtype not in FRAMES:
        raise ProtocolError("type %d not sent by a server" % mtype)
    if len(frames) != FRAMES[mtype]:
        raise ProtocolError("%s with %d frames" % (NAMES[mtype], len(frames)))
    # A DELIVER's envelope may carry meta.original_b64 (the bytes received of
    # a document delivered signed): its body may be larger by that much.
    if len(frames[1]) > MAX_BODY + (4 * ((MAX_DOC + 2) // 3) if mtype == DELIVER else 0):
        raise ProtocolError("body too large")
    try:
        body = json.loads(frames[1].decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ProtocolError("body: %s" % exc) from None
    if not isinstance(body, dict):
        raise ProtocolError("body is not an object")
    doc = frames[2] if len(frames) == 3 else None
    if mtype == DELIVER:
        for field in ("delivery_id", "idempotency_key", "message_id", "document_type",
                      "received_at"):
            if not isinstance(body.get(field), str) or not body[field]:
                raise ProtocolError("DELIVER without " + field)
        if not isinstance(body.get("attempt"), int) or body["attempt"] < 1:
            raise ProtocolError("DELIVER without attempt")
        if body.get("document_size") != len(doc) or len(doc) > MAX_DOC:
            raise ProtocolError("document_size does not match the document")
    return mtype, body, doc


def read_key(path):
    with open(path, "rb") as fp:
        key = fp.read().strip()
    if len(key) != 40:
        raise SystemExit("adapter: %s: not a Z85 key" % path)
    return key


SAFE = re.compile(r"[^A-Za-z0-9._-]")


class Adapter:
    def __init__(self, args):
        self.args = args
        self.ctx = zmq.Context()
        self.sock = None
        self.ready = False
        self.heartbeat_s = 5.0
        self.dead_s = 15.0
        self.backoff = 0.1
        self.last_recv = self.last_send = self.hello_at = 0.0
        self.written = 0
        self.request_seq = 0
        self.sessions = 0

    # -- the session ---------------------------------------------------
    def connect(self):
        sock = self.ctx.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 2000)
        if self.args.server_key:
            sock.curve_serverkey = read_key(self.args.server_key)
            sock.curve_publickey = read_key(self.args.public_key)
            sock.curve_secretkey = read_key(self.args.secret_key)
        sock.connect(self.args.endpoint)
        self.sock = sock
        self.ready = False
        self.hello_at = self.last_recv = time.monotonic()
        self.send(HELLO, {"name": self.args.name, "patterns": self.args.pattern,
                          "credit": self.args.credit, "software": "adapter.py"})

    def reconnect(self, why):
        log("session down (%s); reconnecting in %.1f s" % (why, self.backoff))
        self.sock.close(linger=0)
        time.sleep(self.backoff)
        self.backoff = min(self.backoff * 2, 5.0)
        self.connect()

    def send(self, mtype, body, doc=None):
        self.sock.send_multipart(encode(mtype, body, doc))
        self.last_send = time.monotonic()

    def close(self):
        if self.sock is not None:
            if self.ready:
                self.send(BYE, {"reason": "adapter exiting"})
            self.sock.close()
        self.ctx.term()

    def poll_once(self, timeout_s):
        """Wait for one message (or a timer); return (type, body, doc) or None."""
        now = time.monotonic()
        if self.ready and now - self.last_send >= self.heartbeat_s:
            self.send(HEARTBEAT, {})
        if self.ready and now - self.last_recv >= self.dead_s:
            self.reconnect("server silent")
            return None
        if not self.ready and now - self.hello_at >= 5.0:
            self.reconnect("no WELCOME")
            return None
        wait = min(timeout_s, self.heartbeat_s / 2)
        if not self.sock.poll(int(wait * 1000)):
            return None
        frames = self.sock.recv_multipart()
        self.last_recv = time.monotonic()
        try:
            msg = decode(frames)
        except ProtocolError as exc:
            log("refused a message from the server: %s" % exc)
            return None
        mtype, body, _ = msg
        if mtype == WELCOME:
            self.ready = True
            self.sessions += 1
            self.backoff = 0.1
            self.heartbeat_s = body["heartbeat_ms"] / 1000.0
            self.dead_s = body["dead_ms"] / 1000.0
            log("session %s: credit %d, heartbeat %d ms" % (body["session"], body["credit"],
                                                           body["heartbeat_ms"]))
            return None
        if mtype == ERROR:
            log("ERROR %s: %s" % (body.get("code"), body.get("message")))
            if not self.ready and body.get("code") in ("refused", "version", "schema"):
                raise SystemExit(1)
            if body.get("code") in ("state", "replaced", "busy"):
                self.reconnect("ERROR " + body["code"])
            return None
        if mtype == BYE:
            self.reconnect("BYE: %s" % body.get("reason", ""))
            return None
        if mtype == HEARTBEAT:
            return None
        return msg

    # -- the work ------------------------------------------------------
    def handle(self, env, doc):
        path = os.path.join(self.args.outdir, SAFE.sub("_", env["idempotency_key"]) + ".xml")
        if os.path.exists(path):
            log("%s attempt %d: already written, ACK" % (env["delivery_id"], env["attempt"]))
            return ACK, None
        tmp = path + ".tmp"
        with open(tmp, "wb") as fp:
            fp.write(doc)
            fp.flush()
            os.fsync(fp.fileno())
        os.rename(tmp, path)
        self.written += 1
        if self.args.crash_after and self.written == self.args.crash_after:
            log("simulating a crash after %d documents" % self.written)
            os._exit(3)
        return ACK, None

    def submit(self, path, key):
        with open(path, "rb") as fp:
            doc = fp.read()
        deadline = time.monotonic() + 10
        sent_session = 0
        request_id = None
        while time.monotonic() < deadline:
            if self.ready and sent_session != self.sessions:
                self.request_seq += 1
                request_id = "py%d" % self.request_seq
                self.send(SUBMIT, {"request_id": request_id, "idempotency_key": key}, doc)
                sent_session = self.sessions
            msg = self.poll_once(0.2)
            if msg and msg[0] == SUBMIT_RESULT and msg[1]["request_id"] == request_id:
                return msg[1]
            if msg and msg[0] == DELIVER:
                self.deliver(msg)
        raise SystemExit("adapter: no SUBMIT_RESULT")

    def deliver(self, msg):
        _, env, doc = msg
        verdict, reason = self.handle(env, doc)
        if verdict == ACK:
            self.send(ACK, {"delivery_id": env["delivery_id"]})
        else:
            self.send(NACK, {"delivery_id": env["delivery_id"], "kind": verdict,
                             "reason": reason})

    def done(self):
        if not self.args.count:
            return False
        return len([n for n in os.listdir(self.args.outdir) if n.endswith(".xml")]) >= \
            self.args.count

    def run(self):
        self.connect()
        if self.args.submit:
            res = self.submit(self.args.submit, self.args.submit_key)
            print("submit: %s %s" % (res["status"], res.get("message_id", res.get("reason"))),
                  flush=True)
        deadline = time.monotonic() + self.args.timeout
        while time.monotonic() < deadline and not self.done():
            msg = self.poll_once(0.5)
            if msg and msg[0] == DELIVER:
                self.deliver(msg)
        ok = self.done() or not self.args.count
        self.close()
        return 0 if ok else 1


def main():
    p = argparse.ArgumentParser(description="a secmx bus adapter that files documents")
    p.add_argument("--endpoint", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--pattern", action="append", required=True)
    p.add_argument("--credit", type=int, default=8)
    p.add_argument("--outdir", required=True)
    p.add_argument("--count", type=int, default=0)
    p.add_argument("--timeout", type=float, default=3600.0)
    p.add_argument("--crash-after", type=int, default=0)
    p.add_argument("--submit")
    p.add_argument("--submit-key", default="adapter.py-submit-1")
    p.add_argument("--server-key", help="server public key file (enables CURVE)")
    p.add_argument("--public-key")
    p.add_argument("--secret-key")
    args = p.parse_args()
    if args.server_key and not (args.public_key and args.secret_key):
        p.error("CURVE needs --public-key and --secret-key too")
    if not 1 <= args.credit <= 1024:
        p.error("--credit must be 1..1024")
    os.makedirs(args.outdir, exist_ok=True)
    return Adapter(args).run()


if __name__ == "__main__":
    sys.exit(main())
