# Drives the Elixir wrapper Beamgate (client/src/main/elixir/beamgate.ex) for
# BeamClientErlTest, in Elixir syntax. Usage:
#   elixir -pa EBIN -r beamgate.ex beam_client_check.exs PORT CERT KEY CA
# Prints "Label Result" lines (Result as Erlang's ~w prints it) for the test to compare with
# the Java client's answers; the matches below check the Elixir view of the same results.
[port, cert, key, ca] = System.argv()

{:ok, conn} =
  Beamgate.connect("localhost", String.to_integer(port),
    certfile: cert, keyfile: key, cacertfile: ca)

show = fn label, result ->
  :io.format("~ts ~tw~n", [label, result])

  with {:error, {_code, message}} <- result do
    IO.puts("#{label}_message #{message}")
  end

  result
end

{:ok, %{key: "k", value: "v:k", tags: [:a, :b], n: 42}} =
  show.("kv_get", Beamgate.call(conn, MyApp.KV, :get, ["k"]))

{:ok, [%{6 => [7]}, {4.5, 'five'}, :three, "two", 1]} =
  show.("reverse", Beamgate.call(conn, :lists, :reverse, [[1, "two", :three, {4.5, 'five'}, %{6 => [7]}]]))

{:ok, [1, 2, 3]} = show.("seq", Beamgate.call(conn, :lists, :seq, [1, 3]))

terms = [123456789012345678901234567890, -98765432109876543210, -9223372036854775808,
         9223372036854775807, -1, 0, 1.0e-300, <<1, 2::3>>, [:a | :b], 'λx → y', [], {},
         %{}, "", MyApp.KV, :über]
{:ok, reversed} = show.("terms", Beamgate.call(conn, :lists, :reverse, [terms]))
^reversed = Enum.reverse(terms)
{:ok, {:inbox, {:"$beamgate_opaque", '<' ++ _}}} =
  show.("opaque", Beamgate.call(conn, MyApp.KV, :inbox, []))
{:error, {:permission_denied, _}} = show.("denied", Beamgate.call(conn, :os, :cmd, ['id']))

{:error, {:permission_denied, _}} =
  show.("code_shape", Beamgate.call(conn, :lists, :reverse, [[{:os, :cmd, 'id'}]]))

{:error, {:invalid_argument, _}} =
  show.("guard", Beamgate.call(conn, :lists, :reverse, [[[[[[[[1]]]]]]]]))

{:error, {:bad_rpc, _}} = show.("bad_rpc", Beamgate.call(conn, :lists, :seq, [:a, 2]))
:ok = show.("cast", Beamgate.cast(conn, MyApp.KV, :put, [:from_elixir, 1]))
:ok = show.("send", Beamgate.send(conn, :inbox, {:hello, :elixir}))
{:error, {:permission_denied, _}} = show.("send_denied", Beamgate.send(conn, :kernel_sup, :x))

{:error, {:timeout, _}} =
  show.("timeout", Beamgate.call(conn, :timer, :sleep, [5000], timeout: 300))

{:ok, %{principal: principal}} = Beamgate.ping(conn)
IO.puts("principal #{principal}")
:ok = Beamgate.close(conn)
{:error, {:closed, _}} = Beamgate.call(conn, :lists, :seq, [1, 2])
IO.puts("done ok")
