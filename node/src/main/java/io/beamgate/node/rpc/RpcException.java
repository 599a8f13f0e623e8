package io.beamgate.node.rpc;

import io.beamgate.node.term.Atom;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.Tuple;

/**
 * A remote call did not return a result. {@link #kind()} says why; {@link #badrpc()} gives the
 * {@code {badrpc, Reason}} term {@code rpc:call/4,5} would have returned in erl.
 */
public class RpcException extends Exception {
  public enum Kind {
    /** The remote side answered {@code {badrpc, Reason}}: an exception, undefined function... */
    BADRPC,
    /** No answer within the timeout; the call may still run remotely. */
    TIMEOUT,
    /** The connection went down during the call: its outcome is unknown. */
    NODEDOWN,
    /** No connection could be made (EPMD, refused, cookie): the call was not sent. */
    NOT_CONNECTED,
    /**
     * The answer was larger than the caller's cap on it and was never decoded (the call ran;
     * its result is not known here).
     */
    TOO_LARGE
  }

  private final Kind kind;
  private final Term reason;

  public RpcException(Kind kind, Term reason, String message) {
    super(message);
    this.kind = kind;
    this.reason = reason;
  }

  public Kind kind() {
    return kind;
  }

  /** The reason term ({@code timeout}, {@code nodedown}, or the remote one). */
  public Term reason() {
    return reason;
  }

  /** {@code {badrpc, Reason}}. */
  public Term badrpc() {
    return Tuple.of(Atom.of("badrpc"), reason);
  }
}
