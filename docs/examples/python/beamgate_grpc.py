#!/usr/bin/env python3
"""A beamgate client in Python over gRPC (docs/grpc-guide.md): the gateway's service
beamgate.v1.Gateway on the gateway's port (ALPN h2), with Debian's python3-grpcio.

Generate the messages and the stub first (Debian: protobuf-compiler, protobuf-compiler-grpc,
python3-grpcio, python3-protobuf):

    protoc -I client/src/main/proto --python_out=GEN --grpc_python_out=GEN \
        --plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin beamgate/v1/gateway.proto

then:

    PYTHONPATH=GEN python3 beamgate_grpc.py --gateway HOST:PORT[,HOST:PORT...] --cert C \
        --key K --ca CA [--deadline-ms MS] [--idempotent] MODULE FUNCTION [ARG ...]
    PYTHONPATH=GEN python3 beamgate_grpc.py --gateway HOST:PORT --cert C --key K --ca CA --ping
    PYTHONPATH=GEN python3 beamgate_grpc.py --gateway HOST:PORT --cert C --key K --ca CA --health

Each ARG is an integer, :atom, or text (sent as a binary). The result is printed as
`ok <term>`; a refusal or failure as `error <CODE> <message>` (CODE: the gateway's error code,
from the `beamgate-error-bin` trailer, the same as the native protocol's) with exit status 1.

Several gateways: `GatewayClient` keeps a channel to each (with `--every-address`, a DNS name
with several records is balanced round robin over all its addresses by gRPC's resolver, which
resolves it again when connections fail), detects a dead gateway with gRPC's keepalive, spreads
calls round robin over the channels that are up, and calls another gateway only when that
cannot run a request twice (the native client's rules, beamgate_call.Client).
"""
import argparse
import itertools
import json
import sys
import threading
import time

import grpc

from beamgate.v1 import gateway_pb2 as pb
from beamgate.v1 import gateway_pb2_grpc as pb_grpc
from beamgate_call import GatewayError, retryable, show, to_term


def gateway_error(e):
    """The beamgate.v1.Error in an RPC's trailers, or None."""
    for key, value in e.trailing_metadata() or ():
        if key == "beamgate-error-bin":
            err = pb.Error()
            err.ParseFromString(value)
            return err
    return None


def channel_options(every_address, keepalive_interval, keepalive_timeout, reconnect_max):
    """gRPC channel arguments: keepalive pings while calls are in flight (a silent gateway is
    given up after keepalive_timeout) and, with every_address, round robin over every address
    of the host name (gRPC's default, pick_first, uses one)."""
    opts = [("grpc.keepalive_time_ms", int(keepalive_interval * 1000)),
            ("grpc.keepalive_timeout_ms", int(keepalive_timeout * 1000)),
            ("grpc.keepalive_permit_without_calls", 0),
            ("grpc.max_reconnect_backoff_ms", int(reconnect_max * 1000))]
    if every_address:
        opts.append(("grpc.service_config",
                     json.dumps({"loadBalancingConfig": [{"round_robin": {}}]})))
    return opts


