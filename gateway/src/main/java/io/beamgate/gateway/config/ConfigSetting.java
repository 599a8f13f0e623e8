package io.beamgate.gateway.config;

/**
 * A value in force after a configuration file was read, as {@code gateway check} reports it.
 *
 * @param key the key as the guide writes it ({@code limits.max_frame_bytes})
 * @param value its value
 * @param fromFile whether the file set it (false: the table's default)
 */
public record ConfigSetting(String key, String value, boolean fromFile) {
  @Override
  public String toString() {
    return key + ": " + value + (fromFile ? "" : " (default)");
  }
}
