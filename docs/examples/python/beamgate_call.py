#!/usr/bin/env python3
"""A beamgate client in Python, over the native protocol (docs/client-guide.md, section 3).

Generate the message classes first (Debian: protobuf-compiler, python3-protobuf):

    protoc -I client/src/main/proto --python_out=GEN beamgate/v1/gateway.proto

then:

    PYTHONPATH=GEN python3 beamgate_call.py --gateway HOST:PORT[,HOST:PORT...] \
        --cert C --key K --ca CA [--idempotent] MODULE FUNCTION [ARG ...]

Each ARG is an integer, :atom, or text (sent as a binary). The result is printed as
`ok <term>`; a refusal or failure as `error <CODE> <message>` with exit status 1.

As a library (asyncio): `Client` keeps a connection to each of several gateways, spreads
requests over those up and sends a request to another gateway only when that cannot run it
twice (see Client). `python3 beamgate_call.py --help` lists the options.
"""
import argparse
import asyncio
import random
import socket
import ssl
import sys
import time

from beamgate.v1 import gateway_pb2 as pb

ALPN = "beamgate/1"


class GatewayError(Exception):
    """A refusal or failure: `code` is the protocol's Error.Code name (PERMISSION_DENIED,
    OUTCOME_UNKNOWN...) or the client's own CONNECTION, TLS or CLOSED."""

    def __init__(self, code, message):
        super().__init__(code + " " + message)
        self.code = code
        self.message = message


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


async def read_frame(reader, max_bytes):
    n, shift = 0, 0
    for _ in range(5):
        b = (await reader.readexactly(1))[0]
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            break
    else:
        raise GatewayError("PROTOCOL_ERROR", "a frame length that is not a varint")
    if n > max_bytes:  # checked before the body is read
        raise GatewayError("FRAME_TOO_LARGE", f"an answer of {n} bytes (expected: <= "
                                              f"{max_bytes})")
    f = pb.ServerFrame()
    f.ParseFromString(await reader.readexactly(n))
    return f


