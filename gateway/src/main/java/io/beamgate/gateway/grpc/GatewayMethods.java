package io.beamgate.gateway.grpc;

import com.google.protobuf.Descriptors;
import com.google.protobuf.Message;
import io.beamgate.gateway.proto.Call;
import io.beamgate.gateway.proto.Cast;
import io.beamgate.gateway.proto.GatewayProto;
import io.beamgate.gateway.proto.Ok;
import io.beamgate.gateway.proto.Ping;
import io.beamgate.gateway.proto.Pong;
import io.beamgate.gateway.proto.Send;
import io.beamgate.gateway.proto.Term;
import io.grpc.MethodDescriptor;
import io.grpc.ServiceDescriptor;
import io.grpc.protobuf.ProtoFileDescriptorSupplier;
import io.grpc.protobuf.ProtoMethodDescriptorSupplier;
import io.grpc.protobuf.ProtoServiceDescriptorSupplier;
import io.grpc.protobuf.ProtoUtils;

/**
 * The gRPC service {@code beamgate.v1.Gateway} of client/src/main/proto/beamgate/v1/gateway.proto,
 * described by hand over the generated messages: no gRPC code generator (a native protoc
 * plugin) in the build, and the client module keeps no gRPC dependency. Carries the .proto's
 * descriptors, so server reflection can show the service. Any gRPC client may use these.
 */
public final class GatewayMethods {
  public static final String SERVICE = "beamgate.v1.Gateway";
  public static final MethodDescriptor<Call, Term> CALL =
      unary("Call", Call.getDefaultInstance(), Term.getDefaultInstance());
  public static final MethodDescriptor<Cast, Ok> CAST =
      unary("Cast", Cast.getDefaultInstance(), Ok.getDefaultInstance());
  public static final MethodDescriptor<Send, Ok> SEND =
      unary("Send", Send.getDefaultInstance(), Ok.getDefaultInstance());
  public static final MethodDescriptor<Ping, Pong> PING =
      unary("Ping", Ping.getDefaultInstance(), Pong.getDefaultInstance());
  public static final ServiceDescriptor DESCRIPTOR = ServiceDescriptor.newBuilder(SERVICE)
      .setSchemaDescriptor(new Schema()).addMethod(CALL).addMethod(CAST).addMethod(SEND)
      .addMethod(PING).build();

  private GatewayMethods() {}

  private static <Q extends Message, A extends Message> MethodDescriptor<Q, A> unary(
      String name, Q request, A response) {
    return MethodDescriptor.<Q, A>newBuilder()
        .setType(MethodDescriptor.MethodType.UNARY)
        .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, name))
        .setRequestMarshaller(ProtoUtils.marshaller(request))
        .setResponseMarshaller(ProtoUtils.marshaller(response))
        .setSchemaDescriptor(new MethodSchema(name))
        .build();
  }

  /** Where reflection finds the service's .proto. */
  private static class Schema implements ProtoFileDescriptorSupplier,
      ProtoServiceDescriptorSupplier {
    @Override
    public Descriptors.FileDescriptor getFileDescriptor() {
      return GatewayProto.getDescriptor();
    }

    @Override
    public Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("Gateway");
    }
  }

  private static final class MethodSchema extends Schema implements
      ProtoMethodDescriptorSupplier {
    private final String name;

    MethodSchema(String name) {
      this.name = name;
    }

    @Override
    public Descriptors.MethodDescriptor getMethodDescriptor() {
      return getServiceDescriptor().findMethodByName(name);
    }
  }
}
