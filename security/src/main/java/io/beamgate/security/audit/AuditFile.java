package io.beamgate.security.audit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An append-only file of whole lines. Each line goes out through the file channel in one
 * write loop, with no buffer in between, so a line that was not written cannot come out
 * later; when a write fails part-way (a full disk: the kernel takes what fits, then says
 * ENOSPC), the file is cut back to its size before the line. A file deleted or renamed away
 * (log rotation) is noticed by comparing the open file's identity with the path's.
 */
final class AuditFile implements AuditSink {
  private static final Logger log = LoggerFactory.getLogger(AuditFile.class);

  /** Opens the file for appending; tests put a channel that fails on purpose here. */
  interface Opener {
    FileChannel open(Path file) throws IOException;
  }

  /** Created owner read-write, group read (records name clients; they are not for all). */
  static final Opener APPEND = file -> {
    StandardOpenOption[] opts = {StandardOpenOption.CREATE, StandardOpenOption.APPEND,
        StandardOpenOption.WRITE};
    try {
      return FileChannel.open(file, java.util.Set.of(opts),
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-r-----")));
    } catch (UnsupportedOperationException e) {
      return FileChannel.open(file, opts); // not a POSIX file system
    }
  };

  private final Path path;
  private final Opener opener;
  private FileChannel channel;
  // The path's file when it was opened (device and inode on Linux), to notice a rotation.
  private Object key;
  // Where the file must be cut back to before the next line, when cutting a partial line off
  // failed (-1: nothing to cut).
  private long cutTo = -1;

  private AuditFile(Path path, Opener opener) {
    this.path = Objects.requireNonNull(path, "path");
    this.opener = opener;
  }

  /** Opens (or creates) {@code path}; fails when it cannot. */
  static AuditFile open(Path path, Opener opener) throws IOException {
    AuditFile f = new AuditFile(path, opener);
    f.openChannel();
    return f;
  }

  private void openChannel() throws IOException {
    FileChannel ch = opener.open(path);
    try {
      key = fileKey();
      endWithNewline(ch);
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
    channel = ch;
    cutTo = -1;
  }

  /**
   * A file whose last line is incomplete (a writer killed mid-line, or a copy cut short) gets
   * a newline first, so that the next record is not glued to that fragment.
   */
  private void endWithNewline(FileChannel ch) throws IOException {
    long size = ch.size();
    if (size == 0 || !Files.isRegularFile(path)) {
      return;
    }
    ByteBuffer last = ByteBuffer.allocate(1);
    try (FileChannel r = FileChannel.open(path, StandardOpenOption.READ)) {
      if (r.read(last, size - 1) != 1 || last.get(0) == '\n') {
        return;
      }
    }
    log.warn("audit file {} ends with an incomplete line (a writer stopped mid-record):"
        + " a newline is added so that new records start on a line of their own", path);
    ByteBuffer nl = ByteBuffer.wrap(new byte[] {'\n'});
    while (nl.hasRemaining()) {
      ch.write(nl);
    }
  }

  private Object fileKey() throws IOException {
    return Files.readAttributes(path, BasicFileAttributes.class).fileKey();
  }

  @Override
  public void append(byte[] line) throws IOException {
    if (channel == null) {
      openChannel();
    }
    if (cutTo >= 0) {
      channel.truncate(cutTo); // an earlier partial line first; failing here writes nothing
      cutTo = -1;
    }
    long before = channel.size();
    ByteBuffer buf = ByteBuffer.wrap(line);
    try {
      while (buf.hasRemaining()) {
        channel.write(buf);
      }
    } catch (IOException e) {
      cutBack(before, e);
      throw e;
    }
  }

  /** Takes a partial line off again; when even that fails, the next append retries it. */
  private void cutBack(long before, IOException cause) {
    try {
      if (channel.size() > before) {
        channel.truncate(before);
      }
    } catch (IOException t) {
      cutTo = before;
      cause.addSuppressed(t);
    }
  }

  @Override
  public boolean atomic() {
    return true;
  }

  @Override
  public String displaced() {
    if (channel == null) {
      return "it is not open";
    }
    try {
      Object now = fileKey();
      // Without file keys (not on Linux) a rotation goes unnoticed until a reload.
      return now == null || now.equals(key) ? null : "another file took its place";
    } catch (NoSuchFileException e) {
      return "it was deleted or moved away";
    } catch (IOException e) {
      return "it cannot be looked up (" + e.getMessage() + ")";
    }
  }

  @Override
  public void reopen() throws IOException {
    closeChannel();
    openChannel();
  }

  private void closeChannel() throws IOException {
    FileChannel ch = channel;
    channel = null;
    if (ch == null) {
      return;
    }
    try {
      if (cutTo >= 0) {
        ch.truncate(cutTo); // leave the old file without a partial line, when it lets us
      }
    } catch (IOException e) {
      log.warn("audit file {}: a partial line at its end could not be removed ({})", path,
          e.getMessage());
    } finally {
      cutTo = -1;
      ch.close();
    }
  }

  @Override
  public String describe() {
    return path.toString();
  }

  @Override
  public void close() throws IOException {
    closeChannel();
  }
}
