package io.beamgate.node.dist;

import io.beamgate.node.etf.ByteSink;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.ArrayList;
import java.util.List;

/**
 * Encodes a message that is larger than one fragment straight into its fragment frames: each
 * frame is its own buffer of at most {@code chunk} bytes of terms behind room for its header,
 * so a large message is copied once (the terms into the frames), never grown in one large
 * buffer (which past the allocator's pooled sizes is allocated, zeroed and freed per call),
 * and never re-sliced. The body's size must be known before: the first fragment's id is the
 * number of fragments (erts counts them down to 1).
 */
final class FragmentSink implements ByteSink {
  /** {@code [len][131][69][seq][id][0 atom refs]}. */
  static final int START_HEADER = 4 + 1 + 1 + 8 + 8 + 1;
  /** {@code [len][131][70][seq][id]}. */
  static final int CONT_HEADER = 4 + 1 + 1 + 8 + 8;

  private final ByteBufAllocator alloc;
  private final int chunk;
  private final long seq;
  private final long total;
  private final long count;
  private final List<ByteBuf> frames;
  private long written;
  private ByteBuf cur;
  private int room;

  /** For a body (control and payload terms, without version bytes) of {@code total} bytes. */
  FragmentSink(ByteBufAllocator alloc, int chunk, long seq, long total) {
    if (total <= chunk) {
      throw new IllegalArgumentException("body of " + total + " bytes fits one fragment of "
          + chunk + " (expected: a normal header)");
    }
    this.alloc = alloc;
    this.chunk = chunk;
    this.seq = seq;
    this.total = total;
    this.count = (total + chunk - 1) / chunk;
    this.frames = new ArrayList<>((int) Math.min(count, 1 << 16));
  }

  /** Number of fragments the body takes. */
  long count() {
    return count;
  }

  private void next() {
    long id = count - frames.size();
    if (id < 1) {
      throw new IllegalStateException("body larger than the " + total + " bytes it was sized"
          + " at");
    }
    boolean first = id == count;
    int n = (int) Math.min(chunk, total - written);
    int header = first ? START_HEADER : CONT_HEADER;
    ByteBuf f = alloc.buffer(header + n, header + n);
    f.writeInt(header - 4 + n).writeByte(131)
        .writeByte(first ? DistHeader.FRAGMENT_START : DistHeader.FRAGMENT_CONT)
        .writeLong(seq).writeLong(id);
    if (first) {
      f.writeByte(0); // no atom cache references
    }
    frames.add(f);
    cur = f;
    room = n;
  }

  @Override
  public void writeByte(int b) {
    if (room == 0) {
      next();
    }
    cur.writeByte(b);
    room--;
    written++;
  }

  @Override
  public void writeShort(int s) {
    if (room >= 2) {
      cur.writeShort(s);
      room -= 2;
      written += 2;
    } else {
      writeByte(s >>> 8);
      writeByte(s);
    }
  }

  @Override
  public void writeInt(int i) {
    if (room >= 4) {
      cur.writeInt(i);
      room -= 4;
      written += 4;
    } else {
      writeShort(i >>> 16);
      writeShort(i);
    }
  }

  @Override
  public void writeLong(long l) {
    if (room >= 8) {
      cur.writeLong(l);
      room -= 8;
      written += 8;
    } else {
      writeInt((int) (l >>> 32));
      writeInt((int) l);
    }
  }

  @Override
  public void writeBytes(byte[] src, int offset, int length) {
    while (length > 0) {
      if (room == 0) {
        next();
      }
      int n = Math.min(room, length);
      cur.writeBytes(src, offset, n);
      offset += n;
      length -= n;
      room -= n;
      written += n;
    }
  }

  /** The frames, in the order they go; fails (releasing them) if the size was not as said. */
  List<ByteBuf> finish() {
    if (written != total || frames.size() != count) {
      release();
      throw new IllegalStateException("encoded body: " + written + " bytes in " + frames.size()
          + " fragments (expected: " + total + " in " + count + ")");
    }
    return frames;
  }

  /** Releases what was written so far (on a failed encoding). */
  void release() {
    for (ByteBuf f : frames) {
      f.release();
    }
    frames.clear();
  }
}
