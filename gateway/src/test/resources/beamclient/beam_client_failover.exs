# Drives the Elixir wrapper Beamgate over two gateways for ClientsFailoverErlTest; the same
# arguments and output lines as beam_client_failover.escript.
[gateways, each, work_ms, ca, alice_cert, alice_key, bob_cert, bob_key, "default"] =
  System.argv()
{each, work_ms} = {String.to_integer(each), String.to_integer(work_ms)}
gws = String.split(gateways, ",")
opts = fn cert, key ->
  [certfile: cert, keyfile: key, cacertfile: ca, reconnect_min: 50, reconnect_max: 500]
end
{:ok, alice} = Beamgate.connect(gws, opts.(alice_cert, alice_key))
{:ok, bob} = Beamgate.connect(gws, opts.(bob_cert, bob_key))

for c <- [alice, bob] do
  Enum.find(1..100, fn _ -> Beamgate.connected(c) == 2 or (Process.sleep(50) && false) end) ||
    (IO.puts("connected #{Beamgate.connected(c)}") && System.halt(1))
end

IO.puts("ready")

show = fn what, k, r ->
  case r do
    {:ok, v} -> IO.puts("#{what} #{k} ok #{inspect(v)}")
    {:error, {code, msg}} -> IO.puts("#{what} #{k} error #{String.upcase(to_string(code))} #{msg}")
  end
end

keys = Enum.to_list(1..each) ++ Enum.to_list(1001..(1000 + each))

keys
|> Enum.map(fn k ->
  Task.async(fn ->
    if k < 1000,
      do: Beamgate.call(alice, :scaletest, :work, [k, work_ms], timeout: 15_000, idempotent: true),
      else: Beamgate.call(bob, :scaletest, :work, [k, work_ms], timeout: 15_000)
  end)
end)
|> Task.await_many(20_000)
|> Enum.zip(keys)
|> Enum.each(fn {r, k} -> show.("result", k, r) end)

for k <- 5001..5006, do: show.("after", k, Beamgate.call(bob, :scaletest, :work, [k, 0]))
IO.puts("done")
