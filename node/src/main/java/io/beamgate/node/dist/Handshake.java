package io.beamgate.node.dist;

import io.beamgate.node.Cookie;
import io.beamgate.node.dist.HandshakeException.Reason;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The distribution handshake (erts "Distribution Protocol", section Distribution Handshake) as a
 * state machine over whole messages, free of any transport: feed it each message the peer sent
 * (without the 2-byte length) and send what it returns. Versions 6 ('N' messages, OTP 23+) and 5
 * ('n' messages) are spoken in both roles.
 */
public final class Handshake {
  /** The node at the other end, known once the handshake is complete. */
  public record Peer(String name, long flags, int creation, int version) {
    public boolean hidden() {
      return (flags & DistFlags.PUBLISHED) == 0;
    }
  }

  /** The acceptor's answer once the initiator's name is known (net_kernel's accept_pending). */
  public enum Status {
    /** Go on. */
    OK,
    /** We were connecting to it too, and it wins: go on with this connection, drop ours. */
    OK_SIMULTANEOUS,
    /** We were connecting to it too, and ours wins: refuse this one. */
    NOK,
    /** A connection to that node is up already: ask the peer whether it is still alive. */
    ALIVE,
    /** The peer may not connect. */
    NOT_ALLOWED
  }

  /** Decides the acceptor's status; called once, when the initiator's name is known. */
  public interface Arbiter {
    Status onName(String peerName);
  }

  private enum State {
    INIT, AWAIT_STATUS, AWAIT_CHALLENGE, AWAIT_ACK,
    AWAIT_NAME, AWAIT_ALIVE_REPLY, AWAIT_COMPLEMENT, AWAIT_REPLY, DONE, FAILED
  }

  private static final SecureRandom RANDOM = new SecureRandom();
  /** Largest handshake message accepted: a tag, fixed fields and a 255-byte name. */
  public static final int MAX_MESSAGE = 1 + 8 + 4 + 4 + 2 + 255 + 16;

  private final boolean initiator;
  private final String self;
  private final long ourFlags;
  private final int ourCreation;
  private final byte[] cookie;
  private final String expectedPeer;
  private final int peerHighestVersion;
  private final Arbiter arbiter;
  private final java.util.function.BooleanSupplier aliveAnswer;

  private State state;
  private int ourChallenge;
  private int peerChallenge;
  private String peerName;
  private long peerFlags;
  private int peerCreation;
  private int version;
  private boolean peerSentOldName;
  private HandshakeException refusal;

  private Handshake(boolean initiator, String self, long flags, int creation, Cookie cookie,
      String expectedPeer, int peerHighestVersion, Arbiter arbiter,
      java.util.function.BooleanSupplier aliveAnswer) {
    this.initiator = initiator;
    this.self = Objects.requireNonNull(self, "self");
    this.ourFlags = flags;
    this.ourCreation = creation;
    this.cookie = cookie.bytes();
    this.expectedPeer = expectedPeer;
    this.peerHighestVersion = peerHighestVersion;
    this.arbiter = arbiter;
    this.aliveAnswer = aliveAnswer;
    this.state = initiator ? State.INIT : State.AWAIT_NAME;
  }

  /** The connecting side, to {@code peer}, whose EPMD entry gave its highest version. */
  public static Handshake initiator(String self, long flags, int creation, Cookie cookie,
      String peer, int peerHighestVersion) {
    return initiator(self, flags, creation, cookie, peer, peerHighestVersion, () -> true);
  }

  /**
   * As above; {@code aliveAnswer} answers the acceptor's "alive" status: true when this side has
   * no other connection up to the peer (so the peer's old one is stale), false otherwise.
   */
  public static Handshake initiator(String self, long flags, int creation, Cookie cookie,
      String peer, int peerHighestVersion, java.util.function.BooleanSupplier aliveAnswer) {
    return new Handshake(true, self, flags, creation, cookie, Objects.requireNonNull(peer),
        peerHighestVersion, null, aliveAnswer);
  }

  /** The accepting side. */
  public static Handshake acceptor(String self, long flags, int creation, Cookie cookie,
      Arbiter arbiter) {
    return new Handshake(false, self, flags, creation, cookie, null, 6,
        Objects.requireNonNull(arbiter), null);
  }

