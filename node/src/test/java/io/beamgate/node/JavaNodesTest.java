package io.beamgate.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.node.dist.HandshakeException;
import io.beamgate.node.dist.NodeConnectException;
import io.beamgate.node.epmd.EpmdServer;
import io.beamgate.node.term.Atom;
import io.beamgate.node.term.Binary;
import io.beamgate.node.term.Int;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.Tuple;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Two or more Java nodes against each other: the connection layer's own rules and limits. */
class JavaNodesTest {
  private static final Duration T = Duration.ofSeconds(10);
  private static final AtomicInteger SEQ = new AtomicInteger();
  private EpmdServer epmd;
  private final List<LocalNode> nodes = new ArrayList<>();

  @BeforeEach
  void startEpmd() throws Exception {
    epmd = EpmdServer.start(EpmdServer.Config.loopback(0));
  }

  @AfterEach
  void stop() {
    nodes.forEach(LocalNode::close);
    epmd.close();
  }

  private NodeConfig.Builder config(String prefix) {
    return NodeConfig.builder(new NodeName(prefix + SEQ.incrementAndGet() + "_"
        + ProcessHandle.current().pid(), "127.0.0.1")).cookie("jc").epmd("127.0.0.1", epmd.port())
        .listen(java.net.InetAddress.getLoopbackAddress(), 0);
  }

  private LocalNode start(NodeConfig.Builder b) throws Exception {
    LocalNode n = LocalNode.start(b.build());
    nodes.add(n);
    return n;
  }

  @Test
  void simultaneousConnectEndsWithOneConnectionBothUp() throws Exception {
    for (int i = 0; i < 20; i++) {
      LocalNode a = start(config("sa"));
      LocalNode b = start(config("sb"));
      CountDownLatch go = new CountDownLatch(1);
      CompletableFuture<Void> fa = CompletableFuture.runAsync(() -> connect(go, a, b.name()));
      CompletableFuture<Void> fb = CompletableFuture.runAsync(() -> connect(go, b, a.name()));
      go.countDown();
      fa.get(15, TimeUnit.SECONDS);
      fb.get(15, TimeUnit.SECONDS);
      assertTrue(a.connectedNodes().contains(b.name()), "round " + i);
      assertTrue(b.connectedNodes().contains(a.name()), "round " + i);
      assertTrue(a.ping(b.name(), T) && b.ping(a.name(), T), "round " + i);
    }
  }

