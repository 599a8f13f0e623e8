package io.beamgate.gateway.config;

import io.beamgate.security.audit.AuditLog;
import java.util.Arrays;
import java.util.List;

/**
 * The configuration file's tables, one per section: each row a key, its type, default, bounds
 * and meaning ({@link ConfigKey}). This is the one place a key is written: the reader takes
 * its allowed keys, defaults and bounds from here, {@code gateway check} reports the values in
 * force by these rows, and the reference table of docs/admin-guide.md section 4 is generated
 * from them ({@link ConfigReference}; {@code ConfigReferenceTest} fails when they differ). A
 * meaning is the guide's text for the key: it should not repeat the bound, which the guide
 * shows in its own column.
 *
 * <p>Sections are declared before the sections that hold them (the top level last).
 */
public final class ConfigTables {
  private ConfigTables() {}

  private static final List<String> ON_FAILURE = Arrays.stream(AuditLog.OnFailure.values())
      .map(AuditLog.OnFailure::configName).toList();

  /** The public mTLS listener. */
  public static final ConfigSection PROXY_PROTOCOL = ConfigSection.of("listen.proxy_protocol",
    ConfigKey.required("from", ConfigKey.Type.LIST,
        "the load balancers' addresses or CIDR blocks (literals, e.g. `[10.0.0.2, "
        + "10.0.1.0/28]`); a connection from one of them must start with a PROXY v1 or v2 "
        + "header, whose source address becomes the client's (audit `peer`, logs); one from "
        + "elsewhere that sends a header, a listed one that sends none, or a malformed header "
        + "is refused (logged and audited). Without `proxy_protocol`, headers are not read "
        + "([deployment](deployment.md))"));

  public static final ConfigSection LISTEN = ConfigSection.of("listen",
    ConfigKey.required("address", ConfigKey.Type.TEXT, 
        "the address the public listener binds; clients and bridging gateways both connect "
        + "here"),
    ConfigKey.requiredInteger("port", 1, 65535, 
        "the only port the gateway opens for the network (with `bridges`, each bridge's node "
        + "also listens, on `cluster.listen_address`)"),
    ConfigKey.section("proxy_protocol", false, PROXY_PROTOCOL));

  /** Limits shared with the other gateways of a group (none unless the section is there). */
  public static final ConfigSection SCALE = ConfigSection.of("scale",
    ConfigKey.optional("group", ConfigKey.Type.TEXT,
        "the group's name (1..64 letters, digits, `_`, `.`, `-`; `default` when left out): "
        + "the gateways of one group on the same backends find each other there and each "
        + "enforces its share of every rule's rate and concurrency (the limit divided by the "
        + "gateways up), and the atom budget is charged against the backends' measured atom "
        + "counts ([deployment](deployment.md)); without `scale`, each gateway keeps its own"),
    ConfigKey.integer("poll_ms", 1_000, 100, 60_000,
        "how often each backend is asked which gateways of the group are up and how many "
        + "atoms it has"));

  /** The listener's TLS files. */
  public static final ConfigSection TLS = ConfigSection.of("tls",
    ConfigKey.required("certificate", ConfigKey.Type.PATH, 
        "the gateway's certificate chain (PEM); with `bridges`, it is also the client "
        + "certificate shown to the other gateway, so it needs `clientAuth` too (`certs issue "
        + "--gateway`)"),
    ConfigKey.required("key", ConfigKey.Type.PATH, 
        "the certificate's PKCS#8 key (PEM); it must be owner-only"),
    ConfigKey.required("client_cas", ConfigKey.Type.PATH, 
        "a client's chain must validate to one of these CAs; so must the certificate of a "
        + "gateway that bridges to this one, and (with `bridges`) the certificate of the "
        + "gateway this one connects to"),
    ConfigKey.optional("crl", ConfigKey.Type.PATH, 
        "one PEM CRL, signed by one of `client_cas`, before its next-update date; otherwise "
        + "the gateway does not start, and a reload is refused"),
    ConfigKey.bool("allow_tls12", false, 
        "adds TLS 1.2 with ECDHE and AEAD ciphers only"),
    ConfigKey.integer("handshake_timeout_ms", 10_000, 1, 
        "a connection that has not finished the handshake by then is closed"),
    ConfigKey.integer("verified_chains_cache", 10_000, 0, 1_000_000,
        "how many client certificate chains that passed validation (CAs, dates, CRL) are "
        + "remembered, so that a client reconnecting with the same certificates skips the "
        + "path validation (the proof that it holds the key is still checked every time); "
        + "an entry is used only within every certificate's dates, before the CRL's next "
        + "update and within `verified_chains_max_age_ms`, and a reload empties the cache; "
        + "0 turns it off"),
    ConfigKey.integer("verified_chains_max_age_ms", 300_000, 1, 3_600_000,
        "a remembered chain is validated again once this long has passed since its last "
        + "validation"));

