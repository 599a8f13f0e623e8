package io.beamgate.security.audit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A pretend file system with little free space, for {@link AuditFile.Opener}: its channels
 * write what fits, as the kernel does, and then fail with "No space left on device". The
 * test frees space by raising {@link #free}, and can make truncation fail as well.
 */
final class SmallDisk implements AuditFile.Opener {
  volatile long free;
  volatile boolean truncateFails;
  int opened;

  SmallDisk(long free) {
    this.free = free;
  }

  @Override
  public FileChannel open(Path file) throws IOException {
    opened++;
    return new Channel(FileChannel.open(file, StandardOpenOption.CREATE,
        StandardOpenOption.APPEND, StandardOpenOption.WRITE));
  }

  private final class Channel extends FileChannel {
    private final FileChannel real;

    Channel(FileChannel real) {
      this.real = real;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
      if (free <= 0) {
        throw new IOException("No space left on device");
      }
      ByteBuffer part = src.slice();
      if (part.remaining() > free) {
        part.limit((int) free);
      }
      int n = real.write(part);
      src.position(src.position() + n);
      free -= n;
      return n;
    }

    @Override
    public FileChannel truncate(long size) throws IOException {
      if (truncateFails) {
        throw new IOException("Input/output error");
      }
      long was = real.size();
      real.truncate(size);
      free += Math.max(0, was - real.size());
      return this;
    }

    @Override
    public long size() throws IOException {
      return real.size();
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
      return real.read(dst);
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
      return real.read(dsts, offset, length);
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) {
      throw new UnsupportedOperationException();
    }

    @Override
    public long position() throws IOException {
      return real.position();
    }

    @Override
    public FileChannel position(long p) throws IOException {
      real.position(p);
      return this;
    }

    @Override
    public void force(boolean metaData) throws IOException {
      real.force(metaData);
    }

    @Override
    public long transferTo(long position, long count, WritableByteChannel target) {
      throw new UnsupportedOperationException();
    }

    @Override
    public long transferFrom(ReadableByteChannel src, long position, long count) {
      throw new UnsupportedOperationException();
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
      return real.read(dst, position);
    }

    @Override
    public int write(ByteBuffer src, long position) {
      throw new UnsupportedOperationException();
    }

    @Override
    public MappedByteBuffer map(MapMode mode, long position, long size) {
      throw new UnsupportedOperationException();
    }

    @Override
    public FileLock lock(long position, long size, boolean shared) {
      throw new UnsupportedOperationException();
    }

    @Override
    public FileLock tryLock(long position, long size, boolean shared) {
      throw new UnsupportedOperationException();
    }

    @Override
    protected void implCloseChannel() throws IOException {
      real.close();
    }
  }
}
