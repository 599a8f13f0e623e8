package io.beamgate.client;

import io.beamgate.gateway.proto.ClientFrame;
import io.beamgate.gateway.proto.Error;
import io.beamgate.gateway.proto.Ok;
import io.beamgate.gateway.proto.Pong;
import io.beamgate.gateway.proto.ServerFrame;
import io.beamgate.gateway.protocol.FrameDecoder;
import io.beamgate.gateway.protocol.FrameEncoder;
import io.beamgate.gateway.protocol.TermProto;
import io.beamgate.node.term.Term;
import io.beamgate.gateway.protocol.TlsProfile;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import java.net.InetSocketAddress;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A stand-in gateway for client tests: real mTLS (the security module's server context),
 * real framing, and a script that decides each answer, so tests can answer out of order,
 * late, never, with errors, with oversized or garbage frames, or by dropping the connection.
 * Scripts run on the connection's event loop: they must not block.
 */
final class ScriptedGateway implements AutoCloseable {
  /** Decides what to do with each frame from a client. */
  interface Script {
    void onFrame(Peer peer, ClientFrame frame) throws Exception;
  }

  private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1,
      NioIoHandler.newFactory());
  private final Channel server;
  private volatile Script script;
  /** Every frame received, on every connection, in order. */
  final LinkedBlockingQueue<ClientFrame> received = new LinkedBlockingQueue<>();
  /** Connections whose TLS handshake succeeded. */
  final AtomicInteger connections = new AtomicInteger();
  final List<Peer> peers = new CopyOnWriteArrayList<>();

  private ScriptedGateway(SslContext ctx, String bind, int port, Script script)
      throws Exception {
    this.script = script;
    server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
        .option(ChannelOption.SO_REUSEADDR, true)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            SslHandler tls = ctx.newHandler(ch.alloc());
            tls.setHandshakeTimeoutMillis(5000);
            Peer peer = new Peer(ch);
            tls.handshakeFuture().addListener(f -> {
              if (f.isSuccess()) {
                peer.principal = uriSan((X509Certificate)
                    tls.engine().getSession().getPeerCertificates()[0]);
                peers.add(peer);
                connections.incrementAndGet();
              }
            });
            ch.pipeline().addLast(tls)
                .addLast(new FrameDecoder<>(ClientFrame.parser(), 1 << 20, 100))
                .addLast(FrameEncoder.INSTANCE)
                .addLast(new SimpleChannelInboundHandler<ClientFrame>() {
                  @Override
                  protected void channelRead0(ChannelHandlerContext c, ClientFrame f)
                      throws Exception {
                    received.add(f);
                    ScriptedGateway.this.script.onFrame(peer, f);
                  }

                  @Override
                  public void exceptionCaught(ChannelHandlerContext c, Throwable t) {
                    c.close();
                  }
                });
          }
        }).bind(new InetSocketAddress(bind, port)).sync().channel();
  }

  static ScriptedGateway start(TestPki pki, Script script) throws Exception {
    return start(pki.serverCert, pki.serverKey, pki, 0, script);
  }

  static ScriptedGateway start(java.nio.file.Path cert, java.nio.file.Path key, TestPki pki,
      int port, Script script) throws Exception {
    return start(cert, key, pki, "127.0.0.1", port, script);
  }

  /** A gateway listening on {@code bind} (any loopback address: 127.0.0.2 stands for a host). */
  static ScriptedGateway start(java.nio.file.Path cert, java.nio.file.Path key, TestPki pki,
      String bind, int port, Script script) throws Exception {
    // The gateway's own TLS (security, gateway.transport) is not a dependency of the client:
    // a plain Netty server context with the shared profile, requiring a client certificate.
    SslContext ctx = TlsProfile.apply(SslContextBuilder.forServer(cert.toFile(), key.toFile())
        .trustManager(pki.ca.toFile()).clientAuth(ClientAuth.REQUIRE),
        TlsProfile.Provider.JDK, false, TlsProfile.ALPN).build();
    return new ScriptedGateway(ctx, bind, port, script);
  }

  /** The certificate's first URI SAN (the principal the test PKI's clients have), or "". */
  private static String uriSan(X509Certificate c) throws java.security.cert.CertificateParsingException {
    if (c.getSubjectAlternativeNames() != null) {
      for (java.util.List<?> san : c.getSubjectAlternativeNames()) {
        if (((Integer) san.get(0)) == 6) {
          return (String) san.get(1);
        }
      }
    }
    return "";
  }

  int port() {
    return ((InetSocketAddress) server.localAddress()).getPort();
  }

  void script(Script s) {
    this.script = s;
  }

  /** The next frame received, or null after {@code ms}. */
  ClientFrame next(long ms) throws InterruptedException {
    return received.poll(ms, TimeUnit.MILLISECONDS);
  }

  @Override
  public void close() {
    server.close().awaitUninterruptibly();
    for (Peer p : peers) {
      p.channel.close().awaitUninterruptibly();
    }
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
  }

  /**
   * Answers like a well-behaved gateway: {@code test:echo(X)} returns X; {@code test:hang}
   * never answers (until cancelled: CANCELLED); {@code test:drop} closes the connection;
   * {@code test:big(N)} returns a binary of N bytes; {@code test:garbage} writes a frame that
   * does not parse; {@code test:shutdown} sends CLOSING with id 0 and closes;
   * {@code test:fail_CODE} answers an Error of that code (lower case) with every detail set;
   * any other function is a BAD_RPC (undef). Ping, cast, send and cancel as the protocol says.
   */
  static final Script STANDARD = (peer, f) -> {
    switch (f.getRequestCase()) {
      case PING:
        peer.send(ServerFrame.newBuilder().setId(f.getId()).setPong(Pong.newBuilder()
            .setProtocol(1).setServer("scripted/0").setPrincipal(peer.principal)).build());
        return;
      case CAST:
      case SEND:
        peer.ok(f.getId());
        return;
      case CANCEL:
        peer.error(f.getCancel().getTarget(), Error.Code.CANCELLED, "cancelled by the client");
        peer.ok(f.getId());
        return;
      case CALL:
        break;
      default:
        peer.error(f.getId(), Error.Code.PROTOCOL_ERROR, "unknown request");
        return;
    }
    String module = f.getCall().getModule();
    String function = f.getCall().getFunction();
    if (module.equals("test") && function.startsWith("fail_")) {
      Error.Code code = Error.Code.valueOf(function.substring(5).toUpperCase());
      peer.error(f.getId(), code, "scripted " + code, b -> {
        if (code == Error.Code.PERMISSION_DENIED) {
          b.setRule("ops-only").setReason("no rule allows test:fail_permission_denied/0");
        } else if (code == Error.Code.INVALID_ARGUMENT) {
          b.setPath("args[0]{1}").setReason("a pid");
        } else if (code == Error.Code.BAD_RPC) {
          b.setErlang("{badrpc, {'EXIT', {badarith, []}}}");
        } else if (code == Error.Code.RESOURCE_EXHAUSTED) {
          b.setReason("rate limit 10/s");
        }
      });
      return;
    }
    switch (module + ":" + function) {
      case "test:echo":
        peer.send(ServerFrame.newBuilder().setId(f.getId())
            .setResult(f.getCall().getArgs(0)).build());
        return;
      case "test:hang":
        return;
      case "test:drop":
        peer.channel.close();
        return;
      case "test:big":
        peer.send(ServerFrame.newBuilder().setId(f.getId()).setResult(
            io.beamgate.gateway.proto.Term.newBuilder().setBinary(com.google.protobuf.ByteString
                .copyFrom(new byte[(int) f.getCall().getArgs(0).getInt()]))).build());
        return;
      case "test:garbage":
        // A 5-byte frame whose body is not a ServerFrame (field 15 with wire type 7).
        peer.raw(new byte[] {5, (byte) 0x7F, 1, 2, 3, 4});
        return;
      case "test:shutdown":
        peer.error(0, Error.Code.CLOSING, "the gateway is shutting down");
        peer.close();
        return;
      default:
        peer.error(f.getId(), Error.Code.BAD_RPC, "undefined function",
            b -> b.setErlang("{badrpc, {'EXIT', {undef, [{" + module + ", " + function
                + ", [], []}]}}}"));
    }
  };

  /** One client connection, as a script sees it. */
  static final class Peer {
    final Channel channel;
    volatile String principal = "";

    Peer(Channel channel) {
      this.channel = channel;
    }

    void send(ServerFrame f) {
      channel.writeAndFlush(f);
    }

    void result(long id, Term t) throws TermProto.TooDeep {
      send(ServerFrame.newBuilder().setId(id).setResult(TermProto.toProto(t, 48)).build());
    }

    void ok(long id) {
      send(ServerFrame.newBuilder().setId(id).setOk(Ok.getDefaultInstance()).build());
    }

    void error(long id, Error.Code code, String message) {
      error(id, code, message, b -> { });
    }

    void error(long id, Error.Code code, String message,
        java.util.function.Consumer<Error.Builder> more) {
      Error.Builder b = Error.newBuilder().setCode(code).setMessage(message);
      more.accept(b);
      send(ServerFrame.newBuilder().setId(id).setError(b).build());
    }

    void raw(byte[] bytes) {
      channel.writeAndFlush(Unpooled.wrappedBuffer(bytes));
    }

    void close() {
      channel.close();
    }
  }
}
