package io.beamgate.bench.jmh;

import io.beamgate.node.etf.ByteSink;
import io.beamgate.node.etf.EtfEncoder;
import io.beamgate.node.term.Term;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Locale;

/**
 * The size-only walk against sizing by encoding, in thread CPU time per operation rather than
 * wall time: on a machine shared with other work (load far above the core count) JMH's wall
 * times swing by several times, while the CPU time a thread spends on an operation barely
 * moves. Alternates the two in blocks and keeps each one's best block.
 * {@code java -cp ... io.beamgate.bench.jmh.CpuTimeCompare}
 */
public final class CpuTimeCompare {
  private CpuTimeCompare() {}

  static long sink;

  public static void main(String[] args) {
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    for (String name : Terms.NAMES) {
      Term t = Terms.of(name);
      int n = name.equals("list1k") ? 2_000 : 200_000;
      double bestWalk = Double.MAX_VALUE;
      double bestEncode = Double.MAX_VALUE;
      for (int block = 0; block < 12; block++) {
        long c0 = mx.getCurrentThreadCpuTime();
        for (int i = 0; i < n; i++) {
          sink += EtfEncoder.encodedSize(t);
        }
        long c1 = mx.getCurrentThreadCpuTime();
        for (int i = 0; i < n; i++) {
          sink += sizeByEncoding(t);
        }
        long c2 = mx.getCurrentThreadCpuTime();
        if (block >= 2) { // the first blocks warm the JIT up
          bestWalk = Math.min(bestWalk, (c1 - c0) / (double) n);
          bestEncode = Math.min(bestEncode, (c2 - c1) / (double) n);
        }
      }
      System.out.printf(Locale.ROOT, "%-10s size-only walk %10.1f ns CPU/op, by encoding %10.1f"
          + " ns CPU/op, ratio %.2f%n", name, bestWalk, bestEncode, bestEncode / bestWalk);
    }
  }

  /** How encodedSize worked before: the encoder run into a counting sink. */
  static long sizeByEncoding(Term t) {
    long[] n = new long[1];
    EtfEncoder.encode(t, new ByteSink() {
      @Override
      public void writeByte(int b) {
        n[0]++;
      }

      @Override
      public void writeShort(int v) {
        n[0] += 2;
      }

      @Override
      public void writeInt(int v) {
        n[0] += 4;
      }

      @Override
      public void writeLong(long v) {
        n[0] += 8;
      }

      @Override
      public void writeBytes(byte[] src, int offset, int length) {
        n[0] += length;
      }
    });
    return n[0];
  }
}
