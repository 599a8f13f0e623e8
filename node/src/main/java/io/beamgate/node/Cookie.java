package io.beamgate.node;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Objects;

/**
 * The distribution cookie. Its value never appears in {@link #toString()}, logs or exceptions;
 * only the handshake reads it, through {@link #bytes()}.
 */
public final class Cookie {
  /** erl refuses cookies longer than this; so do we. */
  public static final int MAX_LENGTH = 255;
  private final byte[] value;

  private Cookie(byte[] value) {
    if (value.length == 0) {
      throw new IllegalArgumentException("cookie is empty");
    }
    if (value.length > MAX_LENGTH) {
      throw new IllegalArgumentException(
          "cookie length: " + value.length + " (expected: <= " + MAX_LENGTH + ")");
    }
    this.value = value;
  }

  /** A cookie given as text (an erl atom's characters, Latin-1). */
  public static Cookie of(String value) {
    Objects.requireNonNull(value, "cookie");
    for (int i = 0; i < value.length(); i++) {
      if (value.charAt(i) > 0xFF) {
        throw new IllegalArgumentException("cookie has a character outside Latin-1");
      }
    }
    return new Cookie(value.getBytes(StandardCharsets.ISO_8859_1));
  }

  /** Reads a cookie file as erl does: the first line, surrounding white space removed. */
  public static Cookie fromFile(Path file) throws IOException {
    String s;
    try {
      s = Files.readString(file, StandardCharsets.ISO_8859_1);
    } catch (IOException e) {
      throw new IOException("cannot read cookie file " + file + ": " + e.getMessage(), e);
    }
    int nl = s.indexOf('\n');
    String line = (nl >= 0 ? s.substring(0, nl) : s).strip();
    if (line.isEmpty()) {
      throw new IOException("cookie file " + file + " is empty");
    }
    try {
      return of(line);
    } catch (IllegalArgumentException e) {
      throw new IOException("cookie file " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * The cookie erl would use: {@code ~/.erlang.cookie}, created with 20 random upper-case
   * letters and mode 0400 when missing, as erl does.
   */
  public static Cookie fromHome() throws IOException {
    Path file = Path.of(System.getProperty("user.home"), ".erlang.cookie");
    if (!Files.exists(file)) {
      SecureRandom rnd = new SecureRandom();
      char[] c = new char[20];
      for (int i = 0; i < c.length; i++) {
        c[i] = (char) ('A' + rnd.nextInt(26));
      }
      try {
        Files.writeString(file, new String(c), StandardCharsets.ISO_8859_1,
            StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("r--------"));
      } catch (java.nio.file.FileAlreadyExistsException e) {
        // Someone else made it meanwhile: read theirs.
      } catch (UnsupportedOperationException e) {
        // Not a POSIX file system: leave the default mode.
      }
    }
    return fromFile(file);
  }

  /** The cookie's bytes, for the handshake digest only. */
  public byte[] bytes() {
    return value.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Cookie c && java.security.MessageDigest.isEqual(value, c.value);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(value);
  }

  @Override
  public String toString() {
    return "Cookie[redacted]";
  }
}
