package io.beamgate.bench.jmh;

import io.beamgate.gateway.protocol.TermProto;
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
 * The client protocol's term conversion (the client module's TermProto), both ways, and the
 * result path as the gateway runs it today: the backend's ETF bytes decoded to terms, then
 * converted to protobuf and serialised (what a pass-through from ETF would save).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class ProtoBench {
  @Param({"call100B", "record", "list1k", "bin64KiB"})
  public String term;

  Term t;
  io.beamgate.gateway.proto.Term proto;
  byte[] protoBytes;
  byte[] etf;
  EtfDecoder decoder;

  @Setup
  public void setUp() throws Exception {
    t = Terms.of(term);
    proto = TermProto.toProto(t, TermProto.DEFAULT_MAX_DEPTH);
    protoBytes = proto.toByteArray();
    etf = EtfEncoder.encode(t);
    decoder = EtfDecoder.withDefaults();
  }

  @Benchmark
  public io.beamgate.gateway.proto.Term toProto() throws Exception {
    return TermProto.toProto(t, TermProto.DEFAULT_MAX_DEPTH);
  }

  @Benchmark
  public Term fromProto() throws Exception {
    return TermProto.fromProto(proto, "args[0]", TermProto.DEFAULT_MAX_DEPTH);
  }

  /** A request's argument: protobuf bytes parsed, converted to a term, encoded as ETF. */
  @Benchmark
  public byte[] requestPath() throws Exception {
    io.beamgate.gateway.proto.Term p = io.beamgate.gateway.proto.Term.parseFrom(protoBytes);
    return EtfEncoder.encode(TermProto.fromProto(p, "args[0]", TermProto.DEFAULT_MAX_DEPTH));
  }

  /** A result: the backend's ETF decoded, sized, converted to protobuf and serialised. */
  @Benchmark
  public byte[] resultPath() throws Exception {
    Term v = decoder.decode(etf);
    EtfEncoder.encodedSize(v);
    return TermProto.toProto(v, TermProto.DEFAULT_MAX_DEPTH).toByteArray();
  }
}
