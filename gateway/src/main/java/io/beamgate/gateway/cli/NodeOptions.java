package io.beamgate.gateway.cli;

import io.beamgate.node.Cookie;
import io.beamgate.node.LocalNode;
import io.beamgate.node.NodeConfig;
import io.beamgate.node.NodeName;
import io.beamgate.node.epmd.EpmdClient;
import java.io.IOException;
import java.time.Duration;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

/** Options shared by the {@code node} subcommands that act as a client node. */
final class NodeOptions {
  static final class SelfName {
    @Option(names = "--sname", paramLabel = "SELF", description = "Short name of this node.")
    String sname;

    @Option(names = "--name", paramLabel = "SELF", description = "Long name of this node.")
    String name;
  }

  @ArgGroup(exclusive = true, multiplicity = "0..1")
  SelfName self;

  @ArgGroup(exclusive = true, multiplicity = "0..1")
  CookieOptions cookie;

  @Option(names = "--epmd-port", paramLabel = "P",
      description = "EPMD port on the target's host (default: $ERL_EPMD_PORT or 4369).")
  Integer epmdPort;

  boolean longNames() {
    return self != null && self.name != null;
  }

  Cookie readCookie() throws IOException {
    return CookieOptions.read(cookie);
  }

  /** The target's full name: {@code name} alone gets this host, as erl_call does. */
  String target(String target) {
    return NodeName.of(target, longNames()).toString();
  }

  /** A hidden, client-only node (no listener, no EPMD registration), like erl_call's. */
  LocalNode startClient(Duration timeout) throws IOException {
    String given = self == null ? null : (self.sname != null ? self.sname : self.name);
    String alive = given != null ? given : "beamgate_cli_" + ProcessHandle.current().pid();
    NodeConfig cfg = NodeConfig.builder(NodeName.of(alive, longNames()))
        .cookie(readCookie())
        .hidden(true)
        .epmdPort(epmdPort != null ? epmdPort : EpmdClient.defaultPort())
        .connectTimeout(timeout)
        .handshakeTimeout(timeout)
        .build();
    return LocalNode.startClient(cfg);
  }
}
