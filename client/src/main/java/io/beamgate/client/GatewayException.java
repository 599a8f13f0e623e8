package io.beamgate.client;

import io.beamgate.gateway.proto.Error;
import java.util.Objects;
import java.util.Optional;

/**
 * A request failed: the gateway answered with an error ({@link #fromGateway()}), or the client
 * could not get an answer (connection, TLS, timeout, closed). Futures of
 * {@link BeamgateClient} complete exceptionally with this exception (so {@code join()} wraps
 * it in a {@code CompletionException}, {@code get()} in an {@code ExecutionException}); the
 * blocking view throws it as is.
 *
 * <p>The message is one line: the code, what happened, and the details the gateway gave
 * (rule, path, {@code {badrpc, Reason}}). Text from the gateway is stripped of control
 * characters and shortened before it is shown.
 */
public final class GatewayException extends Exception {
  private static final long serialVersionUID = 1L;
  /** Longest text taken from the gateway for one field. */
  static final int MAX_FIELD_CHARS = 2000;

  /** What went wrong: the protocol's {@code Error.Code}s, then the client's own. */
  public enum Code {
    /** The policy does not allow this request for your identity; see {@link #rule()}. */
    PERMISSION_DENIED,
    /** The request or one of its terms was refused; see {@link #path()}. */
    INVALID_ARGUMENT,
    /** The function ran and failed, or does not exist; see {@link #erlang()}. */
    BAD_RPC,
    /**
     * No answer in time: from the gateway (the backend did not answer), or from the client
     * (the gateway did not; a Cancel was sent). The call may still have run.
     */
    TIMEOUT,
    /** No backend node is up; the request was not sent to the cluster. */
    UNAVAILABLE,
    /**
     * The request was in flight when the backend, or the connection to the gateway, went
     * down: it may or may not have run.
     */
    OUTCOME_UNKNOWN,
    /**
     * A limit was reached (the gateway's rate, concurrency or size limits, or this client's
     * {@code maxInFlight} while waiting for a free slot); retry later or send less.
     */
    RESOURCE_EXHAUSTED,
    /**
     * A frame was too large: a request over this client's {@code maxFrameBytes} (not sent), an
     * answer over it (the connection is closed), or a request over the gateway's limit.
     */
    FRAME_TOO_LARGE,
    /** A peer broke the protocol (a frame that does not parse, a wrong kind of answer). */
    PROTOCOL_ERROR,
    /** Cancelled by this client (the future was cancelled, or a blocking wait interrupted). */
    CANCELLED,
    /** The gateway is shutting down or closed this connection (for example: access revoked). */
    CLOSING,
    /** A fault in the gateway; it was logged there. */
    INTERNAL,
    /** The gateway sent a code this client does not know (or none). */
    UNKNOWN,
    /** Client side: the gateway could not be reached, or the connection failed. */
    CONNECTION,
    /**
     * Client side: TLS failed: the gateway's certificate is not trusted or does not name the
     * host, the gateway refused this client's certificate, or the TLS files could not be used.
     */
    TLS,
    /** Client side: the client was closed. */
    CLOSED
  }

  private final Code code;
  private final boolean fromGateway;
  private final String rule;
  private final String reason;
  private final String path;
  private final String erlang;

  private GatewayException(Code code, boolean fromGateway, String message, String rule,
      String reason, String path, String erlang, Throwable cause) {
    super(code + ": " + message + details(message, rule, reason, path, erlang), cause);
    this.code = code;
    this.fromGateway = fromGateway;
    this.rule = rule;
    this.reason = reason;
    this.path = path;
    this.erlang = erlang;
  }

  /** An error raised by the client itself. */
  static GatewayException local(Code code, String message) {
    return local(code, message, null);
  }

  static GatewayException local(Code code, String message, Throwable cause) {
    return new GatewayException(Objects.requireNonNull(code), false, oneLine(message), "", "",
        "", "", cause);
  }

  /** A request's term refused by the client before sending, at {@code path}. */
  static GatewayException invalidArgument(String path, String message) {
    return new GatewayException(Code.INVALID_ARGUMENT, false, oneLine(message), "", "",
        oneLine(path), "", null);
  }

