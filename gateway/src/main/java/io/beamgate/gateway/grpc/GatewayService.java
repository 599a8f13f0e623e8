package io.beamgate.gateway.grpc;

import io.beamgate.gateway.admission.Admission;
import io.beamgate.gateway.answer.CallOutcome;
import io.beamgate.gateway.proto.Call;
import io.beamgate.gateway.proto.Cast;
import io.beamgate.gateway.proto.Error;
import io.beamgate.gateway.proto.Ok;
import io.beamgate.gateway.proto.Ping;
import io.beamgate.gateway.proto.Pong;
import io.beamgate.gateway.proto.Send;
import io.beamgate.gateway.protocol.TermProto;
import io.beamgate.node.rpc.RpcException;
import io.beamgate.node.term.Term;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code beamgate.v1.Gateway}: each RPC is a native-protocol request taken through the same
 * {@link Admission} path (door CLIENT: the same policy, term guard, code-shape check, limits
 * and audit), answered with the same results and errors, the errors as gRPC statuses
 * ({@link GrpcStatus}). The RPC's deadline shortens the call's timeout; a cancelled RPC is
 * finished as the native Cancel finishes a request.
 */
final class GatewayService {
  private static final Logger log = LoggerFactory.getLogger(GatewayService.class);

  /** How close to its deadline a cancelled RPC counts as timed out, not cancelled. */
  static final long DEADLINE_SLACK_MILLIS = 100;

  private final GrpcDoor.Wiring w;

  GatewayService(GrpcDoor.Wiring w) {
    this.w = w;
  }

  ServerServiceDefinition definition() {
    return ServerServiceDefinition.builder(GatewayMethods.DESCRIPTOR)
        .addMethod(GatewayMethods.CALL, ServerCalls.asyncUnaryCall(this::call))
        .addMethod(GatewayMethods.CAST, ServerCalls.asyncUnaryCall(this::cast))
        .addMethod(GatewayMethods.SEND, ServerCalls.asyncUnaryCall(this::send))
        .addMethod(GatewayMethods.PING, ServerCalls.asyncUnaryCall(this::ping))
        .build();
  }

  private static Admission.Args args(List<io.beamgate.gateway.proto.Term> protoArgs) {
    return () -> {
      List<Term> args = new ArrayList<>(protoArgs.size());
      for (int i = 0; i < protoArgs.size(); i++) {
        try {
          args.add(TermProto.fromProto(protoArgs.get(i), "args[" + i + "]",
              TermProto.DEFAULT_MAX_DEPTH));
        } catch (TermProto.Rejected r) {
          throw new Admission.BadArgument(r.path(), r.getMessage());
        }
      }
      return args;
    };
  }

  /** Admits the request, or ends the RPC with the refusal and returns null. */
  private Admission.Admitted admit(Admission.Request r, Admission.Args args,
      StreamObserver<?> out) {
    Admission.Result res = w.admission().get().admit(Session.KEY.get().caller(), r, args);
    if (res instanceof Admission.Refused no) {
      out.onError(GrpcStatus.of(CallOutcome.refusal(no)));
      return null;
    }
    return (Admission.Admitted) res;
  }

