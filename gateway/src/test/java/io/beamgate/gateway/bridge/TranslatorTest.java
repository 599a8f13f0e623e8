package io.beamgate.gateway.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.node.term.Atom;
import io.beamgate.node.term.ErlList;
import io.beamgate.node.term.Pid;
import io.beamgate.node.term.Term;
import io.beamgate.node.term.Tuple;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The translator's stand-in tables, without a link (was in BridgeLinkTest). */
class TranslatorTest {
  @Test
  void translatorTablesAreBoundedAndRoundTrip() {
    Translator t = new Translator(Atom.of("gw@h"), 5, 3, 16);
    Pid mine = new Pid(Atom.of("a1@h"), 10, 0, 1);
    Pid theirs = new Pid(Atom.of("b1@h"), 20, 0, 2);
    assertEquals(mine, t.out(mine)); // given out
    assertEquals(mine, t.in(mine)); // and so recognised when it comes back
    Pid proxy = t.inPid(theirs);
    assertTrue(t.isProxy(proxy));
    assertEquals(Atom.of("gw@h"), proxy.node());
    assertEquals(theirs, t.outPid(proxy));
    assertEquals(proxy, t.inPid(theirs), "the same stand-in each time");
    Term nested = Tuple.of(ErlList.improper(List.of(theirs), theirs),
        io.beamgate.node.term.ErlMap.of(java.util.Map.of(theirs, mine)));
    assertEquals(nested, t.out(t.in(nested)));
    // 16 entries at most: the 17th foreign pid pushes out the least recently used one
    for (int i = 0; i < 16; i++) {
      t.inPid(new Pid(Atom.of("b1@h"), 100 + i, 0, 2));
    }
    assertNull(t.proxyIfKnown(theirs), "forgotten past max_proxies");
    assertNotNull(t.proxyIfKnown(new Pid(Atom.of("b1@h"), 115, 0, 2)));
    assertNull(t.foreign(proxy), "its stand-in stands for nothing any more");
    assertFalse(t.isProxy(mine));
  }
}
