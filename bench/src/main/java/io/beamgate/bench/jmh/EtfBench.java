package io.beamgate.bench.jmh;

import com.ericsson.otp.erlang.OtpErlangObject;
import com.ericsson.otp.erlang.OtpInputStream;
import com.ericsson.otp.erlang.OtpOutputStream;
import io.beamgate.node.etf.EtfDecoder;
import io.beamgate.node.etf.EtfEncoder;
import io.beamgate.node.term.Term;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * ETF encode and decode of representative terms: beamgate's codec against OTP's JInterface
 * (OtpOutputStream, OtpInputStream) on the same bytes, and the size of a term measured by
 * encoding it into a counting sink (how encodedSize worked before) against the size-only walk.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class EtfBench {
  @Param({"call100B", "record", "list1k", "bin64KiB"})
  public String term;

  Term t;
  byte[] bytes;
  OtpErlangObject otp;
  EtfDecoder decoder;

  @Setup
  public void setUp() throws Exception {
    t = Terms.of(term);
    bytes = EtfEncoder.encode(t);
    decoder = EtfDecoder.withDefaults();
    otp = new OtpInputStream(bytes).read_any();
  }

  @Benchmark
  public byte[] beamgateEncode() {
    return EtfEncoder.encode(t);
  }

  @Benchmark
  public Term beamgateDecode() throws Exception {
    return decoder.decode(bytes);
  }

  @Benchmark
  public byte[] jinterfaceEncode() {
    return new OtpOutputStream(otp).toByteArray();
  }

  @Benchmark
  public OtpErlangObject jinterfaceDecode() throws Exception {
    return new OtpInputStream(bytes).read_any();
  }

  /** The size by the size-only walk (TermGuard, the result cap, buffer sizing). */
  @Benchmark
  public long sizeWalk() {
    return EtfEncoder.encodedSize(t);
  }

  /** The size as it was measured before: the whole encoder run into a counting sink. */
  @Benchmark
  public long sizeByEncoding() {
    long[] n = new long[1];
    EtfEncoder.encode(t, new io.beamgate.node.etf.ByteSink() {
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