class Connection:
    """One TLS connection to one gateway: many requests in flight, each answered once. When
    it is lost, every request in flight fails at once: calls with OUTCOME_UNKNOWN (they may
    have run), pings with CONNECTION. With requests in flight, a connection silent for
    `keepalive_interval` seconds is pinged, and one silent for `keepalive_timeout` is given
    up: a partition that drops packets would otherwise hold every call to its own timeout."""

    def __init__(self, reader, writer, name, opts, on_lost):
        self.reader, self.writer, self.name, self.opts = reader, writer, name, opts
        self.on_lost = on_lost
        self.pending = {}  # id -> (kind, future)
        self.next_id = 1
        self.down = None
        self.closing = None  # the gateway's Error with id 0: why it closes
        self.last_read = time.monotonic()
        self.ka_ping = 0
        self.tasks = [asyncio.create_task(self._read_loop()),
                      asyncio.create_task(self._keepalive())]

    @classmethod
    async def open(cls, host, port, addr, ctx, opts, on_lost):
        name = f"{host}:{port}" + (f" ({addr})" if addr else "")
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(
                addr or host, port, ssl=ctx, server_hostname=host), opts["connect_timeout"])
        except (OSError, asyncio.TimeoutError) as e:
            code = "TLS" if isinstance(e, ssl.SSLError) else "CONNECTION"
            raise GatewayError(code, f"cannot connect to the gateway {name}: {e!r}") from e
        if writer.get_extra_info("ssl_object").selected_alpn_protocol() != ALPN:
            writer.close()
            raise GatewayError("CONNECTION", f"the gateway {name} does not speak {ALPN}")
        return cls(reader, writer, name, opts, on_lost)

    def _send(self, frame_id, **request):
        self.writer.write(frame(pb.ClientFrame(id=frame_id, **request)))

    async def request(self, kind, timeout, **request):
        """Sends one request ({kind: message}) and waits for its answer (a ServerFrame)."""
        if self.down:
            raise GatewayError("CONNECTION", f"the connection to {self.name} is down: "
                                             f"{self.down}")
        if not self.pending:
            self.last_read = time.monotonic()  # silence counts from when requests are out
        rid, self.next_id = self.next_id, self.next_id + 1
        fut = asyncio.get_running_loop().create_future()
        self.pending[rid] = (kind, fut)
        self._send(rid, **request)
        try:
            return await asyncio.wait_for(asyncio.shield(fut), timeout)
        except asyncio.TimeoutError:
            if self.pending.pop(rid, None) is not None and not self.down:
                self._send(self.next_id, cancel=pb.Cancel(target=rid))
                self.next_id += 1
            raise GatewayError("TIMEOUT", "no answer in time; the request may still have "
                                          "run (a cancel was sent)") from None

    async def _read_loop(self):
        try:
            while True:
                f = await read_frame(self.reader, self.opts["max_frame_bytes"])
                self.last_read = time.monotonic()
                if f.id == 0 and f.WhichOneof("response") == "error":
                    self.closing = f.error
                elif f.id == self.ka_ping:
                    self.ka_ping = 0
                elif f.id in self.pending:
                    self.pending.pop(f.id)[1].set_result(f)
        except GatewayError as e:
            self.lost(e.message, e.code)
        except ssl.SSLError as e:
            self.lost(f"TLS: {e.reason}", "TLS")  # a refused certificate shows here
        except (OSError, asyncio.IncompleteReadError, EOFError) as e:
            self.lost(f"closed by the gateway ({e.__class__.__name__})")

    async def _keepalive(self):
        interval, timeout = self.opts["keepalive_interval"], self.opts["keepalive_timeout"]
        while not self.down:
            await asyncio.sleep(min(interval, timeout) / 2)
            silent = time.monotonic() - self.last_read
            if not self.pending:
                continue
            if silent >= timeout:
                self.lost(f"nothing received for {silent:.1f} s, pings included "
                          f"(keepalive_timeout {timeout} s): the connection is presumed dead")
            elif silent >= interval and not self.ka_ping:
                self.ka_ping, self.next_id = self.next_id, self.next_id + 1
                self._send(self.ka_ping, ping=pb.Ping())

    def lost(self, why, code="CONNECTION"):
        if self.down:
            return
        if self.closing is not None and code == "CONNECTION":
            code = pb.Error.Code.Name(self.closing.code)
            why = "the gateway closed the connection: " + self.closing.message
        self.down = why
        for kind, fut in self.pending.values():
            if fut.done():
                continue
            if code == "CONNECTION" and kind != "ping":
                fut.set_exception(GatewayError("OUTCOME_UNKNOWN", f"the connection to the "
                    f"gateway {self.name} was lost with the {kind} in flight: it may or may "
                    f"not have run ({why})"))
            else:
                fut.set_exception(GatewayError(code, f"the {kind} was in flight: {why}"))
        self.pending.clear()
        self.writer.close()
        for t in self.tasks:
            if t is not asyncio.current_task():
                t.cancel()
        self.on_lost(self)


