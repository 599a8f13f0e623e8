defmodule Beamgate do
  @moduledoc """
  A beamgate client for Elixir applications outside the cluster: calls, casts and sends
  through a gateway with your client certificate, with Elixir terms in and out.

  A thin wrapper over the Erlang modules `:beamgate_client` and `:beamgate_failover`
  (client/src/main/erlang/), which must be compiled and on the code path. See
  docs/beam-client.md.

      {:ok, conn} = Beamgate.connect("gw.example.org", 9443,
                      certfile: "app/cert.pem", keyfile: "app/key.pem", cacertfile: "ca/ca.pem")
      {:ok, value} = Beamgate.call(conn, MyApp.KV, :get, ["k"])
      {:error, {:permission_denied, message}} = Beamgate.call(conn, :os, :cmd, [~c"id"])

      # several gateways: requests spread over them, failing over only what is safe
      {:ok, conn} = Beamgate.connect(["gw1.example.org:9443", "gw2.example.org:9443"],
                      certfile: "app/cert.pem", keyfile: "app/key.pem", cacertfile: "ca/ca.pem")
      {:ok, value} = Beamgate.call(conn, MyApp.KV, :get, ["k"], idempotent: true)

  Errors are `{:error, {code, message}}`: `code` is an atom named as the Java client's error
  codes (`:permission_denied`, `:invalid_argument`, `:bad_rpc`, `:timeout`, `:unavailable`,
  `:outcome_unknown`, `:resource_exhausted`, `:frame_too_large`, `:protocol_error`,
  `:cancelled`, `:closing`, `:internal`, `:unknown`, `:connection`, `:tls`, `:closed`),
  `message` a one-line binary.
  """

  @type conn :: pid()
  @type error :: {:error, {atom(), binary()}}

  @doc """
  Connects; returns once the gateway has answered a ping. Options: `:certfile`, `:keyfile`,
  `:cacertfile` (required), `:timeout` (default for each request, 30_000 ms),
  `:connect_timeout` (5_000), `:max_frame_bytes` (1_048_576), `:keepalive_interval` (10_000),
  `:keepalive_timeout` (20_000), `:atoms` (`:all` or `:existing`). The connection ends with
  the calling process.
  """
  @spec connect(String.t() | charlist() | :inet.ip_address(), :inet.port_number(), keyword()) ::
          {:ok, conn()} | error()
  def connect(host, port, opts), do: :beamgate_client.connect(host, port, opts)

  @doc """
  Connects to several gateways (`"host:port"` strings or `{host, port}` tuples) and keeps a
  connection to each, reconnected when lost; requests are spread over those up. A request
  goes to another gateway only when it cannot run twice: never sent or refused before it ran,
  or, its outcome unknown, a ping or a call made with `idempotent: true`. Others lost in flight
  fail with `:outcome_unknown`. Options: those of `connect/3`, and `:every_address` (`false`;
  `true`: a connection to every address a host name resolves to, resolved at each connect),
  `:max_attempts` (3), `:reconnect_min` (100 ms), `:reconnect_max` (5_000 ms). Returns once one
  gateway answered a ping.
  """
  @spec connect([String.t() | {String.t() | charlist() | :inet.ip_address(), :inet.port_number()}],
          keyword()) :: {:ok, conn()} | error()
  def connect(gateways, opts), do: :beamgate_client.connect(gateways, opts)

  @doc """
  Calls `module.function(args...)` on the cluster: `{:ok, result}` or an error. Options:
  `:timeout` (ms), `:idempotent` (`false`; `true`: the call may run twice, so over several
  gateways it is run again on another when its outcome is unknown; the gateway admits it only
  under a rule marked `idempotent: true`).
  """
  @spec call(conn(), module() | atom(), atom(), list(), keyword()) :: {:ok, term()} | error()
  def call(conn, module, function, args, opts \\ []) do
    if Keyword.get(opts, :idempotent, false),
      do: :beamgate_client.call_idempotent(conn, module, function, args, timeout(opts)),
      else: :beamgate_client.call(conn, module, function, args, timeout(opts))
  end

  @doc "Starts `module.function(args...)` without waiting for it: `:ok` once passed on."
  @spec cast(conn(), module() | atom(), atom(), list(), keyword()) :: :ok | error()
  def cast(conn, module, function, args, opts \\ []),
    do: :beamgate_client.cast(conn, module, function, args, timeout(opts))

  @doc "Sends `message` to the process registered as `name`: `:ok` once passed on."
  @spec send(conn(), atom(), term(), keyword()) :: :ok | error()
  def send(conn, name, message, opts \\ []),
    do: :beamgate_client.send(conn, name, message, timeout(opts))

  @doc "`{:ok, %{protocol: 1, server: version, principal: who_you_are}}`."
  @spec ping(conn(), keyword()) :: {:ok, map()} | error()
  def ping(conn, opts \\ []), do: :beamgate_client.ping(conn, timeout(opts))

  @doc "How many gateway connections are up now."
  @spec connected(conn()) :: non_neg_integer()
  def connected(conn), do: :beamgate_client.connected(conn)

  @doc "Closes the connection; requests in flight get `{:error, {:closed, _}}`."
  @spec close(conn()) :: :ok
  def close(conn), do: :beamgate_client.close(conn)

  defp timeout(opts), do: Keyword.get(opts, :timeout, :default)
end