  /** One backend written as a mapping (a backend can also be just its node name). */
  public static final ConfigSection BACKEND = ConfigSection.of("cluster.backends[]",
    ConfigKey.required("node", ConfigKey.Type.TEXT, 
        "the backend's node name, `alive@host`"),
    ConfigKey.requiredInteger("port", 1, 65535, 
        "its distribution port: the gateway connects there without asking EPMD"));

  /** When a backend whose calls time out leaves the rotation. */
  public static final ConfigSection OUTLIER = ConfigSection.of("cluster.outlier",
    ConfigKey.integer("consecutive_timeouts", 5, 0, 
        "this many calls in a row to one backend ending in a timeout eject it (below); any "
        + "answer resets the count; 0 turns this sign off"),
    ConfigKey.integer("max_silence_ms", 5_000, 0, 
        "a backend with calls in flight that answered none of them for this long is ejected, "
        + "without waiting for the calls' own timeouts; 0 turns this sign off. It bounds how "
        + "long a frozen or silently partitioned backend keeps receiving calls (the fault run "
        + "measured ejection 5.0–7.2 s after the fault with the default, with 64–66 calls "
        + "timing out meanwhile): keep it below your clients' call timeouts. A backend that, "
        + "at some moment, runs only calls longer than this is ejected too (and probed back "
        + "in): raise it above your longest call if that happens and the warnings bother you"),
    ConfigKey.integer("eject_ms", 10_000, 1, 
        "how long an ejected backend stays out of rotation before it is probed, and again "
        + "after each failed probe"),
    ConfigKey.integer("max_ejection_percent", 50, 0, 100, 
        "at most this share of the backends (rounded down) is ejected at once; the last "
        + "backend in rotation is never ejected, whatever this says; 0 turns ejection off"),
    ConfigKey.integer("probe_timeout_ms", 2_000, 1, 
        "how long the probe of an ejected backend may take"));

  /** The cluster side: the gateway's hidden node and the backends it calls. */
  public static final ConfigSection CLUSTER = ConfigSection.of("cluster",
    ConfigKey.required("node_name", ConfigKey.Type.TEXT, 
        "`alive@host`, the hidden node the backends see; use short names (`gw@host`) if the "
        + "backends run with `-sname`, long names (`gw@10.0.0.5` or a full host name) if they "
        + "run with `-name`"),
    ConfigKey.required("cookie_file", ConfigKey.Type.PATH, 
        "the cluster's cookie, first line; `check` and `run` refuse a file group or others "
        + "can read"),
    ConfigKey.required("listen_address", ConfigKey.Type.TEXT, 
        "the gateway's own node binds nothing (it makes outgoing connections only); with "
        + "`bridges`, each bridge's node listens on this address; `check` refuses it when it "
        + "equals `listen.address`"),
    ConfigKey.integer("epmd_port", 4369, 1, 
        "the EPMD port asked on each backend's host; with `bridges`, each bridge's node "
        + "registers with the EPMD on this host at this port (it must be running before the "
        + "gateway starts)"),
    ConfigKey.list("backends", true, BACKEND, 
        "at least one; each a node name, or `{node: NAME, port: P}` to skip EPMD and connect "
        + "to port P; a name listed twice is an error"),
    ConfigKey.choice("routing", "round_robin", List.of("round_robin", "least_in_flight", "hash"), 
        "`round_robin`: each call to the next backend that is up; `least_in_flight`: the "
        + "backend with the fewest calls in flight; `hash`: consistent hashing of one argument "
        + "(below)"),
    ConfigKey.integer("hash_argument", 0, 0, 
        "with `hash`: the position (from 0) of the argument that picks the backend; the same "
        + "value goes to the same backend while the set of backends in rotation (up and not "
        + "ejected, below) does not change; a call with fewer arguments is spread round robin; "
        + "a send hashes the whole message"),
    ConfigKey.integer("reconnect_min_ms", 200, 1, 
        "first wait before reconnecting to a backend that is down"),
    ConfigKey.integer("reconnect_max_ms", 30_000, 1, 
        "the wait doubles up to this cap; each wait is drawn between half and all of it, so "
        + "backends that fell together do not come back in lock step; at least "
        + "`reconnect_min_ms`"),
    ConfigKey.integer("io_threads", 0, 0, 256, 
        "the I/O threads of the gateway's node; the listener accepts on them, and client and "
        + "accepted bridge connections share them with the backends' connections, so a "
        + "request and its call often stay on one thread; 0 takes the number of cores, at "
        + "most 4. Fewer threads mean fewer hand-offs (lower latency), more threads more "
        + "parallel TLS work. (A node standing for another cluster, from `bridges`, always has "
        + "one thread, shared with its link.)"),
    ConfigKey.choice("io_affinity", "backend", List.of("backend", "spread"),
        "where a new client connection is served: `backend`, on the I/O thread of a backend's "
        + "connection (of those in rotation, the one with the fewest clients), so a call and "
        + "its answer cross no thread, except that while that thread has more TLS handshakes "
        + "under way than another, the connection goes to the other; `spread`, on the least "
        + "busy I/O thread. `backend` costs less CPU and latency per call; with one backend "
        + "every client connection then shares one thread, so a gateway with many cores, one "
        + "backend and TLS-heavy traffic may do more with `spread`"),
    ConfigKey.integer("net_ticktime_seconds", 60, 1, 3600, 
        "OTP's `net_ticktime` for the gateway's nodes (its own and each bridge's): a backend "
        + "from which nothing, not even a tick, arrives for this long is declared down, and "
        + "the gateway sends a tick after a quarter of it without traffic. Set it to the "
        + "backends' `-kernel net_ticktime` (OTP's default is 60 too): when the gateway's is "
        + "longer, a backend with a shorter one finds the gateway's ticks too rare and drops "
        + "the connection again and again; when it is shorter, the gateway drops backends that "
        + "only tick as often as their own setting asks")
        .withNote("the backends' -kernel net_ticktime"),
    ConfigKey.section("outlier", false, OUTLIER));

