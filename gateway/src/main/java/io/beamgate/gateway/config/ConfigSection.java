package io.beamgate.gateway.config;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One section of the configuration file and its table: the keys it accepts, in the order the
 * admin guide lists them.
 *
 * @param prefix where the section sits, as the guide names its keys ({@code limits},
 *     {@code cluster.outlier}, {@code bridges[].connect}; empty for the top level)
 * @param rows its keys
 */
public record ConfigSection(String prefix, List<ConfigKey> rows) {
  public ConfigSection {
    rows = List.copyOf(rows);
    Map<String, ConfigKey> seen = new LinkedHashMap<>();
    for (ConfigKey k : rows) {
      if (seen.put(k.name(), k) != null) {
        throw new IllegalArgumentException(prefix + ": " + k.name() + " twice");
      }
    }
  }

  static ConfigSection of(String prefix, ConfigKey... rows) {
    return new ConfigSection(prefix, List.of(rows));
  }

  /** The keys the section accepts; any other is refused with this list as the hint. */
  public Set<String> names() {
    Set<String> out = new java.util.LinkedHashSet<>();
    for (ConfigKey k : rows) {
      out.add(k.name());
    }
    return out;
  }

  /** The row of {@code name}; a name the table lacks is a programming error. */
  public ConfigKey row(String name) {
    for (ConfigKey k : rows) {
      if (k.name().equals(name)) {
        return k;
      }
    }
    throw new IllegalArgumentException("no key " + name + " in the table of "
        + (prefix.isEmpty() ? "the top level" : prefix));
  }

  /** The key as the guide and {@code gateway check} write it: {@code limits.max_frame_bytes}. */
  public String key(ConfigKey k) {
    return prefix.isEmpty() ? k.name() : prefix + "." + k.name();
  }

  /** How errors name the section: its last part ({@code connect}), or "configuration". */
  public String what() {
    if (prefix.isEmpty()) {
      return "configuration";
    }
    String p = prefix.replace("[]", "");
    return p.substring(p.lastIndexOf('.') + 1);
  }
}
