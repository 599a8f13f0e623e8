%% The erl -> erl anchor of beamgate's benchmark harness: calls Server with rpc:call (erpc
%% underneath, as every OTP 25 client does) sequentially or from Conc processes for DurationMs,
%% then prints the distribution protocol and one RESULT line. Latencies are measured per call.
%% Around the measured window it prints READY and DONE and waits for a line on stdin each
%% time, so that the harness reads every process's CPU time exactly at the window's edges.
-module(bench_client).
-export([run/1]).

run([Server, ConcS, SizeS, DurS]) ->
    Conc = list_to_integer(atom_to_list(ConcS)),
    Size = list_to_integer(atom_to_list(SizeS)),
    Dur = list_to_integer(atom_to_list(DurS)),
    pong = net_adm:ping(Server),
    %% which distribution carries the calls: tcp (inet_tcp_dist) or tls (inet_tls_dist)
    {ok, Addr} = net_kernel:node_info(Server, address),
    io:format("DIST protocol=~w~n", [element(4, Addr)]),
    Payload = binary:copy(<<"x">>, Size),
    Args = [1, {Payload}],
    %% warm up
    Warm = erlang:monotonic_time(millisecond) + 500,
    loop(Server, Args, Warm, []),
    sync("READY"),
    Self = self(),
    End = erlang:monotonic_time(millisecond) + Dur,
    T0 = erlang:monotonic_time(microsecond),
    [spawn_link(fun() -> Self ! {lat, loop(Server, Args, End, [])} end)
     || _ <- lists:seq(1, Conc)],
    Lats = lists:append([receive {lat, L} -> L end || _ <- lists:seq(1, Conc)]),
    Elapsed = erlang:monotonic_time(microsecond) - T0,
    sync("DONE"),
    Sorted = lists:sort(Lats),
    N = length(Sorted),
    io:format("RESULT calls=~w elapsed_us=~w p50_us=~w p99_us=~w mem_bytes=~w~n",
              [N, Elapsed, pct(Sorted, N, 50), pct(Sorted, N, 99), erlang:memory(total)]),
    halt().

loop(Server, Args, End, Acc) ->
    case erlang:monotonic_time(millisecond) < End of
        false -> Acc;
        true ->
            T = erlang:monotonic_time(microsecond),
            {_} = {rpc:call(Server, erlang, element, Args)},
            loop(Server, Args, End, [erlang:monotonic_time(microsecond) - T | Acc])
    end.

sync(Mark) ->
    io:format("~s~n", [Mark]),
    _ = io:get_line(""),
    ok.

pct(_, 0, _) -> 0;
pct(Sorted, N, P) -> lists:nth(max(1, min(N, (N * P + 99) div 100)), Sorted).