  /** The first messages to send: the initiator's name; nothing for the acceptor. */
  public List<byte[]> start() {
    if (!initiator) {
      return List.of();
    }
    byte[] name = self.getBytes(StandardCharsets.ISO_8859_1);
    ByteBuffer b;
    if (peerHighestVersion >= 6) {
      version = 6;
      b = ByteBuffer.allocate(1 + 8 + 4 + 2 + name.length);
      b.put((byte) 'N').putLong(ourFlags).putInt(ourCreation).putShort((short) name.length);
    } else {
      version = 5;
      b = ByteBuffer.allocate(1 + 2 + 4 + name.length);
      b.put((byte) 'n').putShort((short) 5).putInt((int) ourFlags);
    }
    b.put(name);
    state = State.AWAIT_STATUS;
    return List.of(b.array());
  }

  public boolean isDone() {
    return state == State.DONE;
  }

  /** The initiator's intended peer; null for the acceptor. */
  public String expectedPeer() {
    return expectedPeer;
  }

  public boolean isInitiator() {
    return initiator;
  }

  /** The peer's name once known (after its name or challenge message), else null. */
  public String peerName() {
    return peerName;
  }

  /** The completed handshake's peer, with the flags both sides agreed on. */
  public Peer peer() {
    if (state != State.DONE) {
      throw new IllegalStateException("handshake not complete");
    }
    return new Peer(peerName, peerFlags & ourFlags | (peerFlags & DistFlags.PUBLISHED),
        peerCreation, version);
  }

  /** Feeds one message from the peer; returns the messages to send in answer. */
  public List<byte[]> receive(byte[] msg) throws HandshakeException {
    try {
      return step(msg);
    } catch (HandshakeException e) {
      state = State.FAILED;
      throw e;
    } catch (RuntimeException e) {
      // Short or malformed messages surface as buffer underflows and the like.
      state = State.FAILED;
      throw new HandshakeException(Reason.PROTOCOL,
          "malformed handshake message in state " + stateName() + ": " + e);
    }
  }

  private String stateName() {
    return state.name().toLowerCase().replace('_', ' ');
  }

