package io.beamgate.gateway.ops;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.netty4.NettyAllocatorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;

/**
 * The gateway's metrics, one registry per gateway (tests run several in one JVM). Counters are
 * fed by the server's one admission path and its listener; gauges read the server's state
 * when scraped. Label values come from bounded sets only (kinds, decisions, outcomes, rule ids
 * of the policy, backend names of the configuration), never from a client's input.
 */
public final class GatewayMetrics implements AutoCloseable {
  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final List<AutoCloseable> binders = new ArrayList<>();
  /**
   * The latency histogram's buckets: fixed, so a dashboard's quantiles and an alert's
   * threshold mean the same on every gateway (Micrometer's own percentile histogram would add
   * some 70 series per kind and decision).
   */
  static final Duration[] BUCKETS = {Duration.ofMillis(1), Duration.ofMillis(2),
      Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50),
      Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500),
      Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5),
      Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofSeconds(60)};
  private final ConcurrentHashMap<RequestKey, Counter> requests = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<RequestKey, Timer> durations = new ConcurrentHashMap<>();
  private volatile Instant certificateNotAfter;
  private volatile Instant caNotAfter;
  private volatile Instant crlNextUpdate;

  public GatewayMetrics() {
    bind(new JvmMemoryMetrics());
    bind(new JvmGcMetrics());
    bind(new JvmThreadMetrics());
    bind(new ClassLoaderMetrics());
    bind(new ProcessorMetrics());
    bind(new UptimeMetrics());
    if (ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider p) {
      bind(new NettyAllocatorMetrics(p));
    }
    Gauge.builder("beamgate.certificate.not.after", this,
        m -> seconds(m.certificateNotAfter)).baseUnit("seconds").tag("certificate", "server")
        .description("When the listener's certificate expires (Unix time)").register(registry);
    Gauge.builder("beamgate.certificate.not.after", this, m -> seconds(m.caNotAfter))
        .baseUnit("seconds").tag("certificate", "client_cas")
        .description("When the first of the client CAs expires (Unix time)").register(registry);
    Gauge.builder("beamgate.crl.next.update", this, m -> seconds(m.crlNextUpdate))
        .baseUnit("seconds")
        .description("The CRL's nextUpdate (Unix time; NaN without a CRL)").register(registry);
  }

  private void bind(MeterBinder b) {
    b.bindTo(registry);
    if (b instanceof AutoCloseable c) {
      binders.add(c);
    }
  }

  private static double seconds(Instant t) {
    return t == null ? Double.NaN : t.getEpochSecond();
  }

  /**
   * One request's end, refused or answered: {@code kind} call, cast, send or monitor;
   * {@code decision} the audit record's (allowed, denied, shadow_denied, failed);
   * {@code outcome} what happened (ok, timeout, permission_denied...); {@code rule} the
   * deciding rule's id (null: none decided).
   */
  public void request(String kind, String decision, String outcome, String rule,
      long nanos) {
    String k = kind.toLowerCase(Locale.ROOT);
    String r = rule == null ? "none" : rule;
    // Looked up in a map of our own: Micrometer's builder sorts and copies tags on each call,
    // too much for every request.
    requests.computeIfAbsent(new RequestKey(k, decision, outcome, r), key -> Counter
        .builder("beamgate.requests").description("Requests by kind, decision, outcome and"
            + " the rule that decided").tags("kind", key.kind(), "decision", key.decision(),
            "outcome", key.outcome(), "rule", key.rule()).register(registry)).increment();
    durations.computeIfAbsent(new RequestKey(k, decision, null, null), key -> Timer
        .builder("beamgate.request.duration").description("From the request's arrival to its"
            + " answer (or refusal)").tags("kind", key.kind(), "decision", key.decision())
        .serviceLevelObjectives(BUCKETS).register(registry))
        .record(nanos, TimeUnit.NANOSECONDS);
  }

  private record RequestKey(String kind, String decision, String outcome, String rule) {}

  /** A client connection accepted, or refused because max_connections were open. */
  public void connection(boolean accepted) {
    Counter.builder("beamgate.connections").description("Client connections by result")
        .tag("result", accepted ? "accepted" : "refused_full").register(registry).increment();
  }

  /** A TLS handshake's end: ok or identity_refused (see {@link #handshake(String, String)}). */
  public void handshake(String result) {
    handshake(result, "none");
  }

  /**
   * A TLS handshake's end: {@code result} ok, failed or identity_refused; {@code reason} why
   * it failed, one of {@link HandshakeFailure}'s bounded set ("none" when it did not).
   */
  public void handshake(String result, String reason) {
    Counter.builder("beamgate.tls.handshakes").description("Client TLS handshakes by result"
        + " and failure reason").tags("result", result, "reason", reason).register(registry)
        .increment();
  }

  /**
   * The decision's buckets: policy, term guard, limits and backend choice take microseconds;
   * the upper ones catch a guard walking a large term or a stalled lock.
   */
  static final Duration[] DECISION_BUCKETS = {Duration.ofNanos(10_000),
      Duration.ofNanos(25_000), Duration.ofNanos(50_000), Duration.ofNanos(100_000),
      Duration.ofNanos(250_000), Duration.ofNanos(500_000), Duration.ofMillis(1),
      Duration.ofMillis(2), Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(50),
      Duration.ofMillis(250)};
  private final ConcurrentHashMap<String, Timer> decisions = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Timer> backendTimes = new ConcurrentHashMap<>();

  /**
   * The first stage of a request: from its arrival at the admission path to its decision
   * (admitted or refused), for every request.
   */
  public void decision(String kind, long nanos) {
    decisions.computeIfAbsent(kind.toLowerCase(Locale.ROOT), k -> Timer
        .builder("beamgate.request.decision.duration").description("From a request's arrival"
            + " to its decision: policy, term guard, limits, backend choice")
        .tag("kind", k).serviceLevelObjectives(DECISION_BUCKETS).register(registry))
        .record(nanos, TimeUnit.NANOSECONDS);
  }

  /**
   * The second stage of an admitted request: from its decision to its end (the backend's
   * answer, a timeout, or the send done); the rest of beamgate.request.duration is the
   * decision.
   */
  public void backend(String kind, long nanos) {
    backendTimes.computeIfAbsent(kind.toLowerCase(Locale.ROOT), k -> Timer
        .builder("beamgate.request.backend.duration").description("From an admitted"
            + " request's decision to its backend's answer").tag("kind", k)
        .serviceLevelObjectives(BUCKETS).register(registry))
        .record(nanos, TimeUnit.NANOSECONDS);
  }

  /** A call relayed over a bridge link: role exposer (sent out) or server (served here). */
  public void bridgeCall(String role) {
    Counter.builder("beamgate.bridge.calls").description("Calls relayed over bridge links:"
        + " exposer, sent to the other gateway; server, served here for it")
        .tag("role", role).register(registry).increment();
  }

  /** A reload, applied or refused (the old files stay in force). */
  public void reload(boolean ok) {
    Counter.builder("beamgate.reloads").description("Reloads of policy, certificates and CRL")
        .tag("result", ok ? "ok" : "refused").register(registry).increment();
  }

  /** The dates of the TLS material in force, after start and each reload. */
  public void certificates(Instant serverNotAfter, Instant clientCasNotAfter,
      Instant crlNext) {
    this.certificateNotAfter = serverNotAfter;
    this.caNotAfter = clientCasNotAfter;
    this.crlNextUpdate = crlNext;
  }

  /** A gauge read when scraped; {@code tags} as name, value pairs. */
  public void gauge(String name, String description, IntSupplier value, String... tags) {
    Gauge.builder(name, value, v -> v.getAsInt()).description(description).tags(tags)
        .strongReference(true).register(registry);
  }

  /** A gauge of a fraction (or any non-integer value) read when scraped. */
  public void ratio(String name, String description, java.util.function.DoubleSupplier value,
      String... tags) {
    Gauge.builder(name, value, v -> v.getAsDouble()).description(description).tags(tags)
        .strongReference(true).register(registry);
  }

  /** A 0/1 gauge read when scraped. */
  public void flag(String name, String description, BooleanSupplier value, String... tags) {
    Gauge.builder(name, value, v -> v.getAsBoolean() ? 1 : 0).description(description)
        .tags(tags).strongReference(true).register(registry);
  }

  /** The text a scraper asked for ({@code accept}: its Accept header, null: Prometheus 0.0.4). */
  public Scrape scrape(String accept) {
    String type = accept != null && accept.contains("application/openmetrics-text")
        ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
        : "text/plain; version=0.0.4; charset=utf-8";
    return new Scrape(type, registry.scrape(type));
  }

  /** A scrape: its content type and body. */
  public record Scrape(String contentType, String body) {}

  @Override
  public void close() {
    for (AutoCloseable c : binders) {
      try {
        c.close();
      } catch (Exception e) {
        // a binder that fails to let go of a JMX listener: nothing to do at shutdown
      }
    }
    registry.close();
  }
}
