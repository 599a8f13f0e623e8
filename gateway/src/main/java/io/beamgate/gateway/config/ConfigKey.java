package io.beamgate.gateway.config;

import java.util.List;
import java.util.Objects;

/**
 * One row of a configuration section's table ({@link ConfigTables}): a key, its type, its
 * default, its bounds and what it means. The reader ({@link GatewayConfigFile}) takes the
 * allowed keys, the defaults and the bounds from here, {@code gateway check} reports the values
 * in force by these rows, and the admin guide's reference rows are generated from them
 * ({@link ConfigReference}), so the four cannot drift apart.
 *
 * @param name the key as written in the file
 * @param type what its value is
 * @param required whether the file must set it
 * @param dflt its default as the file would write it (a number, {@code true}, a choice, a file
 *     name taken beside the configuration); null when there is none
 * @param min for an integer, the smallest value accepted
 * @param max for an integer, the largest value accepted ({@link Integer#MAX_VALUE}: no cap)
 * @param choices for a choice, the values accepted
 * @param note a few words added to the bound in an error message (null: none)
 * @param child the section a {@link Type#SECTION} or {@link Type#LIST} of mappings holds
 * @param meaning what it does, as the admin guide's reference says it (Markdown, one line)
 */
public record ConfigKey(String name, Type type, boolean required, String dflt, int min, int max,
    List<String> choices, String note, ConfigSection child, String meaning) {

  /** The kinds of value a key holds. */
  public enum Type {
    INTEGER("integer"), BOOLEAN("boolean"), TEXT("text"), PATH("path"), CHOICE("choice"),
    LIST("list"), MAPPING("mapping"),
    /** A mapping whose keys have their own table (not a row of the guide itself). */
    SECTION("section");

    private final String label;

    Type(String label) {
      this.label = label;
    }

    public String label() {
      return label;
    }
  }

  public ConfigKey {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(type, "type");
    choices = List.copyOf(choices);
    if (type == Type.INTEGER && min > max) {
      throw new IllegalArgumentException(name + ": min " + min + " > max " + max);
    }
    if (type == Type.INTEGER && dflt != null) {
      int d = Integer.parseInt(dflt);
      if (d < min || d > max) {
        throw new IllegalArgumentException(name + ": default " + d + " outside " + bounds());
      }
    }
  }

  /** An integer with a default, at least {@code min} and at most {@code max}. */
  static ConfigKey integer(String name, int dflt, int min, int max, String meaning) {
    return new ConfigKey(name, Type.INTEGER, false, Integer.toString(dflt), min, max, List.of(),
        null, null, meaning);
  }

  /** An integer with a default and no upper bound. */
  static ConfigKey integer(String name, int dflt, int min, String meaning) {
    return integer(name, dflt, min, Integer.MAX_VALUE, meaning);
  }

  /** An integer the file must set. */
  static ConfigKey requiredInteger(String name, int min, int max, String meaning) {
    return new ConfigKey(name, Type.INTEGER, true, null, min, max, List.of(), null, null,
        meaning);
  }

  static ConfigKey bool(String name, boolean dflt, String meaning) {
    return new ConfigKey(name, Type.BOOLEAN, false, Boolean.toString(dflt), 0, 0, List.of(),
        null, null, meaning);
  }

  static ConfigKey choice(String name, String dflt, List<String> choices, String meaning) {
    return new ConfigKey(name, Type.CHOICE, false, dflt, 0, 0, choices, null, null, meaning);
  }

  /** Text or a path the file must set. */
  static ConfigKey required(String name, Type type, String meaning) {
    return new ConfigKey(name, type, true, null, 0, 0, List.of(), null, null, meaning);
  }

  /** Text, a path, a list or a mapping with no default (absent: none). */
  static ConfigKey optional(String name, Type type, String meaning) {
    return new ConfigKey(name, type, false, null, 0, 0, List.of(), null, null, meaning);
  }

  /** A path whose default is {@code fileName} beside the configuration file. */
  static ConfigKey pathBeside(String name, String fileName, String meaning) {
    return new ConfigKey(name, Type.PATH, false, fileName, 0, 0, List.of(), null, null,
        meaning);
  }

  /** A mapping whose keys are {@code child}'s rows. */
  static ConfigKey section(String name, boolean required, ConfigSection child) {
    return new ConfigKey(name, Type.SECTION, required, null, 0, 0, List.of(), null, child, "");
  }

  /** A list whose entries are mappings with {@code child}'s rows (or, see meaning, values). */
  static ConfigKey list(String name, boolean required, ConfigSection child, String meaning) {
    return new ConfigKey(name, Type.LIST, required, null, 0, 0, List.of(), null, child,
        meaning);
  }

  /** The same row with {@code note} added to its bound in error messages. */
  ConfigKey withNote(String note) {
    return new ConfigKey(name, type, required, dflt, min, max, choices, note, child, meaning);
  }

  /** The integer default (this row must be an integer with a default). */
  public int intDefault() {
    if (type != Type.INTEGER || dflt == null) {
      throw new IllegalStateException(name + " has no integer default");
    }
    return Integer.parseInt(dflt);
  }

  /** The bound as error messages and the guide state it: {@code >= 1}, {@code 1..65535}. */
  public String bounds() {
    return switch (type) {
      case INTEGER -> min == max ? Integer.toString(min)
          : max == Integer.MAX_VALUE ? ">= " + min : min + ".." + max;
      case CHOICE -> String.join(" | ", choices);
      default -> "";
    };
  }

  /** The "(expected: ...)" of an error about this key's value. */
  public String expected() {
    return "(expected: " + bounds() + (note == null ? "" : (type == Type.CHOICE ? "; " : ", ")
        + note) + ")";
  }
}
