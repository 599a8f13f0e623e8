package io.beamgate.gateway.cli;

import io.beamgate.gateway.ops.Json;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code beamgate gateway status --config FILE [--json]}: the running gateway's status. */
@Command(name = "status", mixinStandardHelpOptions = true,
    description = {"Print the running gateway's status, asked over its admin socket: whether"
        + " it is ready, its backends, connections, requests in flight, bridges, the audit log,"
        + " whether the files on disk differ from those in force, and the last reload error.",
        "With --json, one JSON document (the same as the admin listener's /status), for jq"
        + " and scripts.",
        "Exit 0 when it answered, 1 on a bad configuration, 69 when no gateway answers."})
public final class GatewayStatusCommand implements Callable<Integer> {
  @Option(names = "--config", required = true, paramLabel = "FILE",
      description = "The running gateway's configuration (names the admin socket).")
  Path config;

  @Option(names = "--json", description = "Print the status as one JSON document.")
  boolean json;

  @Override
  public Integer call() {
    GatewayCommand.AdminAnswer a = GatewayCommand.askAdmin("status", config, "status");
    if (a.text() == null) {
      return a.exit();
    }
    String answer = a.text();
    if (!answer.startsWith("ok ")) {
      System.err.println("beamgate gateway status: " + answer);
      return 1;
    }
    String doc = answer.substring(3).trim();
    if (json) {
      System.out.println(doc);
    } else {
      print(System.out, "", Json.parse(doc));
    }
    return 0;
  }

  /** Maps as {@code key: value} lines, indented by depth; lists as {@code -} items. */
  static void print(PrintStream out, String indent, Object v) {
    if (v instanceof Map<?, ?> m) {
      for (Map.Entry<?, ?> e : m.entrySet()) {
        Object x = e.getValue();
        if (x instanceof Map<?, ?> || x instanceof List<?> l && !l.isEmpty()) {
          out.println(indent + e.getKey() + ":");
          print(out, indent + "  ", x);
        } else {
          out.println(indent + e.getKey() + ": " + (x instanceof List<?> ? "none" : x));
        }
      }
    } else if (v instanceof List<?> l) {
      for (Object x : l) {
        if (x instanceof Map<?, ?> || x instanceof List<?>) {
          out.println(indent + "-");
          print(out, indent + "  ", x);
        } else {
          out.println(indent + "- " + x);
        }
      }
    } else {
      out.println(indent + v);
    }
  }
}