  private void call(Call c, StreamObserver<io.beamgate.gateway.proto.Term> out) {
    Admission.Admitted a = admit(Admission.Request.call(c.getModule(), c.getFunction(),
        c.getArgsCount()), args(c.getArgsList()), out);
    if (a == null) {
      return;
    }
    long asked = c.getTimeoutMs();
    Deadline deadline = Context.current().getDeadline();
    if (deadline != null) {
      long left = Math.max(1, deadline.timeRemaining(TimeUnit.MILLISECONDS));
      asked = asked > 0 ? Math.min(asked, left) : left;
    }
    // Whichever comes first ends the request: the cluster's answer, or the RPC's end
    // (cancelled by the client, its deadline, or its connection gone).
    AtomicBoolean over = new AtomicBoolean();
    ServerCallStreamObserver<io.beamgate.gateway.proto.Term> so =
        (ServerCallStreamObserver<io.beamgate.gateway.proto.Term>) out;
    so.setOnCancelHandler(() -> {
      if (over.compareAndSet(false, true)) {
        // A client gives up at its own deadline and resets the stream, which reaches us a
        // little before the same deadline passes here: count that as the deadline too.
        boolean expired = deadline != null
            && deadline.timeRemaining(TimeUnit.MILLISECONDS) < DEADLINE_SLACK_MILLIS;
        a.finish(expired ? "timeout" : "cancelled", expired
            ? "the RPC's deadline passed before the answer" : "cancelled by the client");
      }
    });
    w.backends().callAsync(w.rpc(), a.backend, c.getModule(), c.getFunction(), a.args,
        Duration.ofMillis(a.timeoutMillis(asked)), a.rule.limits().maxResultBytes(),
        other -> a.backend = other).whenComplete((v, e) -> {
          if (!over.compareAndSet(false, true)) {
            return;
          }
          CallOutcome o = CallOutcome.of(a, v, e, TermProto.DEFAULT_MAX_DEPTH);
          try {
            if (o instanceof CallOutcome.Value val) {
              out.onNext(val.term());
              out.onCompleted();
            } else {
              Error err = ((CallOutcome.Failure) o).error();
              if (err.getCode() == Error.Code.INTERNAL) {
                log.error("call {} for {} failed inside the gateway", a.request.what(),
                    a.caller.principal().name(), e);
              }
              out.onError(GrpcStatus.of(err));
            }
          } catch (RuntimeException gone) {
            log.debug("answer to {} not sent: {}", a.request.what(), gone.getMessage());
          }
        });
  }

  private void cast(Cast c, StreamObserver<Ok> out) {
    Admission.Admitted a = admit(Admission.Request.cast(c.getModule(), c.getFunction(),
        c.getArgsCount()), args(c.getArgsList()), out);
    if (a == null) {
      return;
    }
    try {
      w.rpc().cast(a.backend.node, c.getModule(), c.getFunction(), a.args,
          Duration.ofMillis(a.timeoutMillis(0)));
      a.finish("cast", null);
      out.onNext(Ok.getDefaultInstance());
      out.onCompleted();
    } catch (RpcException e) {
      a.finish("unavailable", e.getMessage());
      out.onError(GrpcStatus.of(CallOutcome.error(Error.Code.UNAVAILABLE, e.getMessage())
          .build()));
    }
  }

  private void send(Send s, StreamObserver<Ok> out) {
    Admission.Admitted a = admit(Admission.Request.send(s.getName()), () -> {
      try {
        return List.of(TermProto.fromProto(s.getMessage(), "message",
            TermProto.DEFAULT_MAX_DEPTH));
      } catch (TermProto.Rejected r) {
        throw new Admission.BadArgument(r.path(), r.getMessage());
      }
    }, out);
    if (a == null) {
      return;
    }
    w.sender().send(s.getName(), a.backend.node, a.args.get(0));
    a.finish("sent", null);
    out.onNext(Ok.getDefaultInstance());
    out.onCompleted();
  }

  private void ping(Ping p, StreamObserver<Pong> out) {
    Session s = Session.KEY.get();
    Session.Token t = s.controlToken();
    if (t != Session.Token.GRANTED) {
      String why = "pings: more than " + w.limits().controlPerSecond() + " per second on this"
          + " connection (limits.control_per_second)";
      if (t == Session.Token.REFUSED_FIRST) { // one audit record per burst
        w.admission().get().refusedByDoor(s.caller(), "ping", why, "resource_exhausted");
      }
      out.onError(GrpcStatus.of(CallOutcome.error(Error.Code.RESOURCE_EXHAUSTED, why)
          .setReason(why).build()));
      return;
    }
    out.onNext(Pong.newBuilder().setProtocol(1).setServer(w.version())
        .setPrincipal(s.principal.name()).build());
    out.onCompleted();
  }
}