class Client:
    """Several gateways ("host:port" each) behind one client: a connection to each (with
    every_address, to each address of each host name, resolved again at each connect), kept
    up with capped randomised backoff, requests spread round robin over those up. A failed
    request goes to another gateway (at most max_attempts in all, within its timeout) only
    when it cannot run twice: it was never executed (CONNECTION, TLS, UNAVAILABLE, CLOSING),
    or its outcome is unknown and it is a ping or a call made with idempotent=True, which
    the gateway admits only under a rule marked `idempotent: true`. Any other call whose
    outcome is unknown fails with OUTCOME_UNKNOWN, once. The Java client's rules."""

    def __init__(self, gateways, ssl_context, every_address=False, max_attempts=3,
                 timeout=30.0, connect_timeout=5.0, keepalive_interval=10.0,
                 keepalive_timeout=20.0, reconnect_min=0.1, reconnect_max=5.0,
                 max_frame_bytes=1 << 20):
        if not gateways:
            raise ValueError("gateways: [] (expected: at least one host:port)")
        if not 1 <= max_attempts <= 16:
            raise ValueError(f"max_attempts: {max_attempts} (expected: 1..16)")
        if keepalive_timeout <= keepalive_interval:
            raise ValueError(f"keepalive_timeout: {keepalive_timeout} (expected: more than "
                             f"keepalive_interval {keepalive_interval})")
        self.gateways = [split_host_port(g) for g in gateways]
        self.ctx, self.every_address, self.max_attempts = ssl_context, every_address, max_attempts
        self.timeout, self.reconnect = timeout, (reconnect_min, reconnect_max)
        self.opts = dict(connect_timeout=connect_timeout, keepalive_interval=keepalive_interval,
                         keepalive_timeout=keepalive_timeout, max_frame_bytes=max_frame_bytes)
        self.up = {}  # target (host, port, addr) -> Connection
        self.failures = {}  # (host, port) -> failures in a row
        self.retry = set()  # gateways to connect again: one of their connections failed
        self.last_error = None
        self.next = random.randrange(1 << 16)
        self.keeper = None

    async def start(self):
        """Connects to every gateway; returns once one answered a ping."""
        pending = {asyncio.create_task(self._connect_all(g)) for g in self.gateways}
        while pending and not self.up:  # the others go on connecting in the background
            _, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        if not self.up:
            raise self.last_error or GatewayError("CONNECTION", "no gateway")
        self.keeper = asyncio.create_task(self._keep_up())
        await self.ping(self.opts["connect_timeout"])
        return self

    async def close(self):
        if self.keeper:
            self.keeper.cancel()
        for c in list(self.up.values()):
            c.lost("the client closed the connection", "CLOSED")

    async def __aenter__(self):
        return await self.start()

    async def __aexit__(self, *exc):
        await self.close()

    def connected(self):
        """How many gateway connections are up now."""
        return len(self.up)

    async def _targets(self, host, port):
        if not self.every_address:
            return [(host, port, None)]
        infos = await asyncio.get_running_loop().getaddrinfo(host, port,
                                                             type=socket.SOCK_STREAM)
        return sorted({(host, port, i[4][0]) for i in infos})

    async def _connect_all(self, gateway):
        host, port = gateway
        try:
            targets = await self._targets(host, port)
        except OSError as e:
            return self._failed(gateway, GatewayError("CONNECTION", f"cannot resolve the "
                                f"gateway {host}:{port}: {e} (expected: a host name with "
                                f"at least one address)"))
        for t in targets:
            if t in self.up:
                continue
            try:
                c = await Connection.open(*t, self.ctx, self.opts,
                                          lambda c, t=t: self._lost(t, c))
            except GatewayError as e:
                self._failed(gateway, e)
                continue
            self.up[t] = c
            self.failures[gateway] = 0

    def _failed(self, gateway, error):
        self.failures[gateway] = self.failures.get(gateway, 0) + 1
        self.last_error = error
        self.retry.add(gateway)

    def _lost(self, target, conn):
        if self.up.get(target) is conn:
            del self.up[target]
            self.retry.add(target[:2])

    async def _keep_up(self):
        """Reconnects gateways whose connections are missing, waiting longer after each
        failure in a row (reconnect_min doubling to reconnect_max, randomised)."""
        low, high = self.reconnect
        due = {}
        while True:
            await asyncio.sleep(low / 2)
            now = time.monotonic()
            for g in list(self.retry):
                if g not in due:
                    wait = min(high, low * 2 ** min(max(self.failures.get(g, 0) - 1, 0), 20))
                    due[g] = now + random.uniform(wait / 2, wait)
                elif due[g] <= now:
                    del due[g]
                    self.retry.discard(g)
                    asyncio.create_task(self._connect_all(g))

    def _pick(self, tried):
        conns = list(self.up.values())
        if not conns:
            return None
        self.next += 1
        conns = conns[self.next % len(conns):] + conns[:self.next % len(conns)]
        fresh = [c for c in conns if c not in tried]
        return (fresh or conns)[0]  # what never ran may go back to one tried

    async def _submit(self, kind, safe, timeout, **request):
        timeout = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        tried, last = [], None
        while True:
            conn = self._pick(tried)
            left = deadline - time.monotonic()
            if conn is None:  # none up: wait for one, within the timeout
                if left <= 0:
                    raise last or GatewayError("CONNECTION", "no gateway was up in time")
                await asyncio.sleep(min(left, self.reconnect[0]))
                continue
            tried.append(conn)
            try:
                f = await conn.request(kind, max(left, 0.001), **request)
            except GatewayError as e:
                if (retryable(e.code, safe) and len(tried) < self.max_attempts
                        and deadline > time.monotonic()):
                    last = e
                    continue
                raise
            if f.WhichOneof("response") == "error":
                e = GatewayError(pb.Error.Code.Name(f.error.code), f.error.message)
                if (retryable(e.code, safe) and len(tried) < self.max_attempts
                        and deadline > time.monotonic()):
                    last = e
                    continue
                raise e
            return f

    async def call(self, module, function, args=(), timeout=None, idempotent=False):
        """module:function(*args) on the cluster: the result Term. idempotent=True: the call
        may run twice (it is run again on another gateway when its outcome is unknown)."""
        t = self.timeout if timeout is None else timeout
        call = pb.Call(module=module, function=function, args=list(args),
                       timeout_ms=max(1, int(t * 1000)), idempotent=idempotent)
        return (await self._submit("call", idempotent, t, call=call)).result

    async def ping(self, timeout=None):
        """The Pong: who the gateway thinks you are."""
        return (await self._submit("ping", True, timeout, ping=pb.Ping())).pong


