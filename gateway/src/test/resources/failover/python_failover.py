"""Drives a Python example client over two gateways for ClientsFailoverErlTest.
Usage: python_failover.py native|grpc GATEWAYS EACH WORK_MS CA ALICE_CERT ALICE_KEY BOB_CERT
BOB_KEY OPTION (default; native only: INTERVAL_MS,TIMEOUT_MS or every_address), with docs/examples/python
and the generated modules on PYTHONPATH. Prints "ready" once both clients are connected to both
gateways, "result KEY ok VALUE" or "result KEY error
CODE message" for each call of the load, "after KEY ..." for calls made after the failover,
then "done" (ClientDrivers describes the lines)."""
import asyncio
import sys
import threading
import time

LOCK = threading.Lock()  # the gRPC driver prints from many threads: one line at a time


def out(line):
    with LOCK:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


async def native(gws, each, work_ms, ca, alice_files, bob_files, keepalive):
    from beamgate.v1 import gateway_pb2 as pb
    from beamgate_call import Client, GatewayError, show, tls_context

    ka = {}
    if keepalive == "every_address":
        ka = dict(every_address=True)
    elif keepalive != "default":
        interval, timeout = (int(x) / 1000 for x in keepalive.split(","))
        ka = dict(keepalive_interval=interval, keepalive_timeout=timeout,
                  connect_timeout=timeout)

    def client(files):
        return Client(gws, tls_context(files[0], files[1], ca), reconnect_min=0.05,
                      reconnect_max=0.5, **ka)

    alice, bob = await client(alice_files).start(), await client(bob_files).start()
    for c in (alice, bob):
        for _ in range(100):
            if c.connected() == 2:
                break
            await asyncio.sleep(0.05)
        else:
            out(f"connected {c.connected()}")
            sys.exit(1)
    out("ready")

    async def one(what, c, key, ms, idempotent):
        try:
            r = await c.call("scaletest", "work", [pb.Term(int=key), pb.Term(int=ms)],
                             timeout=15, idempotent=idempotent)
            out(f"{what} {key} ok {show(r)}")
        except GatewayError as e:
            out(f"{what} {key} error {e.code} {e.message}")

    await asyncio.gather(*[one("result", alice, k, work_ms, True) for k in range(1, each + 1)],
                         *[one("result", bob, 1000 + k, work_ms, False)
                           for k in range(1, each + 1)])
    for k in range(5001, 5007):
        await one("after", bob, k, 0, False)
    out("done")


def grpc_driver(gws, each, work_ms, ca, alice_files, bob_files):
    from concurrent.futures import ThreadPoolExecutor

    import grpc
    from beamgate.v1 import gateway_pb2 as pb
    from beamgate_call import GatewayError, show
    from beamgate_grpc import GatewayClient

    def client(files):
        def read(path):
            with open(path, "rb") as f:
                return f.read()
        creds = grpc.ssl_channel_credentials(root_certificates=read(ca),
                                             private_key=read(files[1]),
                                             certificate_chain=read(files[0]))
        return GatewayClient(gws, creds)

    alice, bob = client(alice_files), client(bob_files)
    for c in (alice, bob):
        for _ in range(200):
            if c.connected() == 2:
                break
            time.sleep(0.05)
        else:
            out(f"connected {c.connected()}")
            sys.exit(1)
    out("ready")

    def one(what, c, key, ms, idempotent):
        try:
            r = c.call("scaletest", "work", [pb.Term(int=key), pb.Term(int=ms)], 15.0,
                       idempotent)
            out(f"{what} {key} ok {show(r)}")
        except GatewayError as e:
            out(f"{what} {key} error {e.code} {e.message}")

    with ThreadPoolExecutor(max_workers=2 * each) as pool:
        for k in range(1, each + 1):
            pool.submit(one, "result", alice, k, work_ms, True)
            pool.submit(one, "result", bob, 1000 + k, work_ms, False)
    for k in range(5001, 5007):
        one("after", bob, k, 0, False)
    alice.close()
    bob.close()
    out("done")


def main():
    mode, gws, each, work_ms, ca, a_cert, a_key, b_cert, b_key, keepalive = sys.argv[1:]
    if mode == "native":
        asyncio.run(native(gws.split(","), int(each), int(work_ms), ca, (a_cert, a_key),
                           (b_cert, b_key), keepalive))
    else:
        grpc_driver(gws.split(","), int(each), int(work_ms), ca, (a_cert, a_key),
                    (b_cert, b_key))


if __name__ == "__main__":
    main()