  private List<byte[]> step(byte[] msg) throws HandshakeException {
    if (msg.length == 0) {
      throw protocol("empty handshake message");
    }
    if (msg.length > MAX_MESSAGE) {
      throw protocol("handshake message length: " + msg.length + " (expected: <= " + MAX_MESSAGE
          + ")");
    }
    ByteBuffer b = ByteBuffer.wrap(msg);
    int tag = b.get() & 0xFF;
    switch (state) {
      case AWAIT_STATUS -> {
        expectTag(tag, 's');
        String status = new String(msg, 1, msg.length - 1, StandardCharsets.ISO_8859_1);
        switch (status) {
          case "ok", "ok_simultaneous" -> {
            state = State.AWAIT_CHALLENGE;
            return List.of();
          }
          case "alive" -> {
            // The peer still has a connection to us. If we have none up, it is stale: go on.
            if (!aliveAnswer.getAsBoolean()) {
              state = State.FAILED;
              throw new HandshakeException(Reason.ALREADY_CONNECTED,
                  "already connected to " + expectedPeer + " by another connection");
            }
            state = State.AWAIT_CHALLENGE;
            return List.of("strue".getBytes(StandardCharsets.ISO_8859_1));
          }
          case "nok" -> throw new HandshakeException(Reason.SIMULTANEOUS_LOST,
              "simultaneous connect to " + expectedPeer + ": the peer's attempt wins");
          case "not_allowed" -> throw new HandshakeException(Reason.NOT_ALLOWED,
              expectedPeer + " does not allow connections from " + self);
          default -> throw protocol("unexpected handshake status '" + printable(status) + "'");
        }
      }
      case AWAIT_CHALLENGE -> {
        String name;
        if (tag == 'N') {
          peerFlags = b.getLong();
          peerChallenge = b.getInt();
          peerCreation = b.getInt();
          int nlen = b.getShort() & 0xFFFF;
          name = readName(b, nlen);
          if (version == 5) {
            version = 6; // the peer answered our 'n' with 'N': a complement must follow
          }
        } else if (tag == 'n') {
          int v = b.getShort() & 0xFFFF;
          if (v != 5) {
            throw protocol("peer handshake version: " + v + " (expected: 5 or 6)");
          }
          peerFlags = b.getInt() & 0xFFFFFFFFL;
          peerChallenge = b.getInt();
          name = readName(b, b.remaining());
          version = 5;
        } else {
          throw protocol("expected challenge ('N' or 'n'), got tag " + tag);
        }
        if (!name.equals(expectedPeer)) {
          throw new HandshakeException(Reason.BAD_NAME,
              "connected to " + name + " but expected " + expectedPeer);
        }
        peerName = name;
        checkFlags();
        ourChallenge = RANDOM.nextInt();
        List<byte[]> out = new ArrayList<>(2);
        if (tag == 'N' && msg[0] == 'N' && sentOldName()) {
          out.add(ByteBuffer.allocate(9).put((byte) 'c').putInt((int) (ourFlags >>> 32))
              .putInt(ourCreation).array());
        }
        out.add(ByteBuffer.allocate(21).put((byte) 'r').putInt(ourChallenge)
            .put(digest(peerChallenge)).array());
        state = State.AWAIT_ACK;
        return out;
      }
      case AWAIT_ACK -> {
        expectTag(tag, 'a');
        if (msg.length != 17) {
          throw protocol("challenge ack length: " + msg.length + " (expected: 17)");
        }
        byte[] got = new byte[16];
        b.get(got);
        if (!MessageDigest.isEqual(got, digest(ourChallenge))) {
          throw new HandshakeException(Reason.WRONG_COOKIE,
              peerName + " answered with a wrong digest: its cookie differs from ours");
        }
        state = State.DONE;
        return List.of();
      }
      case AWAIT_NAME -> {
        if (tag == 'N') {
          peerFlags = b.getLong();
          peerCreation = b.getInt();
          int nlen = b.getShort() & 0xFFFF;
          peerName = readName(b, nlen);
          version = 6;
        } else if (tag == 'n') {
          int v = b.getShort() & 0xFFFF;
          if (v < 5) {
            throw protocol("peer handshake version: " + v + " (expected: 5 or 6)");
          }
          peerFlags = b.getInt() & 0xFFFFFFFFL;
          peerName = readName(b, b.remaining());
          peerSentOldName = true;
          version = (peerFlags & DistFlags.HANDSHAKE_23) != 0 ? 6 : 5;
        } else {
          throw protocol("expected name ('N' or 'n'), got tag " + tag);
        }
        checkNodeName(peerName);
        checkFlags();
        Status st = arbiter.onName(peerName);
        List<byte[]> out = new ArrayList<>(2);
        switch (st) {
          case OK -> out.add(status("ok"));
          case OK_SIMULTANEOUS -> out.add(status("ok_simultaneous"));
          case NOK -> {
            return refuse("nok", new HandshakeException(Reason.SIMULTANEOUS_LOST,
                "simultaneous connect from " + peerName + ": our own attempt wins"));
          }
          case NOT_ALLOWED -> {
            return refuse("not_allowed", new HandshakeException(Reason.NOT_ALLOWED,
                peerName + " is not allowed to connect"));
          }
          case ALIVE -> {
            state = State.AWAIT_ALIVE_REPLY;
            return List.of(status("alive"));
          }
          default -> throw new IllegalStateException(st.toString());
        }
        out.add(challenge());
        return out;
      }
      case AWAIT_ALIVE_REPLY -> {
        expectTag(tag, 's');
        String s = new String(msg, 1, msg.length - 1, StandardCharsets.ISO_8859_1);
        if (!s.equals("true")) {
          throw new HandshakeException(Reason.ALREADY_CONNECTED,
              "already connected to " + peerName + ", and the peer keeps that connection");
        }
        return List.of(challenge());
      }
      case AWAIT_COMPLEMENT -> {
        expectTag(tag, 'c');
        long high = b.getInt() & 0xFFFFFFFFL;
        peerFlags |= high << 32;
        peerCreation = b.getInt();
        state = State.AWAIT_REPLY;
        return List.of();
      }
      case AWAIT_REPLY -> {
        expectTag(tag, 'r');
        if (msg.length != 21) {
          throw protocol("challenge reply length: " + msg.length + " (expected: 21)");
        }
        int challengeB = b.getInt();
        byte[] got = new byte[16];
        b.get(got);
        if (!MessageDigest.isEqual(got, digest(ourChallenge))) {
          throw new HandshakeException(Reason.WRONG_COOKIE,
              peerName + " sent a wrong digest: its cookie differs from ours");
        }
        state = State.DONE;
        return List.of(ByteBuffer.allocate(17).put((byte) 'a').put(digest(challengeB)).array());
      }
      default -> throw protocol("no message expected in state " + stateName());
    }
  }