  /** Gateway-wide bounds of client connections. */
  public static final ConfigSection LIMITS = ConfigSection.of("limits",
    ConfigKey.integer("max_connections", 10_000, 1, 
        "open client connections, counted from the TCP accept, before the handshake; past it "
        + "a new connection is refused (and audited): its TLS handshake completes, it gets one "
        + "`RESOURCE_EXHAUSTED` error \"the gateway is full: N connections are open "
        + "(limits.max_connections); try again later\" (the Java client and `beamgate call`, "
        + "exit 71, print it), and it is closed. At most 64 refused connections (and at most "
        + "`max_connections`) are told so at once, since telling costs a handshake; past that, "
        + "a new one is closed at once without a word (the client then reports a connection "
        + "closed during the TLS handshake)"),
    ConfigKey.integer("max_in_flight", 10_000, 1, 
        "requests in flight over all connections; past it: `RESOURCE_EXHAUSTED`"),
    ConfigKey.integer("max_in_flight_per_connection", 256, 1, 
        "past it the gateway stops reading from that connection until answers go out "
        + "(backpressure, not an error); it also stops reading while the client does not read "
        + "its answers"),
    ConfigKey.integer("max_frame_bytes", 1 << 20, 64, 
        "a larger frame is answered `FRAME_TOO_LARGE` and the connection closed"),
    ConfigKey.integer("idle_timeout_ms", 300_000, 1, 
        "a connection with nothing in flight and no frame for this long is closed"),
    ConfigKey.integer("control_per_second", 100, 1, 
        "pings and cancels one connection may send per second (bursts up to one second's "
        + "worth); they take no rule permit, so they have this bucket instead. Past it they "
        + "are answered `RESOURCE_EXHAUSTED` (\"limits.control_per_second\"), with one audit "
        + "record per burst"),
    ConfigKey.integer("max_output_bytes", 16 << 20, 4096, 
        "answers queued for one client that does not read them. From a quarter of it (at "
        + "most 1 MiB) the gateway starts none of that connection's requests until the client "
        + "reads again (they wait, and reading from the connection stops); past it, once the "
        + "client has read nothing for `output_stall_ms`, the connection is closed, its calls "
        + "in flight recorded `abandoned`, and requests it sent that were never started are "
        + "never started. The kernel's socket buffers hold a few MiB more, outside this count. "
        + "What one client that never reads can make the gateway do is bounded by "
        + "`max_in_flight_per_connection` × `max_result_bytes` (its calls already in flight "
        + "run and their answers are produced before the limit closes it: about 16 MiB with "
        + "the defaults and 64 KiB results), and the fault run saw other clients' p99 rise "
        + "3–40× while two such clients were connected: lower `max_in_flight_per_connection` "
        + "for clients you do not trust to read"),
    ConfigKey.integer("output_stall_ms", 5_000, 1, 
        "how long a client over `max_output_bytes` may go without reading anything before it "
        + "is closed. A client that reads a burst of large answers, however slowly, is only "
        + "slowed down (the benchmark's 64 calls of 1 MiB in flight once queued past 16 MiB "
        + "and were cut before this existed)"));

