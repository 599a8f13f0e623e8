package io.beamgate.gateway.scale;

import io.beamgate.gateway.admission.BackendPool;
import io.beamgate.gateway.admission.Limiter;
import io.beamgate.node.rpc.RpcClient;
import io.beamgate.gateway.config.GatewayConfig;
import io.beamgate.gateway.ops.GatewayMetrics;
import io.beamgate.security.guard.AtomBudget;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This gateway's share of what the gateways of its group share (configuration {@code scale}),
 * from a poll of the backends every {@code poll_ms} ({@link ClusterPoll}):
 *
 * <ul>
 *   <li>each rule's rate and concurrency: the limit divided by the gateways up (at least one
 *       request, so a gateway never refuses everything), rebalanced at each poll;
 *   <li>the atom budget: what is left of it after the backends' measured growth (summed over
 *       the backends, see {@link ClusterPoll#poll}), split exactly among the gateways up (the
 *       remainder to the first by name); this gateway admits at most its part until the next
 *       poll measures again.
 * </ul>
 *
 * A gateway that no backend answers (cut off from the cluster) keeps the last gateway count it
 * saw and gets no new atoms until a poll succeeds: never more than its last share, never
 * unlimited.
 */
public final class ClusterShare implements AtomBudget.SharedPool, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ClusterShare.class);

  private final GatewayConfig.Scale config;
  private final String self;
  private final ClusterPoll poll;
  private final Supplier<List<String>> backendsUp;
  private final long atomLimit;
  private final ScheduledExecutorService timer;
  private volatile Set<String> gateways;
  private volatile boolean cutOff = true;
  private volatile Instant lastAnswer;
  // the atom share, guarded by this. Atoms this gateway took are charged until a poll that
  // began after the previous poll began has measured them: one taken just as a poll begins
  // may reach its backend after the count, so it stays charged one poll longer (counted
  // twice meanwhile, never zero times).
  private long atomsUsed;
  private long allowance;
  private long takenTotal;
  private long markPrevious;
  private long markCurrent;
  private boolean measured;

  ClusterShare(GatewayConfig.Scale config, String self, ClusterPoll poll,
      Supplier<List<String>> backendsUp, long atomLimit, boolean ownThread) {
    this.config = config;
    this.self = self;
    this.poll = poll;
    this.backendsUp = backendsUp;
    this.atomLimit = atomLimit;
    this.gateways = Set.of(self);
    this.timer = ownThread ? Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "beamgate-scale");
      t.setDaemon(true);
      return t;
    }) : null;
  }

  /**
   * Shares {@code limiter}'s and {@code budget}'s limits with the group's other gateways:
   * polls once now (so a gateway starts with its share, not the whole), then every
   * {@code poll_ms}. Null when {@code config} is null (limits kept by this gateway alone).
   */
  public static ClusterShare start(GatewayConfig.Scale config, String self, RpcClient rpc,
      BackendPool backends, AtomBudget budget, Limiter limiter) {
    if (config == null) {
      return null;
    }
    Duration timeout = Duration.ofMillis(Math.max(200, config.pollMillis()));
    ClusterShare s = new ClusterShare(config, self,
        new ClusterPoll(rpc, self, config.group(), timeout), () -> {
          List<String> up = new ArrayList<>();
          for (BackendPool.Backend b : backends.backends()) {
            if (b.up) {
              up.add(b.node);
            }
          }
          return up;
        }, budget.limit(), true);
    s.pollNow();
    limiter.shareWith(s::gatewaysUp);
    budget.shareWith(s);
    s.timer.scheduleWithFixedDelay(s::pollNow, config.pollMillis(), config.pollMillis(),
        TimeUnit.MILLISECONDS);
    log.info("scale: sharing limits with group {} ({} gateway(s) up: {})", config.group(),
        s.gatewaysUp(), s.gateways);
    return s;
  }

  /** The gateways up, self included, as last seen (the last known while cut off). */
  public int gatewaysUp() {
    return Math.max(1, gateways.size());
  }

  void pollNow() {
    try {
      long mark;
      synchronized (this) {
        mark = takenTotal;
      }
      apply(poll.poll(backendsUp.get()), mark);
    } catch (RuntimeException e) {
      log.error("scale: poll failed", e);
    }
  }

  /** Takes in what a poll that began now saw (tests). */
  void apply(ClusterPoll.Snapshot s) {
    long mark;
    synchronized (this) {
      mark = takenTotal;
    }
    apply(s, mark);
  }

  /** Takes in what a poll saw that began when this gateway had taken {@code mark} atoms. */
  private void apply(ClusterPoll.Snapshot s, long mark) {
    if (s.backendsAnswered() == 0) {
      if (!cutOff) {
        log.warn("scale: no backend answered; keeping the last share ({} gateways up, no new"
            + " atoms beyond {} more) until one does", gatewaysUp(), remainingAllowance());
      }
      cutOff = true;
      return;
    }
    if (cutOff && lastAnswer != null) {
      log.info("scale: the cluster answers again");
    }
    cutOff = false;
    lastAnswer = Instant.now();
    Set<String> before = gateways;
    gateways = s.gateways();
    if (!before.equals(gateways)) {
      log.info("scale: {} gateway(s) up in group {}: {}; each enforces its share of every"
          + " rule's limits", gateways.size(), config.group(), new TreeSet<>(gateways));
    }
    synchronized (this) {
      measured = true;
      atomsUsed = s.atomsUsed();
      long left = Math.max(0, atomLimit - atomsUsed);
      List<String> sorted = new ArrayList<>(new TreeSet<>(gateways));
      int n = sorted.size();
      int me = Math.max(0, sorted.indexOf(self));
      allowance = left / n + (me < left % n ? 1 : 0);
      markPrevious = markCurrent;
      markCurrent = mark;
    }
  }

  private synchronized long charged() {
    return takenTotal - markPrevious;
  }

  private synchronized long remainingAllowance() {
    return Math.max(0, allowance - charged());
  }

  @Override
  public synchronized String take(int atoms) {
    if (!measured) {
      return "no backend has answered this gateway's poll yet, so the cluster's atom count is"
          + " unknown (scale); try again shortly";
    }
    if (charged() + atoms > allowance) {
      return atomsUsed + " of atom_budget " + atomLimit + " atoms already added to the"
          + " backends, and this gateway's share of the rest until the next count (" + allowance
          + " among " + gatewaysUp() + " gateway(s)) is spent"
          + (cutOff ? "; no backend answers this gateway now" : "");
    }
    takenTotal += atoms;
    return null;
  }

  /** For status: what this gateway sees of the group. */
  public Map<String, Object> status() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("group", config.group());
    m.put("gateways_up", gatewaysUp());
    m.put("gateways", new ArrayList<>(new TreeSet<>(gateways)));
    m.put("cut_off", cutOff);
    m.put("last_answer", lastAnswer == null ? null : lastAnswer.toString());
    synchronized (this) {
      m.put("atoms_used_cluster", atomsUsed);
      m.put("atom_share", allowance);
      m.put("atom_share_taken", charged());
    }
    return m;
  }

  /**
   * This gateway's view of its group as gauges, read at each scrape: a dashboard sums
   * {@code beamgate_scale_share} over the group's gateways (1 when they agree on who is up)
   * and alerts on {@code beamgate_scale_cut_off}.
   */
  public void registerGauges(GatewayMetrics metrics) {
    metrics.gauge("beamgate.scale.gateways", "Gateways of this gateway's scale group it"
        + " counts up, itself included (the last count while cut off)", this::gatewaysUp);
    metrics.ratio("beamgate.scale.share", "This gateway's share of each rule's rate and"
        + " concurrency: 1 / beamgate_scale_gateways", () -> 1.0 / gatewaysUp());
    metrics.flag("beamgate.scale.cut.off", "1 while no backend answers this gateway's poll",
        () -> cutOff);
    metrics.gauge("beamgate.scale.atoms.used", "Atoms the backends gained over their"
        + " baselines, summed (what the group has used of atom_budget)",
        () -> (int) Math.min(Integer.MAX_VALUE, usedAtoms()));
  }

  private synchronized long usedAtoms() {
    return atomsUsed;
  }

  @Override
  public void close() {
    if (timer != null) {
      timer.shutdownNow();
    }
  }
}