  /** The acceptor tells the initiator why it refuses, then the connection closes. */
  private List<byte[]> refuse(String status, HandshakeException why) {
    state = State.FAILED;
    refusal = why;
    return List.of(status(status));
  }

  /**
   * After {@link #receive}: set when this side refused the peer; the returned messages carry
   * the refusal to the peer, and then the connection is to be closed.
   */
  public HandshakeException refusal() {
    return refusal;
  }

  private boolean sentOldName() {
    return initiator && peerHighestVersion < 6;
  }

  private byte[] challenge() {
    ourChallenge = RANDOM.nextInt();
    byte[] name = self.getBytes(StandardCharsets.ISO_8859_1);
    byte[] out;
    if (version == 6) {
      out = ByteBuffer.allocate(1 + 8 + 4 + 4 + 2 + name.length).put((byte) 'N')
          .putLong(ourFlags).putInt(ourChallenge).putInt(ourCreation)
          .putShort((short) name.length).put(name).array();
      state = peerSentOldName ? State.AWAIT_COMPLEMENT : State.AWAIT_REPLY;
    } else {
      out = ByteBuffer.allocate(1 + 2 + 4 + 4 + name.length).put((byte) 'n').putShort((short) 5)
          .putInt((int) ourFlags).putInt(ourChallenge).put(name).array();
      state = State.AWAIT_REPLY;
    }
    return out;
  }

  private static byte[] status(String s) {
    return ("s" + s).getBytes(StandardCharsets.ISO_8859_1);
  }

  private void checkFlags() throws HandshakeException {
    peerFlags = DistFlags.expand(peerFlags);
    List<String> missing = DistFlags.missingMandatory(peerFlags);
    if (version == 5) {
      missing.remove("HANDSHAKE_23");
    }
    if (!missing.isEmpty()) {
      throw new HandshakeException(Reason.MISSING_FLAGS,
          (peerName == null ? "peer" : peerName) + " lacks mandatory distribution flags "
              + missing);
    }
  }

  private static String readName(ByteBuffer b, int nlen) throws HandshakeException {
    if (nlen < 1 || nlen > 255 || nlen > b.remaining()) {
      throw protocol("node name length: " + nlen + " (expected: 1..255, within the message)");
    }
    byte[] n = new byte[nlen];
    b.get(n);
    return new String(n, StandardCharsets.ISO_8859_1);
  }

  private static void checkNodeName(String name) throws HandshakeException {
    int at = name.indexOf('@');
    if (at <= 0 || at == name.length() - 1 || name.indexOf('@', at + 1) >= 0) {
      throw new HandshakeException(Reason.BAD_NAME,
          "peer node name '" + printable(name) + "' (expected: alive@host)");
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c < 0x20 || c == 0x7F) {
        throw new HandshakeException(Reason.BAD_NAME,
            "peer node name has control character " + (int) c);
      }
    }
  }

  private void expectTag(int tag, char expected) throws HandshakeException {
    if (tag != expected) {
      throw protocol("in state " + stateName() + " expected '" + expected + "', got tag " + tag);
    }
  }

  private static HandshakeException protocol(String message) {
    return new HandshakeException(Reason.PROTOCOL, message);
  }

  private static String printable(String s) {
    StringBuilder sb = new StringBuilder();
    for (char c : s.toCharArray()) {
      sb.append(c >= 0x20 && c < 0x7F ? String.valueOf(c) : String.format("\\x%02x", (int) c));
      if (sb.length() > 80) {
        sb.append("...");
        break;
      }
    }
    return sb.toString();
  }

  /** MD5(cookie ++ decimal(unsigned challenge)), as dist_util:gen_digest/2. */
  byte[] digest(int challenge) {
    try {
      MessageDigest md5 = MessageDigest.getInstance("MD5");
      md5.update(cookie);
      md5.update(Integer.toUnsignedString(challenge).getBytes(StandardCharsets.US_ASCII));
      return md5.digest();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("MD5 unavailable", e);
    }
  }
}