  /** The gateway's {@code Error}, as it sent it. */
  static GatewayException fromError(Error e) {
    String message = oneLine(e.getMessage());
    if (message.isEmpty()) {
      message = "(the gateway gave no message)";
    }
    return new GatewayException(code(e.getCode()), true, message, oneLine(e.getRule()),
        oneLine(e.getReason()), oneLine(e.getPath()), oneLine(e.getErlang()), null);
  }

  /** The same error, with a different message and code, for a request it affects. */
  GatewayException withCodeAndMessage(Code newCode, String message) {
    return new GatewayException(newCode, fromGateway, oneLine(message), rule, reason, path,
        erlang, this);
  }

  static Code code(Error.Code c) {
    switch (c) {
      case PERMISSION_DENIED:
        return Code.PERMISSION_DENIED;
      case INVALID_ARGUMENT:
        return Code.INVALID_ARGUMENT;
      case BAD_RPC:
        return Code.BAD_RPC;
      case TIMEOUT:
        return Code.TIMEOUT;
      case UNAVAILABLE:
        return Code.UNAVAILABLE;
      case OUTCOME_UNKNOWN:
        return Code.OUTCOME_UNKNOWN;
      case RESOURCE_EXHAUSTED:
        return Code.RESOURCE_EXHAUSTED;
      case FRAME_TOO_LARGE:
        return Code.FRAME_TOO_LARGE;
      case PROTOCOL_ERROR:
        return Code.PROTOCOL_ERROR;
      case CANCELLED:
        return Code.CANCELLED;
      case CLOSING:
        return Code.CLOSING;
      case INTERNAL:
        return Code.INTERNAL;
      case CODE_UNSPECIFIED:
      case UNRECOGNIZED:
      default:
        return Code.UNKNOWN;
    }
  }

  public Code code() {
    return code;
  }

  /** True when the gateway sent this error; false when the client raised it. */
  public boolean fromGateway() {
    return fromGateway;
  }

  /** PERMISSION_DENIED: the policy rule that decided, if the gateway named one. */
  public Optional<String> rule() {
    return nonEmpty(rule);
  }

  /** PERMISSION_DENIED, INVALID_ARGUMENT, RESOURCE_EXHAUSTED: the reason, in words. */
  public Optional<String> reason() {
    return nonEmpty(reason);
  }

  /** INVALID_ARGUMENT: where the refused term is, for example {@code args[1]{2}}. */
  public Optional<String> path() {
    return nonEmpty(path);
  }

  /** BAD_RPC: {@code {badrpc, Reason}} as Erlang prints it. */
  public Optional<String> erlang() {
    return nonEmpty(erlang);
  }

  private static Optional<String> nonEmpty(String s) {
    return s.isEmpty() ? Optional.empty() : Optional.of(s);
  }

  private static String details(String message, String rule, String reason, String path,
      String erlang) {
    StringBuilder sb = new StringBuilder();
    appendDetail(sb, message, "rule", rule);
    appendDetail(sb, message, "reason", reason);
    appendDetail(sb, message, "at", path);
    appendDetail(sb, message, "", erlang);
    return sb.length() == 0 ? "" : " (" + sb + ")";
  }

  private static void appendDetail(StringBuilder sb, String message, String label,
      String value) {
    if (value.isEmpty() || message.contains(value)) {
      return;
    }
    if (sb.length() > 0) {
      sb.append("; ");
    }
    sb.append(label.isEmpty() ? value : label + " " + value);
  }

  /**
   * One printable line: control and format characters (line breaks, terminal escapes,
   * bidirectional overrides) become spaces, and
   * text past {@link #MAX_FIELD_CHARS} is cut.
   */
  static String oneLine(String s) {
    if (s == null) {
      return "";
    }
    StringBuilder sb = new StringBuilder(Math.min(s.length(), MAX_FIELD_CHARS + 3));
    for (int i = 0; i < s.length(); i++) {
      if (sb.length() >= MAX_FIELD_CHARS) {
        sb.append("...");
        break;
      }
      char c = s.charAt(i);
      boolean hidden = Character.isISOControl(c) || Character.getType(c) == Character.FORMAT;
      sb.append(hidden ? ' ' : c);
    }
    return sb.toString().strip();
  }
}
