package io.beamgate.gateway.cli;

import io.beamgate.node.epmd.EpmdException;
import io.beamgate.node.epmd.EpmdServer;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code beamgate epmd}: runs the embedded EPMD until interrupted. */
@Command(name = "epmd", mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = "Run the embedded EPMD (Erlang port mapper) in the foreground.")
public final class EpmdCommand implements Callable<Integer> {
  @Option(names = "--port", defaultValue = "4369", description = "Port to listen on (default: ${DEFAULT-VALUE}).")
  int port;

  @Option(names = "--address", defaultValue = "127.0.0.1",
      description = "Address to bind (default: ${DEFAULT-VALUE}; EPMD should not face the internet).")
  String address;

  @Option(names = "--max-nodes", defaultValue = "1024",
      description = "Most registered nodes at once (default: ${DEFAULT-VALUE}).")
  int maxNodes;

  @Override
  public Integer call() throws InterruptedException {
    InetAddress addr;
    try {
      addr = InetAddress.getByName(address);
    } catch (UnknownHostException e) {
      System.err.println("beamgate epmd: unknown address '" + address + "'");
      return Main.EXIT_USAGE;
    }
    EpmdServer server;
    try {
      server = EpmdServer.start(
          new EpmdServer.Config(addr, port, maxNodes, Duration.ofSeconds(10)));
    } catch (EpmdException | IllegalArgumentException e) {
      System.err.println("beamgate epmd: " + e.getMessage());
      return 1;
    }
    System.out.println("epmd listening on " + server.address().getAddress().getHostAddress()
        + ":" + server.port());
    CountDownLatch stop = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      server.close();
      stop.countDown();
    }));
    stop.await();
    return 0;
  }
}
