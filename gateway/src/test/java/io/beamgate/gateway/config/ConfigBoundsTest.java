package io.beamgate.gateway.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.security.yaml.ConfigException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every numeric key at and past its bounds, driven by the tables: a row added to
 * {@link ConfigTables} is tested here without a line more. At a bound the file is accepted and
 * the value read is the bound; past it the file is refused with a message naming the key, the
 * value and the bound. Every section refuses a key its table lacks, naming the ones it has.
 */
class ConfigBoundsTest {
  static final Path FILE = Path.of("/etc/beamgate/gateway.yaml");

  /** Every integer row, with the section that holds it. */
  static Stream<Arguments> integerRows() {
    List<Arguments> out = new ArrayList<>();
    for (ConfigSection s : ConfigTables.all()) {
      for (ConfigKey k : s.rows()) {
        if (k.type() == ConfigKey.Type.INTEGER) {
          out.add(Arguments.of(s.key(k), s, k));
        }
      }
    }
    return out.stream();
  }

  /** Every choice row, with the section that holds it. */
  static Stream<Arguments> choiceRows() {
    List<Arguments> out = new ArrayList<>();
    for (ConfigSection s : ConfigTables.all()) {
      for (ConfigKey k : s.rows()) {
        if (k.type() == ConfigKey.Type.CHOICE) {
          out.add(Arguments.of(s.key(k), s, k));
        }
      }
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("choiceRows")
  void everyChoiceAcceptedAnyOtherValueRefusedWithTheChoices(String key, ConfigSection s,
      ConfigKey k) throws Exception {
    for (String v : k.choices()) {
      Map<String, Object> file = base();
      section(file, s).put(k.name(), v);
      parse(file, null);
    }
    Map<String, Object> file = base();
    section(file, s).put(k.name(), "sideways");
    ConfigException e = assertThrows(ConfigException.class, () -> parse(file, null), key);
    assertTrue(e.getMessage().contains(k.name()) && e.getMessage().contains("sideways")
        && k.choices().stream().allMatch(e.getMessage()::contains),
        "the message names the key, the value and the choices: " + e.getMessage());
  }

  /** Every section. */
  static Stream<Arguments> sections() {
    return ConfigTables.all().stream().map(s -> Arguments.of(
        s.prefix().isEmpty() ? "(top)" : s.prefix(), s));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("integerRows")
  void atItsBoundsAcceptedPastThemRefused(String key, ConfigSection s, ConfigKey k)
      throws Exception {
    accepted(s, k, k.min());
    refused(s, k, (long) k.min() - 1);
    if (k.max() == Integer.MAX_VALUE) {
      accepted(s, k, Integer.MAX_VALUE); // no upper bound
    } else {
      accepted(s, k, k.max());
      refused(s, k, (long) k.max() + 1);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("sections")
  void anUnknownKeyIsRefusedWithTheKnownOnesAsTheHint(String name, ConfigSection s) {
    Map<String, Object> file = base();
    section(file, s).put("colour", "red");
    ConfigException e = assertThrows(ConfigException.class, () -> parse(file, null));
    assertTrue(e.getMessage().contains("colour: unknown key in " + s.what() + " (expected one of "
        + new java.util.TreeSet<>(s.names()) + ")"), e.getMessage());
  }

  private static void accepted(ConfigSection s, ConfigKey k, int v) throws Exception {
    Map<String, Object> file = with(s, k, v);
    List<ConfigSetting> settings = new ArrayList<>();
    parse(file, settings);
    if (!s.prefix().contains("[]")) {
      assertTrue(settings.contains(new ConfigSetting(s.key(k), Integer.toString(v), true)),
          s.key(k) + " at " + v + " read as " + settings);
    }
  }

  private static void refused(ConfigSection s, ConfigKey k, long v) {
    ConfigException e = assertThrows(ConfigException.class, () -> parse(with(s, k, v), null),
        s.key(k) + " at " + v);
    assertEquals(1, e.problems().size(), e.getMessage());
    assertTrue(e.getMessage().contains(k.name() + ": " + v + " (expected: " + k.bounds()),
        "the message names the key, the value and the bound: " + e.getMessage());
    assertTrue(e.getMessage().startsWith(FILE + ":"), e.getMessage());
  }

  /** The base file with {@code k} of {@code s} set to {@code v}. */
  private static Map<String, Object> with(ConfigSection s, ConfigKey k, long v) {
    Map<String, Object> file = base();
    Map<String, Object> m = section(file, s);
    m.put(k.name(), v);
    // A reconnect cap must be at least the first wait: the other of the pair is set out of
    // the way, so that only the bound of k is tested.
    if (k.name().equals("reconnect_max_ms")) {
      m.put("reconnect_min_ms", 1);
    } else if (k.name().equals("reconnect_min_ms")) {
      m.put("reconnect_max_ms", Integer.MAX_VALUE);
    }
    return file;
  }

  private static GatewayConfig parse(Map<String, Object> file, List<ConfigSetting> settings)
      throws ConfigException {
    return GatewayConfigFile.parse(FILE, json(file),
        settings == null ? new ArrayList<>() : settings);
  }

  /** A valid file with every section that has a table, as nested maps and lists. */
  static Map<String, Object> base() {
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("version", 1);
    f.put("listen", map("address", "0.0.0.0", "port", 9443));
    f.put("tls", map("certificate", "g.pem", "key", "g.key", "client_cas", "ca.pem"));
    Map<String, Object> cluster = map("node_name", "gw@10.0.0.5", "cookie_file", "cookie",
        "listen_address", "10.0.0.5");
    cluster.put("backends", new ArrayList<>(List.of("app@10.0.0.10",
        map("node", "app@10.0.0.11", "port", 9100))));
    f.put("cluster", cluster);
    f.put("policy", "policy.yaml");
    f.put("admin", map("listen", "127.0.0.1:9464"));
    Map<String, Object> bridge = map("name", "to-a", "expect", "dns:gw-a.example.org",
        "node_name", "clusterA@10.0.0.5");
    bridge.put("connect", map("host", "gw-a.example.org", "port", 9443));
    f.put("bridges", new ArrayList<>(List.of(bridge)));
    return f;
  }

  /**
   * The mapping of section {@code s} in {@code file}, made when absent; in a list, its first
   * entry that is a mapping ({@code cluster.backends[]}: the one with a port).
   */
  @SuppressWarnings("unchecked")
  static Map<String, Object> section(Map<String, Object> file, ConfigSection s) {
    Map<String, Object> m = file;
    if (s.prefix().isEmpty()) {
      return m;
    }
    for (String part : s.prefix().split("\\.")) {
      if (part.endsWith("[]")) {
        List<Object> list = (List<Object>) m.get(part.substring(0, part.length() - 2));
        m = (Map<String, Object>) list.stream().filter(e -> e instanceof Map).findFirst()
            .orElseThrow();
      } else {
        m = (Map<String, Object>) m.computeIfAbsent(part, p -> new LinkedHashMap<>());
      }
    }
    return m;
  }

  static Map<String, Object> map(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return m;
  }

  /** JSON, which YAML reads as it is: strings quoted, numbers bare. */
  static String json(Object o) {
    if (o instanceof Map<?, ?> m) {
      List<String> parts = new ArrayList<>();
      m.forEach((k, v) -> parts.add(json(k) + ": " + json(v)));
      return "{" + String.join(", ", parts) + "}";
    }
    if (o instanceof List<?> l) {
      return "[" + String.join(", ", l.stream().map(ConfigBoundsTest::json).toList()) + "]";
    }
    if (o instanceof Number) {
      return o.toString();
    }
    return "\"" + o.toString().replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  @org.junit.jupiter.api.Test
  void theBaseFileIsValidAndTheRowsCoverEveryNumericKey() throws Exception {
    parse(base(), null);
    assertFalse(integerRows().toList().isEmpty());
    assertTrue(integerRows().count() > 30, "integer rows: " + integerRows().count());
  }
}