  private static void connect(CountDownLatch go, LocalNode from, String to) {
    try {
      go.await();
      // The loser of the race waits for the winner's connection: connect succeeds on both.
      from.connect(to, T);
    } catch (NodeConnectException | InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void messagesSentWhileConnectingArriveInOrder() throws Exception {
    LocalNode a = start(config("oa"));
    LocalNode b = start(config("ob"));
    Mailbox sink = b.createMailbox("sink");
    Mailbox src = a.createMailbox();
    for (int i = 0; i < 1000; i++) {
      src.send("sink", b.name(), Int.of(i));
    }
    for (int i = 0; i < 1000; i++) {
      assertEquals(Int.of(i), sink.receive(T));
    }
  }

  @Test
  void unknownNodeFailsWithReason() throws Exception {
    LocalNode a = start(config("ua"));
    NodeConnectException e = assertThrows(NodeConnectException.class,
        () -> a.connect("ghost@127.0.0.1", T));
    assertTrue(e.getMessage().contains("has no node named 'ghost'"), e.getMessage());
    assertFalse(a.ping("ghost@127.0.0.1", T));
    NodeConnectException bad = assertThrows(NodeConnectException.class,
        () -> a.connect("no-at-sign", T));
    assertEquals(HandshakeException.Reason.BAD_NAME, bad.reason());
  }

  @Test
  void frameCapAtAndPastTheLimit() throws Exception {
    long cap = 64 * 1024;
    LocalNode small = start(config("cap").maxFrameBytes(cap));
    LocalNode big = start(config("big").fragmentBytes(1 << 20)); // whole frames, no fragments
    Mailbox inbox = small.createMailbox("inbox");
    Mailbox out = big.createMailbox();
    // Frame = 1 pass-through byte + control term + payload term; find the payload that fills it.
    int overhead = frameOverhead(out.self(), "inbox");
    out.send("inbox", small.name(), Binary.wrap(new byte[(int) cap - overhead]));
    Term got = inbox.receive(T);
    assertNotNull(got, "a frame of exactly the cap is accepted");
    assertEquals((int) cap - overhead, ((Binary) got).size());

    CompletableFuture<String> down = new CompletableFuture<>();
    small.addNodeListener(new NodeListener() {
      @Override
      public void nodeUp(String node) {}

      @Override
      public void nodeDown(String node, String reason) {
        down.complete(reason);
      }
    });
    // One byte past the cap: that message is dropped and counted; the connection stays up.
    long dropped = small.stats().get("dropped_inbound");
    out.send("inbox", small.name(), Binary.wrap(new byte[(int) cap - overhead + 1]));
    out.send("inbox", small.name(), Atom.of("next"));
    assertEquals(Atom.of("next"), inbox.receive(T));
    assertEquals(dropped + 1, small.stats().get("dropped_inbound"));
    assertFalse(down.isDone(), () -> "connection closed: " + down.join());
  }

  private static int frameOverhead(io.beamgate.node.term.Pid from, String name) {
    byte[] ctl = io.beamgate.node.etf.EtfEncoder.encode(Tuple.of(Int.of(6), from, Atom.of(""),
        Atom.of(name)));
    byte[] emptyBin = io.beamgate.node.etf.EtfEncoder.encode(Binary.EMPTY);
    return 1 + ctl.length + emptyBin.length;
  }

  @Test
  void pendingQueueLimitWhileConnecting() throws Exception {
    LocalNode a = start(config("pq").maxPendingBytes(1024));
    Mailbox src = a.createMailbox();
    // A peer that accepts TCP but never answers: the connection stays pending (handshake).
    try (java.net.ServerSocket silent = new java.net.ServerSocket(0);
        io.beamgate.node.epmd.EpmdClient.Registration reg =
            new io.beamgate.node.epmd.EpmdClient("127.0.0.1", epmd.port(), T)
                .register("mute", silent.getLocalPort(), false)) {
      src.send("x", "mute@127.0.0.1", Binary.wrap(new byte[500]));
      IllegalStateException e = assertThrows(IllegalStateException.class,
          () -> src.send("x", "mute@127.0.0.1", Binary.wrap(new byte[600])));
      assertTrue(e.getMessage().contains("(expected: <= 1024)"), e.getMessage());
    }
  }

  @Test
  void mailboxCapacityAtAndPastTheLimit() throws Exception {
    LocalNode a = start(config("mc").mailboxCapacity(3));
    Mailbox box = a.createMailbox("box");
    Mailbox src = a.createMailbox();
    for (int i = 0; i < 4; i++) {
      src.send(box.self(), Int.of(i));
    }
    assertEquals(3, box.size());
    assertEquals(1L, a.stats().get("dropped_messages"));
  }

  @Test
  void selectiveReceiveKeepsOtherMessagesInOrder() throws Exception {
    LocalNode a = start(config("sr"));
    Mailbox box = a.createMailbox();
    for (int i = 0; i < 5; i++) {
      box.send(box.self(), Int.of(i));
    }
    assertEquals(Int.of(3), box.receive(t -> t.equals(Int.of(3)), T));
    for (int i : new int[] {0, 1, 2, 4}) {
      assertEquals(Int.of(i), box.receive(T));
    }
    assertNull(box.receive(Duration.ofMillis(50)));
  }

  @Test
  void linkedRemoteMailboxGetsExitWhenOtherCloses() throws Exception {
    LocalNode a = start(config("la"));
    LocalNode b = start(config("lb"));
    Mailbox ma = a.createMailbox();
    Mailbox mb = b.createMailbox();
    ma.link(mb.self());
    // A round trip makes sure the LINK arrived before the close.
    assertTrue(a.ping(b.name(), T));
    mb.exit(Atom.of("shutdown"));
    Term got = ma.receive(T);
    assertEquals(Tuple.of(Atom.of("EXIT"), mb.self(), Atom.of("shutdown")), got);
  }

  @Test
  void nodeDownReachesMonitorsAndLinks() throws Exception {
    LocalNode a = start(config("da"));
    LocalNode b = start(config("db"));
    Mailbox ma = a.createMailbox();
    Mailbox mb = b.createMailbox();
    ma.monitorNode(b.name());
    ma.link(mb.self());
    assertTrue(a.ping(b.name(), T));
    b.close();
    List<Term> got = List.of(ma.receive(T), ma.receive(T));
    assertTrue(got.contains(Tuple.of(Atom.of("nodedown"), Atom.of(b.name()))), got.toString());
    assertTrue(got.contains(Tuple.of(Atom.of("EXIT"), mb.self(), Atom.of("noconnection"))),
        got.toString());
  }

  @Test
  void closedNodeRefusesNewMailboxes() throws Exception {
    LocalNode a = start(config("cl"));
    a.close();
    assertThrows(IllegalStateException.class, a::createMailbox);
  }

  @Test
  void silentPeerFailsTheHandshakeWithinTheTimeout() throws Exception {
    LocalNode a = start(config("ht").handshakeTimeout(Duration.ofMillis(500)));
    try (java.net.ServerSocket silent = new java.net.ServerSocket(0);
        io.beamgate.node.epmd.EpmdClient.Registration reg =
            new io.beamgate.node.epmd.EpmdClient("127.0.0.1", epmd.port(), T)
                .register("silent", silent.getLocalPort(), false)) {
      long t0 = System.nanoTime();
      NodeConnectException e = assertThrows(NodeConnectException.class,
          () -> a.connect("silent@127.0.0.1", T));
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      assertEquals(HandshakeException.Reason.TIMEOUT, e.reason(), e.getMessage());
      assertTrue(ms < 5000, "failed after " + ms + " ms");
    }
  }

  @Test
  void silentOrGarbageClientsAreClosedAndTheNodeGoesOn() throws Exception {
    LocalNode a = start(config("gc").handshakeTimeout(Duration.ofMillis(500)));
    try (java.net.Socket quiet = new java.net.Socket("127.0.0.1", a.port());
        java.net.Socket noisy = new java.net.Socket("127.0.0.1", a.port())) {
      quiet.setSoTimeout(5000);
      noisy.setSoTimeout(5000);
      noisy.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes());
      assertEquals(-1, noisy.getInputStream().read(), "garbage: closed");
      assertEquals(-1, quiet.getInputStream().read(), "silence: closed after the timeout");
    }
    LocalNode b = start(config("gc2"));
    assertTrue(b.ping(a.name(), T), "the node still serves real peers");
  }

  @Test
  void fragmentedMessagesReassembleUpToTheCap() throws Exception {
    long cap = 256 * 1024;
    LocalNode rx = start(config("frx").maxFrameBytes(cap));
    LocalNode tx = start(config("ftx").fragmentBytes(4096));
    Mailbox inbox = rx.createMailbox("inbox");
    Mailbox out = tx.createMailbox();
    // Reassembled = control and payload without their version bytes.
    int ctl = io.beamgate.node.etf.EtfEncoder.encode(Tuple.of(Int.of(6), out.self(), Atom.of(""),
        Atom.of("inbox"))).length - 1;
    int binHeader = 1 + 4; // BINARY_EXT tag and length
    byte[] payload = new byte[(int) cap - ctl - binHeader];
    new java.util.Random(1).nextBytes(payload);
    out.send("inbox", rx.name(), Binary.wrap(payload));
    Term got = inbox.receive(T);
    assertNotNull(got, "a message of exactly the reassembly cap arrives");
    assertEquals(Binary.of(payload), got);

    CompletableFuture<String> down = new CompletableFuture<>();
    rx.addNodeListener(new NodeListener() {
      @Override
      public void nodeUp(String node) {}

      @Override
      public void nodeDown(String node, String reason) {
        down.complete(reason);
      }
    });
    // One byte past the cap: that message is dropped, its other fragments skipped; the
    // connection stays up.
    long dropped = rx.stats().get("dropped_inbound");
    out.send("inbox", rx.name(), Binary.wrap(new byte[payload.length + 1]));
    out.send("inbox", rx.name(), Atom.of("next"));
    assertEquals(Atom.of("next"), inbox.receive(T));
    assertEquals(dropped + 1, rx.stats().get("dropped_inbound"));
    assertFalse(down.isDone(), () -> "connection closed: " + down.join());
  }

  @Test
  void smallMessagesInterleaveWithAFragmentedOne() throws Exception {
    LocalNode rx = start(config("irx"));
    LocalNode tx = start(config("itx").fragmentBytes(8192));
    Mailbox inbox = rx.createMailbox("inbox");
    Mailbox bigSender = tx.createMailbox();
    Mailbox smallSender = tx.createMailbox();
    assertTrue(tx.ping(rx.name(), T));
    CompletableFuture<Void> big = CompletableFuture.runAsync(
        () -> bigSender.send("inbox", rx.name(), Binary.wrap(new byte[32 << 20])));
    Thread.sleep(5);
    smallSender.send("inbox", rx.name(), Atom.of("small"));
    big.get(30, TimeUnit.SECONDS);
    // The small message was sent while the big one was in flight, and arrives first.
    assertEquals(Atom.of("small"), inbox.receive(T));
    assertEquals(32 << 20, ((Binary) inbox.receive(T)).size());
  }
}
