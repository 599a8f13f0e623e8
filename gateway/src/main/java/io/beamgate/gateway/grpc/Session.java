package io.beamgate.gateway.grpc;

import io.beamgate.gateway.admission.Admission;
import io.beamgate.security.identity.PeerIdentity;
import io.beamgate.security.identity.Principal;
import io.grpc.Context;
import io.netty.channel.Channel;

/**
 * One TLS connection that chose gRPC: who is on it (computed once, from the client
 * certificate, at the handshake) and its own budget of pings (limits.control_per_second).
 * Every RPC on the connection runs with it in its {@link Context}.
 */
final class Session {
  static final Context.Key<Session> KEY = Context.key("beamgate-session");

  final PeerIdentity who;
  final Principal principal;
  final String peer;
  final Channel tls;
  private final int controlPerSecond;
  private double tokens;
  private long refill;
  private boolean refusing;

  Session(PeerIdentity who, Channel tls, int controlPerSecond) {
    this.who = who;
    this.principal = who.principal();
    this.peer = who.address();
    this.tls = tls;
    this.controlPerSecond = controlPerSecond;
    this.tokens = controlPerSecond;
    this.refill = System.nanoTime();
  }

  Admission.Caller caller() {
    return new Admission.Caller(principal, peer, null, Admission.Door.CLIENT, null);
  }

  /** Result of asking for a ping token. */
  enum Token { GRANTED, REFUSED_FIRST, REFUSED }

  /** A token for a ping; past the rate, the first refusal of a burst says so (to audit it). */
  synchronized Token controlToken() {
    long now = System.nanoTime();
    tokens = Math.min(controlPerSecond, tokens + (now - refill) / 1e9 * controlPerSecond);
    refill = now;
    if (tokens < 1) {
      Token t = refusing ? Token.REFUSED : Token.REFUSED_FIRST;
      refusing = true;
      return t;
    }
    tokens -= 1;
    refusing = false;
    return Token.GRANTED;
  }
}
