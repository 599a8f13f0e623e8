package io.beamgate.gateway.config;

import io.beamgate.security.yaml.ConfigException;
import io.beamgate.security.yaml.StrictYaml;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.snakeyaml.engine.v2.nodes.Node;

/**
 * One section of a configuration file read through its table: unknown keys refused with the
 * table's keys as the hint, each value checked against its row's type and bounds, absent ones
 * given the row's default. What it reads of a section that is not inside a list is recorded
 * for {@code gateway check}.
 */
final class SectionReader {
  private final StrictYaml y;
  private final ConfigSection section;
  private final Map<String, Node> m;
  private final Node parent;
  private final Path dir;
  private final List<ConfigSetting> settings;

  private SectionReader(StrictYaml y, ConfigSection section, Map<String, Node> m, Node parent,
      Path dir, List<ConfigSetting> settings) {
    this.y = y;
    this.section = section;
    this.m = m;
    this.parent = parent;
    this.dir = dir;
    this.settings = section.prefix().contains("[]") ? null : settings;
  }

  /** {@code node}, a mapping, read as {@code section}. */
  static SectionReader of(StrictYaml y, ConfigSection section, Node node, Path dir,
      List<ConfigSetting> settings) throws ConfigException {
    return new SectionReader(y, section, y.mapping(node, section.what(), section.names()), node,
        dir, settings);
  }

  /** A section the file leaves out: every value its default. */
  static SectionReader absent(ConfigSection section, Path dir, List<ConfigSetting> settings) {
    return new SectionReader(null, section, Map.of(), null, dir, settings);
  }

  boolean has(String name) {
    section.row(name);
    return m.containsKey(name);
  }

  /** The value's node, for what the table cannot say (lists, short forms); null when absent. */
  Node node(String name) {
    section.row(name);
    return m.get(name);
  }

  /** The child section {@code name} (required ones must be there; others may be absent). */
  SectionReader section(String name) throws ConfigException {
    ConfigKey k = row(name, ConfigKey.Type.SECTION);
    Node n = m.get(name);
    if (n == null) {
      if (k.required()) {
        throw missing(k);
      }
      return absent(k.child(), dir, settings);
    }
    return of(y, k.child(), n, dir, settings);
  }

  /** The entries of list {@code name} (none when absent and not required). */
  List<Node> list(String name) throws ConfigException {
    ConfigKey k = row(name, ConfigKey.Type.LIST);
    Node n = m.get(name);
    if (n == null) {
      if (k.required()) {
        throw missing(k);
      }
      return List.of();
    }
    return y.sequence(n, name);
  }

  /** One entry of list {@code name}, a mapping, read as the list's section. */
  SectionReader entry(String name, Node entry) throws ConfigException {
    return of(y, row(name, ConfigKey.Type.LIST).child(), entry, dir, settings);
  }

  int integer(String name) throws ConfigException {
    ConfigKey k = row(name, ConfigKey.Type.INTEGER);
    Node n = m.get(name);
    if (n == null) {
      if (k.required()) {
        throw missing(k);
      }
      record(k, k.dflt(), false);
      return k.intDefault();
    }
    String s = y.scalar(n, name);
    int v;
    try {
      v = Integer.parseInt(s);
    } catch (NumberFormatException e) {
      throw y.err(n, name, "'" + s + "' (expected: a whole number, " + k.bounds() + ")");
    }
    if (v < k.min() || v > k.max()) {
      throw y.err(n, name, v + " " + k.expected());
    }
    record(k, Integer.toString(v), true);
    return v;
  }

  boolean bool(String name) throws ConfigException {
    ConfigKey k = row(name, ConfigKey.Type.BOOLEAN);
    boolean v = y == null ? Boolean.parseBoolean(k.dflt())
        : y.bool(m, name, Boolean.parseBoolean(k.dflt()));
    record(k, Boolean.toString(v), m.containsKey(name));
    return v;
  }

  String choice(String name) throws ConfigException {
    ConfigKey k = row(name, ConfigKey.Type.CHOICE);
    Node n = m.get(name);
    if (n == null) {
      record(k, k.dflt(), false);
      return k.dflt();
    }
    String v = y.scalar(n, name);
    if (!k.choices().contains(v)) {
      throw y.err(n, name, "'" + v + "' " + k.expected());
    }
    record(k, v, true);
    return v;
  }

  /** Text: required, or null when absent; never blank. */
  String text(String name) throws ConfigException {
    ConfigKey k = row(name, ConfigKey.Type.TEXT);
    return string(k);
  }

  /**
   * A path resolved against the configuration's directory; absent: the row's file name beside
   * the configuration, or null when it has none.
   */
  Path path(String name) throws ConfigException {
    ConfigKey k = row(name, ConfigKey.Type.PATH);
    String p = string(k);
    if (p == null && k.dflt() != null) {
      return dir.resolve(k.dflt());
    }
    return p == null ? null : dir.resolve(p).normalize();
  }

  /** {@code p}, written in the file, resolved against the configuration's directory. */
  Path resolve(String p) {
    return dir.resolve(p).normalize();
  }

  StrictYaml yaml() {
    return y;
  }

  /** The file's name and line of {@code name}'s value, or of this section when absent. */
  ConfigException err(String name, String message) {
    Node n = m.get(name);
    return y.err(n == null ? parent : n, name, message);
  }

  private String string(ConfigKey k) throws ConfigException {
    if (!m.containsKey(k.name()) && k.required()) {
      throw missing(k);
    }
    return y == null ? null : y.string(m, k.name(), parent, false);
  }

  private ConfigException missing(ConfigKey k) {
    return y.err(parent, k.name(), "missing in " + section.what());
  }

  private ConfigKey row(String name, ConfigKey.Type type) {
    ConfigKey k = section.row(name);
    if (k.type() != type) {
      throw new IllegalArgumentException(section.key(k) + " is a " + k.type().label()
          + " in its table, read as a " + type.label());
    }
    return k;
  }

  private void record(ConfigKey k, String value, boolean fromFile) {
    if (settings != null) {
      settings.add(new ConfigSetting(section.key(k), value, fromFile));
    }
  }
}
