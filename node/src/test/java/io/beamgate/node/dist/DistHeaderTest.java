package io.beamgate.node.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.beamgate.node.etf.EtfException;
import io.beamgate.node.term.Atom;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** The atom cache: a bad entry fails its own message, and the cache stays in step. */
class DistHeaderTest {
  private static ByteBuffer bytes(int... b) {
    byte[] a = new byte[b.length];
    for (int i = 0; i < b.length; i++) {
      a[i] = (byte) b[i];
    }
    return ByteBuffer.wrap(a);
  }

  @Test
  void aBadEntryFailsItsMessageButTheOtherNewEntriesStillEnterTheCache() throws Exception {
    DistHeader h = new DistHeader();
    // Two new entries in segment 0 (slots 5 and 6); slot 5's text is not UTF-8.
    EtfException e = assertThrows(EtfException.class, () -> h.readAtomRefs(
        bytes(2, 0x88, 0x00, 5, 1, 0xFF, 6, 2, 'o', 'k')));
    assertTrue(e.getMessage().contains("entry 5"), e.getMessage());
    // The next message refers to slot 6, as its sender expects: it decodes.
    Atom[] refs = h.readAtomRefs(bytes(1, 0x00, 6));
    assertEquals(Atom.of("ok"), refs[0]);
    // A reference to the slot that failed is refused, message by message.
    EtfException empty = assertThrows(EtfException.class,
        () -> h.readAtomRefs(bytes(1, 0x00, 5)));
    assertTrue(empty.getMessage().contains("empty entry 5"), empty.getMessage());
  }

  @Test
  void anEntryLongerThanTheFrameCannotBeFramedAndClosesTheConnection() {
    DistHeader h = new DistHeader();
    assertThrows(BufferUnderflowException.class,
        () -> h.readAtomRefs(bytes(1, 0x08, 7, 200, 'a')));
  }
}