def retryable(code, safe):
    """Whether a request that failed with `code` may go to another gateway."""
    if code in ("CONNECTION", "TLS", "UNAVAILABLE", "CLOSING"):
        return True  # never executed
    return code == "OUTCOME_UNKNOWN" and safe


def split_host_port(s):
    host, sep, port = s.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise ValueError(f"gateway: {s!r} (expected: host:port)")
    return host.strip("[]"), int(port)


def tls_context(cert, key, ca):
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(cert, key)
    ctx.set_alpn_protocols([ALPN])
    return ctx


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


async def run(a):
    client = Client(a.gateway.split(","), tls_context(a.cert, a.key, a.ca),
                    every_address=a.every_address, max_attempts=a.max_attempts,
                    timeout=a.timeout, keepalive_interval=a.keepalive_interval,
                    keepalive_timeout=a.keepalive_timeout)
    try:
        async with client:
            r = await client.call(a.module, a.function, [to_term(x) for x in a.args],
                                  idempotent=a.idempotent)
            print("ok " + show(r))
            return 0
    except GatewayError as e:
        print("error " + e.code + " " + e.message)
        return 1


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--gateway", required=True, help="host:port, or several, comma-separated")
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--idempotent", action="store_true",
                   help="the call may run twice (rule: idempotent: true)")
    p.add_argument("--every-address", action="store_true",
                   help="a connection to every address of each host name")
    p.add_argument("--max-attempts", type=int, default=3)
    p.add_argument("--timeout", type=float, default=30.0, help="seconds")
    p.add_argument("--keepalive-interval", type=float, default=10.0, help="seconds")
    p.add_argument("--keepalive-timeout", type=float, default=20.0, help="seconds")
    p.add_argument("module")
    p.add_argument("function")
    p.add_argument("args", nargs="*")
    return asyncio.run(run(p.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
