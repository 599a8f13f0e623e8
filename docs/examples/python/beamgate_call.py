#!/usr/bin/env python3
"""A beamgate client in Python, over the native protocol (docs/client-guide.md, section 3).

Generate the message classes first (Debian: protobuf-compiler, python3-protobuf):

    protoc -I client/src/main/proto --python_out=GEN beamgate/v1/gateway.proto

then:

    PYTHONPATH=GEN python3 beamgate_call.py --gateway HOST:PORT --cert C --key K --ca CA \
        MODULE FUNCTION [ARG ...]

Each ARG is an integer, :atom, or text (sent as a binary). The result is printed as
`ok <term>`; a refusal or failure as `error <CODE> <message>` with exit status 1.
"""
import argparse
import socket
import ssl
import sys

from beamgate.v1 import gateway_pb2 as pb


def frame(msg):
    """A message behind its length as a base-128 varint (the protocol's framing)."""
    body = msg.SerializeToString()
    n, head = len(body), bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        head.append(b | (0x80 if n else 0))
        if not n:
            return bytes(head) + body


def read_frame(sock):
    n, shift = 0, 0
    while True:
        b = sock.recv(1)
        if not b:
            raise ConnectionError("the gateway closed the connection")
        n |= (b[0] & 0x7F) << shift
        shift += 7
        if not b[0] & 0x80:
            break
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("the gateway closed the connection")
        data += chunk
    f = pb.ServerFrame()
    f.ParseFromString(data)
    return f


def to_term(text):
    t = pb.Term()
    if text.startswith(":"):
        t.atom = text[1:]
    else:
        try:
            t.int = int(text)
        except ValueError:
            t.binary = text.encode("utf-8")
    return t


def show(t):
    kind = t.WhichOneof("kind")
    if kind == "atom":
        return t.atom
    if kind in ("int", "float"):
        return repr(getattr(t, kind))
    if kind == "binary":
        return "<<" + repr(t.binary.decode("utf-8", "replace")) + ">>"
    if kind == "charlist":
        return repr(t.charlist)
    if kind == "list":
        items = [show(e) for e in t.list.elements]
        tail = " | " + show(t.list.tail) if t.list.HasField("tail") else ""
        return "[" + ", ".join(items) + tail + "]"
    if kind == "tuple":
        return "{" + ", ".join(show(e) for e in t.tuple.elements) + "}"
    if kind == "map":
        return "#{" + ", ".join(show(e.key) + " => " + show(e.value)
                                for e in t.map.entries) + "}"
    return str(t).strip()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--gateway", required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("module")
    p.add_argument("function")
    p.add_argument("args", nargs="*")
    a = p.parse_args()
    host, port = a.gateway.rsplit(":", 1)
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=a.ca)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(a.cert, a.key)
    ctx.set_alpn_protocols(["beamgate/1"])
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname=host) as s:
            if s.selected_alpn_protocol() != "beamgate/1":
                print("error CONNECTION the gateway does not speak beamgate/1")
                return 1
            call = pb.Call(module=a.module, function=a.function,
                           args=[to_term(x) for x in a.args])
            s.sendall(frame(pb.ClientFrame(id=1, call=call)))
            f = read_frame(s)
            if f.WhichOneof("response") == "result":
                print("ok " + show(f.result))
                return 0
            print("error " + pb.Error.Code.Name(f.error.code) + " " + f.error.message)
            return 1


if __name__ == "__main__":
    sys.exit(main())
