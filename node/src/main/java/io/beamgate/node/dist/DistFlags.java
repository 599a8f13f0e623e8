package io.beamgate.node.dist;

import java.util.ArrayList;
import java.util.List;

/**
 * Distribution capability flags (erts "Distribution Protocol", section Distribution Flags; OTP's
 * kernel/include/dist.hrl).
 */
public final class DistFlags {
  public static final long PUBLISHED = 0x01;
  public static final long ATOM_CACHE = 0x02;
  public static final long EXTENDED_REFERENCES = 0x04;
  public static final long DIST_MONITOR = 0x08;
  public static final long FUN_TAGS = 0x10;
  public static final long DIST_MONITOR_NAME = 0x20;
  public static final long HIDDEN_ATOM_CACHE = 0x40;
  public static final long NEW_FUN_TAGS = 0x80;
  public static final long EXTENDED_PIDS_PORTS = 0x100;
  public static final long EXPORT_PTR_TAG = 0x200;
  public static final long BIT_BINARIES = 0x400;
  public static final long NEW_FLOATS = 0x800;
  public static final long UNICODE_IO = 0x1000;
  public static final long DIST_HDR_ATOM_CACHE = 0x2000;
  public static final long SMALL_ATOM_TAGS = 0x4000;
  public static final long UTF8_ATOMS = 0x10000;
  public static final long MAP_TAG = 0x20000;
  public static final long BIG_CREATION = 0x40000;
  public static final long SEND_SENDER = 0x80000;
  public static final long BIG_SEQTRACE_LABELS = 0x100000;
  public static final long EXIT_PAYLOAD = 0x400000;
  public static final long FRAGMENTS = 0x800000;
  public static final long HANDSHAKE_23 = 0x1000000;
  public static final long UNLINK_ID = 0x2000000;
  public static final long MANDATORY_25_DIGEST = 0x4000000;
  public static final long SPAWN = 1L << 32;
  public static final long NAME_ME = 2L << 32;
  public static final long V4_NC = 4L << 32;
  public static final long ALIAS = 8L << 32;

  /** What OTP 25 requires of every peer; MANDATORY_25_DIGEST stands for all of them. */
  public static final long MANDATORY_25 = EXTENDED_REFERENCES | FUN_TAGS | EXTENDED_PIDS_PORTS
      | NEW_FUN_TAGS | EXPORT_PTR_TAG | BIT_BINARIES | NEW_FLOATS | UTF8_ATOMS | MAP_TAG
      | BIG_CREATION | HANDSHAKE_23;

  /**
   * The flags this node offers: only features it implements. OTP 26 adds UNLINK_ID and V4_NC to
   * the mandatory set, so they are offered too (the node answers UNLINK_ID with UNLINK_ID_ACK
   * and decodes V4 ports). SPAWN is offered so that OTP's erpc (and rpc:call, which uses it)
   * reaches the node; every SPAWN_REQUEST goes through a {@code SpawnHandler}, and without one
   * is refused. EXIT_PAYLOAD: exit reasons travel as payloads both ways (PAYLOAD_EXIT,
   * PAYLOAD_EXIT2, PAYLOAD_MONITOR_P_EXIT), as erts sends them.
   */
  public static final long OFFERED = MANDATORY_25 | SMALL_ATOM_TAGS | SEND_SENDER | UNLINK_ID
      | V4_NC | ALIAS | DIST_MONITOR | DIST_MONITOR_NAME | SPAWN | FRAGMENTS | EXIT_PAYLOAD;

  private DistFlags() {}

  /** A peer's flags with MANDATORY_25_DIGEST expanded, as OTP 25 reads them. */
  public static long expand(long flags) {
    return (flags & MANDATORY_25_DIGEST) != 0 ? flags | MANDATORY_25 : flags;
  }

  /** The mandatory flags missing from {@code peerFlags}, by name; empty when none. */
  public static List<String> missingMandatory(long peerFlags) {
    long missing = MANDATORY_25 & ~expand(peerFlags);
    List<String> names = new ArrayList<>();
    for (int bit = 0; bit < 64; bit++) {
      if ((missing & (1L << bit)) != 0) {
        names.add(name(1L << bit));
      }
    }
    return names;
  }

  static String name(long flag) {
    if (flag == EXTENDED_REFERENCES) {
      return "EXTENDED_REFERENCES";
    } else if (flag == FUN_TAGS) {
      return "FUN_TAGS";
    } else if (flag == EXTENDED_PIDS_PORTS) {
      return "EXTENDED_PIDS_PORTS";
    } else if (flag == NEW_FUN_TAGS) {
      return "NEW_FUN_TAGS";
    } else if (flag == EXPORT_PTR_TAG) {
      return "EXPORT_PTR_TAG";
    } else if (flag == BIT_BINARIES) {
      return "BIT_BINARIES";
    } else if (flag == NEW_FLOATS) {
      return "NEW_FLOATS";
    } else if (flag == UTF8_ATOMS) {
      return "UTF8_ATOMS";
    } else if (flag == MAP_TAG) {
      return "MAP_TAG";
    } else if (flag == BIG_CREATION) {
      return "BIG_CREATION";
    } else if (flag == HANDSHAKE_23) {
      return "HANDSHAKE_23";
    }
    return "0x" + Long.toHexString(flag);
  }
}