  /** The audit log (`audit: PATH` is short for `audit: {file: PATH}`). */
  public static final ConfigSection AUDIT = ConfigSection.of("audit",
    ConfigKey.optional("file", ConfigKey.Type.PATH, 
        "the audit file, appended to (created owner read-write, group read); without it, "
        + "audit records go to standard output and the log warns. `audit: PATH` is short for "
        + "`audit: {file: PATH}`"),
    ConfigKey.choice("on_failure", "refuse", ON_FAILURE, 
        "what happens while a record cannot be written (a full disk, a missing directory): "
        + "`refuse` fails closed, every call and send is answered `UNAVAILABLE` with the "
        + "reason until a record can be written again; `continue` fails open, requests are "
        + "served and the records lost are counted and logged. See section 9, \"When the audit "
        + "cannot be written\"")
        .withNote("refuse refuses requests while records cannot be written, continue serves them "
            + "and counts the lost records"));

  /** Live reloads of the policy, certificates and CRL. */
  public static final ConfigSection RELOAD = ConfigSection.of("reload",
    ConfigKey.integer("watch_interval_ms", 2_000, 0, 
        "how often the policy, certificate, key, CA and CRL files are compared with what is "
        + "in force (by content); 0 turns watching off"),
    ConfigKey.pathBeside("admin_socket", "beamgate-admin.sock", 
        "the Unix socket `beamgate gateway reload` and `gateway status` talk to; created "
        + "owner-only (0600); up to 4 clients at once, each closed after 5 s without a command"));

  /** The admin HTTP listener (none unless the section is there). */
  public static final ConfigSection ADMIN = ConfigSection.of("admin",
    ConfigKey.required("listen", ConfigKey.Type.TEXT, 
        "`[ADDRESS:]PORT` (port 1..65535) of the admin HTTP listener, which is off when the "
        + "`admin` section is absent: `/metrics` (Prometheus), `/live`, `/ready`, `/status`; a "
        + "port alone means 127.0.0.1. Plain HTTP, no authentication: anyone who reaches it "
        + "reads backend names, rule ids and counters "
        + "([operations](operations.md#2-monitoring))"),
    ConfigKey.bool("allow_remote", false, 
        "must be true for an `admin.listen` address that is not loopback (127.0.0.0/8, ::1, "
        + "localhost); otherwise the file is refused"));

  /** The gRPC door (ALPN h2 on the listener's port; always on, under the same policy). */
  public static final ConfigSection GRPC = ConfigSection.of("grpc",
    ConfigKey.bool("reflection", false,
        "gRPC server reflection on the gRPC door (ALPN `h2`, [grpc-guide.md](grpc-guide.md)): "
        + "lists the services and serves the public `.proto` to any client whose certificate "
        + "the gateway accepts; off by default"),
    ConfigKey.integer("keepalive_permit_seconds", 5, 1, 3_600,
        "the shortest interval between a gRPC client's keepalive pings the door accepts; a "
        + "client that pings more often is closed (HTTP/2 GOAWAY `too_many_pings`), as gRPC "
        + "servers do. gRPC's own default (300) would close clients that find a dead gateway "
        + "by their keepalive (grpc-go pings at most every 10 s)"));

  /** Bounds of every bridge link, opened or accepted. */
  public static final ConfigSection BRIDGE = ConfigSection.of("bridge",
    ConfigKey.integer("max_proxies", 100_000, 16, 
        "per link, the stand-in pids kept (and as many stand-in references, given-out pids "
        + "and given-out references); past it the least recently used are forgotten and "
        + "signals to them dropped. Also the links and monitors held across one link: past it "
        + "a new one is refused with an exit or `DOWN` naming `resource_exhausted`"),
    ConfigKey.integer("keepalive_ms", 5_000, 10, 
        "a link idle this long sends a ping; a link that received nothing for 3 × this is "
        + "closed"),
    ConfigKey.integer("max_queue_bytes", 16 << 20, 4096, 
        "bytes waiting to go out on a link. Past it, a link this gateway opened stops "
        + "reading from its cluster, and a link it accepted stops reading the link, until the "
        + "queue is half as long; past 4 × this + `max_frame_bytes`, either side closes the "
        + "link"),
    ConfigKey.integer("max_frame_bytes", 16 << 20, 1024, 
        "the largest message accepted from the other gateway (a larger one closes the link), "
        + "and the largest sent to it (a larger one is not sent: a call or result becomes a "
        + "`resource_exhausted` error, a send is dropped; audited). Set it the same on both "
        + "sides"),
    ConfigKey.integer("call_timeout_ms", 30_000, 1, 
        "the longest a call from another cluster may run here (the rule's `timeout_ms` when "
        + "shorter)"),
    ConfigKey.optional("names", ConfigKey.Type.MAPPING, 
        "a mapping of registered name to backend node (`{kv_server: app@10.0.0.11}`): sends "
        + "and monitors by that name from another cluster go to that node; each node must be "
        + "in `cluster.backends`; names not listed go to the first backend that is up"));

