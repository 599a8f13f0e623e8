package io.beamgate.node.dist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.node.Cookie;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class HandshakeTest {
  private static final long FLAGS = DistFlags.OFFERED | DistFlags.PUBLISHED;

  /** Runs two handshakes against each other until neither has anything to send. */
  private static void run(Handshake a, Handshake b) throws HandshakeException {
    ArrayDeque<byte[]> toB = new ArrayDeque<>(a.start());
    ArrayDeque<byte[]> toA = new ArrayDeque<>(b.start());
    int guard = 0;
    while (!toA.isEmpty() || !toB.isEmpty()) {
      if (++guard > 20) {
        throw new AssertionError("handshake does not end");
      }
      if (!toB.isEmpty()) {
        toA.addAll(b.receive(toB.poll()));
      }
      if (!toA.isEmpty()) {
        toB.addAll(a.receive(toA.poll()));
      }
    }
  }

  @Test
  void version6CompletesBothWays() throws Exception {
    Handshake init = Handshake.initiator("a@h", FLAGS, 11, Cookie.of("c"), "b@h", 6);
    Handshake acc = Handshake.acceptor("b@h", FLAGS, 22, Cookie.of("c"),
        name -> Handshake.Status.OK);
    run(init, acc);
    assertTrue(init.isDone());
    assertTrue(acc.isDone());
    assertEquals("b@h", init.peer().name());
    assertEquals(22, init.peer().creation());
    assertEquals("a@h", acc.peer().name());
    assertEquals(11, acc.peer().creation());
    assertEquals(6, acc.peer().version());
    assertFalse(acc.peer().hidden());
  }

  @Test
  void version5InitiatorWithComplement() throws Exception {
    // Peer's EPMD said version 5: we send 'n'; an OTP 23+ acceptor answers 'N', and a
    // complement carries the high flags and creation.
    Handshake init = Handshake.initiator("a@h", FLAGS, 11, Cookie.of("c"), "b@h", 5);
    Handshake acc = Handshake.acceptor("b@h", FLAGS, 22, Cookie.of("c"),
        name -> Handshake.Status.OK);
    run(init, acc);
    assertTrue(init.isDone());
    assertTrue(acc.isDone());
    assertEquals(11, acc.peer().creation());
    assertTrue((acc.peer().flags() & DistFlags.ALIAS) != 0, "high flags arrive by complement");
  }

  @Test
  void wrongCookieFailsOnBothSides() throws Exception {
    Handshake init = Handshake.initiator("a@h", FLAGS, 1, Cookie.of("one"), "b@h", 6);
    Handshake acc = Handshake.acceptor("b@h", FLAGS, 2, Cookie.of("two"),
        name -> Handshake.Status.OK);
    HandshakeException e = assertThrows(HandshakeException.class, () -> run(init, acc));
    assertEquals(HandshakeException.Reason.WRONG_COOKIE, e.reason());
    assertFalse(e.getMessage().contains("one"), e.getMessage());
    assertFalse(e.getMessage().contains("two"), e.getMessage());
    assertFalse(init.isDone());
  }

  @Test
  void initiatorDetectsWrongAck() throws Exception {
    Handshake init = Handshake.initiator("a@h", FLAGS, 1, Cookie.of("x"), "b@h", 6);
    init.start();
    init.receive("sok".getBytes(StandardCharsets.ISO_8859_1));
    byte[] name = "b@h".getBytes(StandardCharsets.ISO_8859_1);
    byte[] challenge = ByteBuffer.allocate(19 + name.length).put((byte) 'N').putLong(FLAGS)
        .putInt(42).putInt(7).putShort((short) name.length).put(name).array();
    List<byte[]> reply = init.receive(challenge);
    // The reply's digest is MD5(cookie ++ "42").
    byte[] expected = MessageDigest.getInstance("MD5").digest("x42".getBytes());
    byte[] got = new byte[16];
    System.arraycopy(reply.get(0), 5, got, 0, 16);
    assertArrayEquals(expected, got);
    byte[] badAck = new byte[17];
    badAck[0] = 'a';
    HandshakeException e = assertThrows(HandshakeException.class, () -> init.receive(badAck));
    assertEquals(HandshakeException.Reason.WRONG_COOKIE, e.reason());
  }

  @Test
  void digestUsesUnsignedChallenge() throws Exception {
    Handshake h = Handshake.initiator("a@h", FLAGS, 1, Cookie.of("k"), "b@h", 6);
    assertArrayEquals(MessageDigest.getInstance("MD5").digest("k4294967295".getBytes()),
        h.digest(-1));
  }

  @Test
  void simultaneousConnectStatuses() throws Exception {
    Handshake acc = Handshake.acceptor("b@h", FLAGS, 2, Cookie.of("c"),
        name -> Handshake.Status.NOK);
    Handshake init = Handshake.initiator("a@h", FLAGS, 1, Cookie.of("c"), "b@h", 6);
    HandshakeException e = assertThrows(HandshakeException.class, () -> run(init, acc));
    assertEquals(HandshakeException.Reason.SIMULTANEOUS_LOST, e.reason());
    assertEquals(HandshakeException.Reason.SIMULTANEOUS_LOST, acc.refusal().reason());

    Handshake acc2 = Handshake.acceptor("b@h", FLAGS, 2, Cookie.of("c"),
        name -> Handshake.Status.OK_SIMULTANEOUS);
    Handshake init2 = Handshake.initiator("a@h", FLAGS, 1, Cookie.of("c"), "b@h", 6);
    run(init2, acc2);
    assertTrue(init2.isDone() && acc2.isDone());

    Handshake acc3 = Handshake.acceptor("b@h", FLAGS, 2, Cookie.of("c"),
        name -> Handshake.Status.ALIVE);
    Handshake init3 = Handshake.initiator("a@h", FLAGS, 1, Cookie.of("c"), "b@h", 6);
    run(init3, acc3);
    assertTrue(init3.isDone() && acc3.isDone(), "alive, answered true, goes on");
  }

  @Test
  void acceptorSendsItsRefusalBeforeClosing() throws Exception {
    Handshake acc = Handshake.acceptor("b@h", FLAGS, 2, Cookie.of("c"),
        name -> Handshake.Status.NOT_ALLOWED);
    Handshake init = Handshake.initiator("a@h", FLAGS, 1, Cookie.of("c"), "b@h", 6);
    List<byte[]> answer = acc.receive(init.start().get(0));
    assertEquals("snot_allowed", new String(answer.get(0), StandardCharsets.ISO_8859_1));
    assertEquals(HandshakeException.Reason.NOT_ALLOWED, acc.refusal().reason());
    HandshakeException e = assertThrows(HandshakeException.class,
        () -> init.receive(answer.get(0)));
    assertEquals(HandshakeException.Reason.NOT_ALLOWED, e.reason());
  }

  @Test
  void initiatorAnswersAliveFalseWhenAlreadyConnected() throws Exception {
    Handshake init = Handshake.initiator("a@h", FLAGS, 1, Cookie.of("c"), "b@h", 6, () -> false);
    init.start();
    HandshakeException e = assertThrows(HandshakeException.class,
        () -> init.receive("salive".getBytes(StandardCharsets.ISO_8859_1)));
    assertEquals(HandshakeException.Reason.ALREADY_CONNECTED, e.reason());
  }

  @Test
  void refusesPeerWithoutMandatoryFlags() {
    Handshake acc = Handshake.acceptor("b@h", FLAGS, 2, Cookie.of("c"),
        name -> Handshake.Status.OK);
    byte[] name = "a@h".getBytes(StandardCharsets.ISO_8859_1);
    byte[] msg = ByteBuffer.allocate(15 + name.length).put((byte) 'N')
        .putLong(DistFlags.PUBLISHED | DistFlags.HANDSHAKE_23).putInt(1)
        .putShort((short) name.length).put(name).array();
    HandshakeException e = assertThrows(HandshakeException.class, () -> acc.receive(msg));
    assertEquals(HandshakeException.Reason.MISSING_FLAGS, e.reason());
    assertTrue(e.getMessage().contains("MAP_TAG"), e.getMessage());
  }

  @Test
  void mandatory25DigestStandsForTheMandatoryFlags() throws Exception {
    Handshake acc = Handshake.acceptor("b@h", FLAGS, 2, Cookie.of("c"),
        name -> Handshake.Status.OK);
    byte[] name = "a@h".getBytes(StandardCharsets.ISO_8859_1);
    byte[] msg = ByteBuffer.allocate(15 + name.length).put((byte) 'N')
        .putLong(DistFlags.MANDATORY_25_DIGEST).putInt(1)
        .putShort((short) name.length).put(name).array();
    assertEquals(2, acc.receive(msg).size(), "status and challenge");
  }

  @Test
  void refusesBadNames() {
    for (String bad : new String[] {"noat", "@host", "alive@", "a@b@c", "a\u0000b@h"}) {
      Handshake acc = Handshake.acceptor("b@h", FLAGS, 2, Cookie.of("c"),
          name -> Handshake.Status.OK);
      byte[] name = bad.getBytes(StandardCharsets.ISO_8859_1);
      byte[] msg = ByteBuffer.allocate(15 + name.length).put((byte) 'N').putLong(FLAGS)
          .putInt(1).putShort((short) name.length).put(name).array();
      HandshakeException e = assertThrows(HandshakeException.class, () -> acc.receive(msg), bad);
      assertEquals(HandshakeException.Reason.BAD_NAME, e.reason(), bad);
    }
  }

  @Test
  void initiatorRefusesUnexpectedPeerName() throws Exception {
    Handshake init = Handshake.initiator("a@h", FLAGS, 1, Cookie.of("c"), "b@h", 6);
    Handshake acc = Handshake.acceptor("evil@h", FLAGS, 2, Cookie.of("c"),
        name -> Handshake.Status.OK);
    HandshakeException e = assertThrows(HandshakeException.class, () -> run(init, acc));
    assertEquals(HandshakeException.Reason.BAD_NAME, e.reason());
  }

  @Test
  void randomGarbageOnlyEverGivesHandshakeException() {
    Random rnd = new Random(42);
    for (int i = 0; i < 20_000; i++) {
      Handshake acc = Handshake.acceptor("b@h", FLAGS, 2, Cookie.of("c"),
          name -> Handshake.Status.OK);
      byte[] msg = new byte[rnd.nextInt(40)];
      rnd.nextBytes(msg);
      if (msg.length > 0 && rnd.nextBoolean()) {
        msg[0] = (byte) (rnd.nextBoolean() ? 'N' : 'n');
      }
      try {
        acc.receive(msg);
      } catch (HandshakeException expected) {
        // the only allowed failure
      }
    }
  }

  @Test
  void oversizedMessageRefused() {
    Handshake acc = Handshake.acceptor("b@h", FLAGS, 2, Cookie.of("c"),
        name -> Handshake.Status.OK);
    byte[] msg = new byte[Handshake.MAX_MESSAGE + 1];
    msg[0] = 'N';
    HandshakeException e = assertThrows(HandshakeException.class, () -> acc.receive(msg));
    assertTrue(e.getMessage().contains("expected: <= " + Handshake.MAX_MESSAGE), e.getMessage());
  }
}
