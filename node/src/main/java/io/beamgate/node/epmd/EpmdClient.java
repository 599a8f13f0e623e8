package io.beamgate.node.epmd;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client of EPMD, the Erlang port mapper: registers a node (ALIVE2), looks up a node's port
 * (PORT_PLEASE2) and lists names (NAMES). Each request opens its own short TCP connection, as
 * OTP does; a registration keeps its connection open for as long as it is held.
 */
public final class EpmdClient {
  private static final Logger log = LoggerFactory.getLogger(EpmdClient.class);
  /** Largest NAMES answer accepted, so a hostile EPMD cannot exhaust memory. */
  static final int MAX_NAMES_BYTES = 1 << 20;

  private final String host;
  private final int port;
  private final Duration timeout;

  public EpmdClient(String host, int port, Duration timeout) {
    this.host = Objects.requireNonNull(host, "host");
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("epmd port: " + port + " (expected: 1..65535)");
    }
    this.port = port;
    this.timeout = Objects.requireNonNull(timeout, "timeout");
  }

  /** The port given by ERL_EPMD_PORT, as erl reads it, else 4369. */
  public static int defaultPort() {
    String env = System.getenv("ERL_EPMD_PORT");
    if (env != null && !env.isBlank()) {
      try {
        return Integer.parseInt(env.trim());
      } catch (NumberFormatException e) {
        log.warn("ignoring ERL_EPMD_PORT={} (not a port number)", env);
      }
    }
    return EpmdProtocol.DEFAULT_PORT;
  }

  public String host() {
    return host;
  }

  public int port() {
    return port;
  }

  private Socket open() throws EpmdException {
    Socket s = new Socket();
    try {
      s.setTcpNoDelay(true);
      s.setSoTimeout((int) Math.max(1, timeout.toMillis()));
      s.connect(new InetSocketAddress(host, port), (int) Math.max(1, timeout.toMillis()));
      return s;
    } catch (IOException e) {
      closeQuietly(s);
      throw new EpmdException(
          "cannot reach epmd at " + host + ":" + port + ": " + e.getMessage(), e);
    }
  }

  /**
   * Registers {@code alive} with distribution port {@code distPort}. The registration lasts until
   * the returned handle is closed (EPMD drops it when the connection closes).
   */
  public Registration register(String alive, int distPort, boolean hidden) throws EpmdException {
    byte[] name = checkName(alive);
    Socket s = open();
    try {
      DataOutputStream out = new DataOutputStream(s.getOutputStream());
      int len = 13 + name.length;
      out.writeShort(len);
      out.writeByte(EpmdProtocol.ALIVE2_REQ);
      out.writeShort(distPort);
      out.writeByte(hidden ? EpmdProtocol.NODE_TYPE_HIDDEN : EpmdProtocol.NODE_TYPE_NORMAL);
      out.writeByte(EpmdProtocol.PROTOCOL_TCP_IPV4);
      out.writeShort(6); // highest version
      out.writeShort(5); // lowest version
      out.writeShort(name.length);
      out.write(name);
      out.writeShort(0); // no extra
      out.flush();
      DataInputStream in = new DataInputStream(s.getInputStream());
      int tag = in.readUnsignedByte();
      int result = in.readUnsignedByte();
      int creation;
      if (tag == EpmdProtocol.ALIVE2_X_RESP) {
        creation = in.readInt();
      } else if (tag == EpmdProtocol.ALIVE2_RESP) {
        creation = in.readUnsignedShort();
      } else {
        throw new EpmdException("epmd answered ALIVE2 with tag " + tag + " (expected: 118 or 121)");
      }
      if (result != 0) {
        throw new EpmdException(
            "epmd refused to register '" + alive + "' (result " + result
                + "): the name is probably in use");
      }
      // Keep the connection, but never time out reading it: it carries nothing further.
      s.setSoTimeout(0);
      log.debug("registered {} at port {} with epmd {}:{}, creation {}", alive, distPort, host,
          port, Integer.toUnsignedString(creation));
      return new Registration(alive, creation, s);
    } catch (EOFException e) {
      closeQuietly(s);
      throw new EpmdException("epmd closed the connection while registering '" + alive + "'", e);
    } catch (IOException e) {
      closeQuietly(s);
      if (e instanceof EpmdException ee) {
        throw ee;
      }
      throw new EpmdException("registering '" + alive + "' with epmd failed: " + e.getMessage(), e);
    }
  }

  /** Looks up a node by its alive name; empty when EPMD does not know it. */
  public Optional<NodeEntry> portPlease(String alive) throws EpmdException {
    byte[] name = checkName(alive);
    try (Socket s = open()) {
      DataOutputStream out = new DataOutputStream(s.getOutputStream());
      out.writeShort(1 + name.length);
      out.writeByte(EpmdProtocol.PORT_PLEASE2_REQ);
      out.write(name);
      out.flush();
      DataInputStream in = new DataInputStream(s.getInputStream());
      int tag = in.readUnsignedByte();
      if (tag != EpmdProtocol.PORT2_RESP) {
        throw new EpmdException("epmd answered PORT_PLEASE2 with tag " + tag + " (expected: 119)");
      }
      int result = in.readUnsignedByte();
      if (result != 0) {
        return Optional.empty();
      }
      int p = in.readUnsignedShort();
      int type = in.readUnsignedByte();
      int proto = in.readUnsignedByte();
      int hi = in.readUnsignedShort();
      int lo = in.readUnsignedShort();
      int nlen = in.readUnsignedShort();
      if (nlen > EpmdProtocol.MAX_NAME_BYTES) {
        throw new EpmdException("name length: " + nlen + " (expected: <= 255)");
      }
      byte[] n = new byte[nlen];
      in.readFully(n);
      // The extra field follows; it is not used.
      return Optional.of(new NodeEntry(new String(n, StandardCharsets.UTF_8), p,
          type == EpmdProtocol.NODE_TYPE_HIDDEN, proto, hi, lo));
    } catch (EOFException e) {
      throw new EpmdException("epmd at " + host + ":" + port + " closed the connection early", e);
    } catch (EpmdException e) {
      throw e;
    } catch (IOException e) {
      throw new EpmdException("looking up '" + alive + "' in epmd failed: " + e.getMessage(), e);
    }
  }

  /** The nodes EPMD knows, as (name, port) entries parsed from its NAMES answer. */
  public List<NodeEntry> names() throws EpmdException {
    try (Socket s = open()) {
      DataOutputStream out = new DataOutputStream(s.getOutputStream());
      out.writeShort(1);
      out.writeByte(EpmdProtocol.NAMES_REQ);
      out.flush();
      DataInputStream in = new DataInputStream(s.getInputStream());
      in.readInt(); // EPMD's own port
      byte[] buf = in.readNBytes(MAX_NAMES_BYTES + 1);
      if (buf.length > MAX_NAMES_BYTES) {
        throw new EpmdException("NAMES answer: more than " + MAX_NAMES_BYTES + " bytes");
      }
      List<NodeEntry> result = new ArrayList<>();
      for (String line : new String(buf, StandardCharsets.UTF_8).split("\n")) {
        // "name foo at port 1234"
        if (line.startsWith("name ")) {
          int at = line.lastIndexOf(" at port ");
          if (at > 5) {
            try {
              result.add(new NodeEntry(line.substring(5, at),
                  Integer.parseInt(line.substring(at + 9).trim()), false, 0, 6, 5));
            } catch (IllegalArgumentException e) {
              log.debug("skipping malformed NAMES line: {}", line);
            }
          }
        }
      }
      return result;
    } catch (EOFException e) {
      throw new EpmdException("epmd at " + host + ":" + port + " closed the connection early", e);
    } catch (EpmdException e) {
      throw e;
    } catch (IOException e) {
      throw new EpmdException("NAMES request to epmd failed: " + e.getMessage(), e);
    }
  }

  private static byte[] checkName(String alive) throws EpmdException {
    byte[] b = alive.getBytes(StandardCharsets.UTF_8);
    if (b.length == 0 || b.length > EpmdProtocol.MAX_NAME_BYTES) {
      throw new EpmdException("node name length: " + b.length + " bytes (expected: 1..255)");
    }
    return b;
  }

  static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // nothing to do
    }
  }

  /** A live registration; closing it unregisters the node. */
  public static final class Registration implements AutoCloseable {
    private final String alive;
    private final int creation;
    private final Socket socket;

    Registration(String alive, int creation, Socket socket) {
      this.alive = alive;
      this.creation = creation;
      this.socket = socket;
    }

    public String alive() {
      return alive;
    }

    /** The creation EPMD assigned (32 bits, unsigned). */
    public int creation() {
      return creation;
    }

    public boolean isOpen() {
      return !socket.isClosed();
    }

    @Override
    public void close() {
      closeQuietly(socket);
    }
  }
}
