package io.beamgate.gateway.scale;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A gateway's admin HTTP listener as a test reads it: /metrics samples, /ready. */
final class AdminScrape {
  private static final HttpClient HTTP = HttpClient.newBuilder()
      .connectTimeout(Duration.ofSeconds(3)).build();
  private static final Pattern VALUE = Pattern.compile(" ([-+0-9.eE]+|NaN)$");

  private AdminScrape() {}

  /** GET {@code path} on 127.0.0.1:{@code port}: the response, or null when nothing answers. */
  static HttpResponse<String> get(int port, String path) {
    try {
      return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
          .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  /** The Prometheus text of /metrics, or "" when nothing answers. */
  static String metrics(int port) {
    HttpResponse<String> r = get(port, "/metrics");
    return r == null || r.statusCode() != 200 ? "" : r.body();
  }

  /**
   * The sum of the samples of {@code metric} whose labels include every one of
   * {@code labels} (each written {@code name="value"}); -1 when there is none.
   */
  static double sample(String text, String metric, String... labels) {
    Double found = null;
    for (String line : text.lines().toList()) {
      if (!line.startsWith(metric + "{") && !line.startsWith(metric + " ")) {
        continue;
      }
      boolean all = true;
      for (String l : labels) {
        all &= line.contains(l);
      }
      Matcher m = VALUE.matcher(line);
      if (all && m.find()) {
        found = (found == null ? 0 : found) + Double.parseDouble(m.group(1));
      }
    }
    return found == null ? -1 : found;
  }
}