class GatewayClient:
    """Calls over several gateways ("host:port" each), one gRPC channel to each. A failed
    request goes to another gateway (at most max_attempts in all, within its deadline) only
    when it cannot run twice: never executed (the gateway said UNAVAILABLE or CLOSING, or the
    channel was not connected), or its outcome unknown (OUTCOME_UNKNOWN from the gateway, or
    the connection lost with it in flight) and it is a ping or an idempotent call, which the
    gateway admits only under a rule marked `idempotent: true`. Any other call whose outcome
    is unknown raises GatewayError OUTCOME_UNKNOWN, once."""

    def __init__(self, gateways, credentials, every_address=False, max_attempts=3,
                 keepalive_interval=10.0, keepalive_timeout=20.0, reconnect_max=5.0):
        if not 1 <= max_attempts <= 16:
            raise ValueError(f"max_attempts: {max_attempts} (expected: 1..16)")
        opts = channel_options(every_address, keepalive_interval, keepalive_timeout,
                               reconnect_max)
        self.channels = [grpc.secure_channel(g, credentials, options=opts) for g in gateways]
        self.stubs = [pb_grpc.GatewayStub(c) for c in self.channels]
        self.states = [None] * len(self.channels)
        self.max_attempts = max_attempts
        self.next = itertools.count()
        self.lock = threading.Lock()
        for i, c in enumerate(self.channels):
            c.subscribe(lambda state, i=i: self._state(i, state), try_to_connect=True)

    def _state(self, i, state):
        self.states[i] = state
        if state == grpc.ChannelConnectivity.IDLE:
            # A channel goes idle after the gateway closed an idle connection, and stays so
            # until asked to connect; requests only go to connected channels: ask now.
            grpc.channel_ready_future(self.channels[i])

    def connected(self):
        """How many gateways' channels are connected now."""
        return sum(1 for s in self.states if s == grpc.ChannelConnectivity.READY)

    def close(self):
        for c in self.channels:
            c.close()

    def _pick(self, tried):
        """A connected channel not tried yet, else one tried (a request that never ran may go
        back to it), starting one further each time; None when none is connected. Requests
        go only to connected channels, so that a lost connection means a request in flight."""
        n = len(self.channels)
        with self.lock:
            start = next(self.next) % n
        ready = [i for i in ((start + k) % n for k in range(n))
                 if self.states[i] == grpc.ChannelConnectivity.READY]
        fresh = [i for i in ready if i not in tried]
        return (fresh or ready or [None])[0]

    def _attempts(self, method, request, deadline_s, safe):
        deadline = time.monotonic() + deadline_s
        tried, last = [], None
        while True:
            i = self._pick(tried)
            if i is None:  # none connected: wait for one, within the deadline
                if time.monotonic() >= deadline:
                    raise last or GatewayError("CONNECTION", "no gateway was up in time")
                time.sleep(0.02)
                continue
            tried.append(i)
            try:
                return getattr(self.stubs[i], method)(
                    request, timeout=max(0.001, deadline - time.monotonic()))
            except grpc.RpcError as e:
                last = error_of(e, method)
                if not (retryable(last.code, safe) and len(tried) < self.max_attempts
                        and time.monotonic() < deadline):
                    raise last from None

    def call(self, module, function, args=(), deadline_s=30.0, idempotent=False):
        """module:function(*args): the result Term, or GatewayError."""
        return self._attempts("Call", pb.Call(module=module, function=function,
                                              args=list(args), idempotent=idempotent),
                              deadline_s, idempotent)

    def ping(self, deadline_s=30.0):
        return self._attempts("Ping", pb.Ping(), deadline_s, True)


def error_of(e, method):
    """The GatewayError of a failed RPC: the gateway's own Error when it sent one; else gRPC's
    status, where UNAVAILABLE (sent on a connected channel) is a lost connection: a call's
    outcome is unknown."""
    err = gateway_error(e)
    if err is not None:
        return GatewayError(pb.Error.Code.Name(err.code), err.message)
    code = e.code().name
    if code == "UNAVAILABLE":
        if method == "Call":
            return GatewayError("OUTCOME_UNKNOWN", "the connection to the gateway was lost "
                                "with the call in flight: it may or may not have run ("
                                + str(e.details()) + ")")
        return GatewayError("CONNECTION", str(e.details()))
    return GatewayError(code, str(e.details()))


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
    p.add_argument("--gateway", required=True, help="host:port, or several, comma-separated")
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--deadline-ms", type=int, default=30000)
    p.add_argument("--ping", action="store_true")
    p.add_argument("--health", action="store_true")
    p.add_argument("--idempotent", action="store_true",
                   help="the call may run twice (rule: idempotent: true)")
    p.add_argument("--every-address", action="store_true",
                   help="round robin over every address of each host name")
    p.add_argument("--max-attempts", type=int, default=3)
    p.add_argument("--keepalive-interval", type=float, default=10.0, help="seconds")
    p.add_argument("--keepalive-timeout", type=float, default=20.0, help="seconds")
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
    if a.health:
        with grpc.secure_channel(a.gateway.split(",")[0], creds) as channel:
            print("health " + health(channel))
            return 0
    client = GatewayClient(a.gateway.split(","), creds, every_address=a.every_address,
                           max_attempts=a.max_attempts,
                           keepalive_interval=a.keepalive_interval,
                           keepalive_timeout=a.keepalive_timeout)
    try:
        if a.ping:
            print("pong " + client.ping(a.deadline_ms / 1000).principal)
            return 0
        result = client.call(a.module, a.function, [to_term(x) for x in a.args],
                             a.deadline_ms / 1000, a.idempotent)
        print("ok " + show(result))
        return 0
    except GatewayError as e:
        # the gateway's code; or gRPC's status (the client's own deadline, no connection)
        print("error " + e.code + " " + e.message)
        return 1
    finally:
        client.close()


if __name__ == "__main__":
    sys.exit(main())