  /** The other gateway's listener. */
  public static final ConfigSection CONNECT = ConfigSection.of("bridges[].connect",
    ConfigKey.required("host", ConfigKey.Type.TEXT, 
        "the other gateway's address; its certificate must be valid for it (hostname "
        + "verification)"),
    ConfigKey.requiredInteger("port", 1, 65535, 
        "the other gateway's listener port"));

  /** A link this gateway opens to another cluster's gateway. */
  public static final ConfigSection BRIDGES = ConfigSection.of("bridges[]",
    ConfigKey.required("name", ConfigKey.Type.TEXT, 
        "unique; names the link in logs, status and audit records"),
    ConfigKey.section("connect", true, CONNECT),
    ConfigKey.required("expect", ConfigKey.Type.TEXT, 
        "a principal rule (`dns:`, `uri:`, `cn:`, `sha256:`, as in policies) the other "
        + "gateway's certificate must match; its chain must validate to `tls.client_cas`"),
    ConfigKey.required("node_name", ConfigKey.Type.TEXT, 
        "`alive@host`: the node that stands for the other cluster in this one; not "
        + "`cluster.node_name`; its host must resolve to `cluster.listen_address` for this "
        + "cluster's nodes"),
    ConfigKey.integer("listen_port", 0, 0, 65535, 
        "that node's distribution port; 0 takes any free port (EPMD tells it to the nodes); "
        + "set one to open a firewall for it"),
    ConfigKey.bool("visible", false, 
        "whether that node is visible (in `nodes()`, reported by `monitor_nodes/1`); hidden "
        + "by default because `global` on the cluster's nodes would wait for a visible one "
        + "forever (`global:sync()` blocks)"),
    ConfigKey.integer("reconnect_min_ms", 200, 1, 
        "the first wait before reconnecting a link; it doubles up to `reconnect_max_ms` "
        + "(each wait drawn between half and all of it)"),
    ConfigKey.integer("reconnect_max_ms", 30_000, 1, 
        "the cap of that wait; at least `reconnect_min_ms`"));

  /** The top level, in the order the guide lists the sections. */
  public static final ConfigSection TOP = ConfigSection.of("",
    ConfigKey.requiredInteger("version", 1, 1, 
        "the file format's version")
        .withNote("the only format so far"),
    ConfigKey.section("listen", true, LISTEN),
    ConfigKey.section("tls", true, TLS),
    ConfigKey.section("cluster", true, CLUSTER),
    ConfigKey.section("limits", false, LIMITS),
    ConfigKey.required("policy", ConfigKey.Type.PATH, 
        "the policy file (section 3)"),
    ConfigKey.pathBeside("atom_state", "beamgate-atoms.state", 
        "where the atoms the gateway has forwarded into the cluster are kept (one "
        + "URL-encoded name a line, appended and forced to disk as they are admitted): at "
        + "start they count against `atom_budget` again, so a restart does not refill the pool "
        + "while the cluster still holds them. Delete it only when every backend has restarted "
        + "(their atom tables are new). If it cannot be opened, the gateway logs an error and "
        + "keeps the budget in memory only"),
    ConfigKey.section("audit", false, AUDIT),
    ConfigKey.section("reload", false, RELOAD),
    ConfigKey.section("admin", false, ADMIN),
    ConfigKey.section("grpc", false, GRPC),
    ConfigKey.section("scale", false, SCALE),
    ConfigKey.section("bridge", false, BRIDGE),
    ConfigKey.list("bridges", false, BRIDGES, 
        "the links this gateway opens to other clusters' gateways (below); accepted links "
        + "need no key"));

  /** Every section reachable from the top level, parents before children (the guide's order). */
  public static List<ConfigSection> all() {
    List<ConfigSection> out = new java.util.ArrayList<>();
    walk(TOP, out);
    return out;
  }

  private static void walk(ConfigSection s, List<ConfigSection> out) {
    out.add(s);
    for (ConfigKey k : s.rows()) {
      if (k.child() != null) {
        walk(k.child(), out);
      }
    }
  }
}
