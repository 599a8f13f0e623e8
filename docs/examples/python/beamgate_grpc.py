#!/usr/bin/env python3
"""A beamgate client in Python over gRPC (docs/grpc-guide.md): the gateway's service
beamgate.v1.Gateway on the gateway's port (ALPN h2), with Debian's python3-grpcio.

Generate the messages and the stub first (Debian: protobuf-compiler, protobuf-compiler-grpc,
python3-grpcio, python3-protobuf):

    protoc -I client/src/main/proto --python_out=GEN --grpc_python_out=GEN \
        --plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin beamgate/v1/gateway.proto

then:

    PYTHONPATH=GEN python3 beamgate_grpc.py --gateway HOST:PORT --cert C --key K --ca CA \
        [--deadline-ms MS] MODULE FUNCTION [ARG ...]
    PYTHONPATH=GEN python3 beamgate_grpc.py --gateway HOST:PORT --cert C --key K --ca CA --ping
    PYTHONPATH=GEN python3 beamgate_grpc.py --gateway HOST:PORT --cert C --key K --ca CA --health

Each ARG is an integer, :atom, or text (sent as a binary). The result is printed as
`ok <term>`; a refusal or failure as `error <CODE> <message>` (CODE: the gateway's error code,
from the `beamgate-error-bin` trailer, the same as the native protocol's) with exit status 1.
"""
import argparse
import sys

import grpc

from beamgate.v1 import gateway_pb2 as pb
from beamgate.v1 import gateway_pb2_grpc as pb_grpc
from beamgate_call import show, to_term


def gateway_error(e):
    """The beamgate.v1.Error in an RPC's trailers, or None."""
    for key, value in e.trailing_metadata() or ():
        if key == "beamgate-error-bin":
            err = pb.Error()
            err.ParseFromString(value)
            return err
    return None


def health(channel):
    """grpc.health.v1.Health/Check for the whole server. The request (service "") encodes to
    no bytes and the answer is one enum field, so no generated health module is needed."""
    check = channel.unary_unary("/grpc.health.v1.Health/Check",
                                request_serializer=lambda _: b"",
                                response_deserializer=lambda b: b[1] if len(b) >= 2 else 0)
    status = check(None, timeout=10)
    return {0: "UNKNOWN", 1: "SERVING", 2: "NOT_SERVING"}.get(status, str(status))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--gateway", required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--deadline-ms", type=int, default=30000)
    p.add_argument("--ping", action="store_true")
    p.add_argument("--health", action="store_true")
    p.add_argument("module", nargs="?")
    p.add_argument("function", nargs="?")
    p.add_argument("args", nargs="*")
    a = p.parse_args()

    def read(path):
        with open(path, "rb") as f:
            return f.read()

    creds = grpc.ssl_channel_credentials(root_certificates=read(a.ca),
                                         private_key=read(a.key),
                                         certificate_chain=read(a.cert))
    with grpc.secure_channel(a.gateway, creds) as channel:
        if a.health:
            print("health " + health(channel))
            return 0
        stub = pb_grpc.GatewayStub(channel)
        try:
            if a.ping:
                pong = stub.Ping(pb.Ping(), timeout=a.deadline_ms / 1000)
                print("pong " + pong.principal)
                return 0
            call = pb.Call(module=a.module, function=a.function,
                           args=[to_term(x) for x in a.args])
            result = stub.Call(call, timeout=a.deadline_ms / 1000)
            print("ok " + show(result))
            return 0
        except grpc.RpcError as e:
            err = gateway_error(e)
            if err is not None:
                print("error " + pb.Error.Code.Name(err.code) + " " + err.message)
            else:  # the client's own deadline, or no connection: gRPC's status alone
                print("error " + e.code().name + " " + str(e.details()))
            return 1


if __name__ == "__main__":
    sys.exit(main())
