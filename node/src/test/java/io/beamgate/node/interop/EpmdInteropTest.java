package io.beamgate.node.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.node.LocalNode;
import io.beamgate.node.NodeConfig;
import io.beamgate.node.epmd.EpmdClient;
import io.beamgate.node.epmd.EpmdServer;
import io.beamgate.node.epmd.NodeEntry;
import io.beamgate.node.testing.ErlNode;
import io.beamgate.node.testing.RealEpmd;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The embedded EPMD against real erl and the real epmd client, and the reverse. */
class EpmdInteropTest {
  @Test
  void realErlRegistersWithEmbeddedEpmdAndRealEpmdClientListsIt() throws Exception {
    try (EpmdServer epmd = EpmdServer.start(EpmdServer.Config.loopback(0));
        ErlNode erl = ErlNode.start(ErlNode.uniqueName("reg"), "cookie", epmd.port())) {
      String alive = erl.name().substring(0, erl.name().indexOf('@'));
      Optional<NodeEntry> e = new EpmdClient("127.0.0.1", epmd.port(), Duration.ofSeconds(5))
          .portPlease(alive);
      assertTrue(e.isPresent(), "erl registered with the embedded EPMD");
      assertEquals(6, e.get().highestVersion());
      String names = RealEpmd.names(epmd.port());
      assertTrue(names.contains("name " + alive + " at port " + e.get().port()), names);
    }
  }

  @Test
  void javaNodeRegistersWithRealEpmd() throws Exception {
    try (RealEpmd epmd = RealEpmd.start();
        LocalNode node = LocalNode.start(NodeConfig.builder(ErlNode.uniqueName("java"))
            .cookie("c").epmd("127.0.0.1", epmd.port()).build())) {
      String alive = node.config().name().alive();
      String names = RealEpmd.names(epmd.port());
      assertTrue(names.contains("name " + alive + " at port " + node.port()), names);
      assertTrue(Integer.toUnsignedLong(node.creation()) > 3, "32-bit creation from ALIVE2_X");
    }
  }
}
