import io.beamgate.client.BeamgateClient;
import io.beamgate.client.ClientConfig;
import io.beamgate.node.term.Term;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * An application that only has the client jar and its dependencies: run with Java's
 * source launcher by ClientJarOnlyTest. Args: port cert key ca. Prints the ping's principal,
 * then the answer of kv:get(probe).
 */
public class ClientProbe {
  public static void main(String[] args) throws Exception {
    ClientConfig config = ClientConfig.builder().host("127.0.0.1")
        .port(Integer.parseInt(args[0]))
        .tls(Path.of(args[1]), Path.of(args[2]), Path.of(args[3]))
        .callTimeout(Duration.ofSeconds(10)).build();
    try (BeamgateClient c = BeamgateClient.connect(config)) {
      System.out.println("principal=" + c.blocking().ping().principal());
      Term answer = c.blocking().call("kv", "get", List.of(Term.atom("probe")));
      System.out.println("answer=" + io.beamgate.node.term.TermText.format(answer));
    }
  }
}
