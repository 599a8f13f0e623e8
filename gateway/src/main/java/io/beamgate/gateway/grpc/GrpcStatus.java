package io.beamgate.gateway.grpc;

import com.google.protobuf.Any;
import io.beamgate.gateway.proto.Error;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;

/**
 * The native protocol's typed errors as gRPC statuses. The status code is the nearest gRPC
 * code (the table is in docs/grpc-guide.md); the full {@link Error} travels in the trailers
 * twice: as {@code beamgate-error-bin} (the serialized Error, for clients that read metadata)
 * and packed in the standard {@code google.rpc.Status} details (for tools that show rich
 * errors).
 */
public final class GrpcStatus {
  /** The trailer that carries the serialized {@code beamgate.v1.Error}. */
  public static final Metadata.Key<byte[]> ERROR_KEY =
      Metadata.Key.of("beamgate-error-bin", Metadata.BINARY_BYTE_MARSHALLER);

  private GrpcStatus() {}

  /** The gRPC status code for a beamgate error code. */
  public static Status.Code code(Error.Code c) {
    return switch (c) {
      case PERMISSION_DENIED -> Status.Code.PERMISSION_DENIED;
      case INVALID_ARGUMENT, PROTOCOL_ERROR -> Status.Code.INVALID_ARGUMENT;
      // The function ran (or was called) and raised: the application's error, not ours.
      case BAD_RPC -> Status.Code.UNKNOWN;
      case TIMEOUT -> Status.Code.DEADLINE_EXCEEDED;
      case UNAVAILABLE, CLOSING -> Status.Code.UNAVAILABLE;
      // Not UNAVAILABLE: that one tells clients a retry is safe, and here it may not be.
      case OUTCOME_UNKNOWN -> Status.Code.ABORTED;
      case RESOURCE_EXHAUSTED, FRAME_TOO_LARGE -> Status.Code.RESOURCE_EXHAUSTED;
      case CANCELLED -> Status.Code.CANCELLED;
      case INTERNAL, CODE_UNSPECIFIED, UNRECOGNIZED -> Status.Code.INTERNAL;
    };
  }

  /** {@code e} as the exception that ends an RPC with its status and trailers. */
  public static StatusRuntimeException of(Error e) {
    Metadata trailers = new Metadata();
    trailers.put(ERROR_KEY, e.toByteArray());
    com.google.rpc.Status rich = com.google.rpc.Status.newBuilder()
        .setCode(code(e.getCode()).value())
        .setMessage(e.getCode().name() + ": " + e.getMessage())
        .addDetails(Any.pack(e)).build();
    return StatusProto.toStatusRuntimeException(rich, trailers);
  }

  /** The beamgate Error an RPC ended with, from its trailers; null when it carries none. */
  public static Error errorOf(Metadata trailers) {
    byte[] b = trailers == null ? null : trailers.get(ERROR_KEY);
    if (b == null) {
      return null;
    }
    try {
      return Error.parseFrom(b);
    } catch (com.google.protobuf.InvalidProtocolBufferException ex) {
      return null;
    }
  }
}
