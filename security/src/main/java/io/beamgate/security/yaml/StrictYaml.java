package io.beamgate.security.yaml;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Compose;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;

/**
 * Reading files admins write by hand: YAML walked as a node tree, so every error names the file,
 * the line and the key; unknown keys, duplicate keys, wrong types and missing fields are errors.
 */
public final class StrictYaml {
  private final String file;

  public StrictYaml(String file) {
    this.file = file;
  }

  public String file() {
    return file;
  }

  /** The document's root; an empty document is an error. */
  public Node root(String yaml, String what) throws ConfigException {
    Optional<Node> root;
    try {
      root = new Compose(LoadSettings.builder().setLabel(file).build()).composeString(yaml);
    } catch (YamlEngineException e) {
      throw new ConfigException(file + ": not valid YAML: " + e.getMessage());
    }
    if (root.isEmpty()) {
      throw new ConfigException(file + ": empty " + what);
    }
    return root.get();
  }

  /** Files others can change are refused: they would decide what the gateway allows. */
  public static void checkNotWritableByOthers(Path path) throws ConfigException, IOException {
    try {
      Set<PosixFilePermission> perms = Files.getPosixFilePermissions(path);
      if (perms.contains(PosixFilePermission.GROUP_WRITE)
          || perms.contains(PosixFilePermission.OTHERS_WRITE)) {
        throw new ConfigException(path + ": writable by group or others (mode "
            + PosixFilePermissions.toString(perms) + "); refusing a file anyone else could"
            + " change (chmod go-w)");
      }
    } catch (UnsupportedOperationException e) {
      // not a POSIX file system
    }
  }

  public ConfigException err(Node n, String key, String msg) {
    return new ConfigException(file + ":" + line(n) + ": " + (key == null ? "" : key + ": ")
        + msg);
  }

  public static int line(Node n) {
    return n == null ? 0 : n.getStartMark().map(m -> m.getLine() + 1).orElse(0);
  }

  /** A mapping's entries by key; duplicate keys, non-string keys and unknown keys refused. */
  public Map<String, Node> mapping(Node n, String what, Set<String> allowed)
      throws ConfigException {
    if (!(n instanceof MappingNode mn)) {
      throw err(n, what, "expected a mapping (key: value)");
    }
    Map<String, Node> out = new LinkedHashMap<>();
    for (NodeTuple t : mn.getValue()) {
      if (!(t.getKeyNode() instanceof ScalarNode k)) {
        throw err(t.getKeyNode(), what, "keys must be plain names");
      }
      String key = k.getValue();
      if (allowed != null && !allowed.contains(key)) {
        throw err(k, key, "unknown key in " + what + " (expected one of "
            + new TreeSet<>(allowed) + ")");
      }
      if (out.put(key, t.getValueNode()) != null) {
        throw err(k, key, "duplicate key in " + what);
      }
    }
    return out;
  }

  public List<Node> sequence(Node n, String what) throws ConfigException {
    if (!(n instanceof SequenceNode sn)) {
      throw err(n, what, "expected a list");
    }
    return sn.getValue();
  }

  public String scalar(Node n, String key) throws ConfigException {
    if (!(n instanceof ScalarNode s)) {
      throw err(n, key, "expected a single value, not a list or mapping");
    }
    return s.getValue();
  }

  public Node required(Map<String, Node> m, String key, Node parent, String where)
      throws ConfigException {
    Node n = m.get(key);
    if (n == null) {
      throw err(parent, key, "missing in " + where);
    }
    return n;
  }

  public String string(Map<String, Node> m, String key, Node parent, boolean required)
      throws ConfigException {
    Node n = m.get(key);
    if (n == null) {
      if (required) {
        throw err(parent, key, "missing");
      }
      return null;
    }
    String s = scalar(n, key);
    if (s.isBlank()) {
      throw err(n, key, "empty");
    }
    return s;
  }

  public boolean bool(Map<String, Node> m, String key, boolean dflt) throws ConfigException {
    Node n = m.get(key);
    if (n == null) {
      return dflt;
    }
    String s = scalar(n, key);
    if (s.equals("true")) {
      return true;
    }
    if (s.equals("false")) {
      return false;
    }
    throw err(n, key, "'" + s + "' (expected: true or false)");
  }

  /** A whole number of at least {@code min}; {@code dflt} when absent and not required. */
  public int integer(Map<String, Node> m, String key, Node parent, int dflt, int min,
      boolean required) throws ConfigException {
    Node n = m.get(key);
    if (n == null) {
      if (required) {
        throw err(parent, key, "missing");
      }
      return dflt;
    }
    String s = scalar(n, key);
    int v;
    try {
      v = Integer.parseInt(s);
    } catch (NumberFormatException e) {
      throw err(n, key, "'" + s + "' (expected: a whole number)");
    }
    if (v < min) {
      throw err(n, key, v + " (expected: >= " + min + ")");
    }
    return v;
  }
}
