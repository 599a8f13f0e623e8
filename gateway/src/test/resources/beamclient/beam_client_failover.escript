#!/usr/bin/env escript
%% Drives beamgate_client over two gateways for ClientsFailoverErlTest, from a real erl.
%% Usage: beam_client_failover.escript EBIN GATEWAYS EACH WORK_MS CA ALICE_CERT ALICE_KEY
%%        BOB_CERT BOB_KEY KEEPALIVE  (GATEWAYS: host:port,host:port; KEEPALIVE: default or
%%        INTERVAL_MS,TIMEOUT_MS or max_attempts=N or every_address)
%% Prints "ready" once both clients are connected to both gateways, then starts EACH
%% idempotent calls of alice's (keys 1..EACH) and EACH plain calls of bob's (1001..) to
%% scaletest:work(Key, WORK_MS), and prints "result Key ok Value" or "result Key error CODE
%% message" for each, then "after Key ..." for calls made after the failover, then "done".
-mode(compile).

main([Ebin, Gateways, Each0, WorkMs0, Ca, AliceCert, AliceKey, BobCert, BobKey, Ka]) ->
    true = code:add_patha(Ebin),
    Each = list_to_integer(Each0),
    WorkMs = list_to_integer(WorkMs0),
    Gs = string:split(Gateways, ",", all),
    KaOpts = case Ka of
                 "default" -> [];
                 "max_attempts=" ++ Max -> [{max_attempts, list_to_integer(Max)}];
                 "every_address" -> [{every_address, true}];
                 _ -> [I, T] = [list_to_integer(X) || X <- string:split(Ka, ",")],
                      [{keepalive_interval, I}, {keepalive_timeout, T}, {connect_timeout, T}]
             end,
    Opts0 = fun(C, K) -> [{certfile, C}, {keyfile, K}, {cacertfile, Ca},
                          {reconnect_min, 50}, {reconnect_max, 500}] end,
    %% max_attempts: 1..16, checked before anything connects
    [show("option", Bad, beamgate_client:connect(Gs, [{max_attempts, Bad}
                                                      | Opts0(AliceCert, AliceKey)]))
     || Bad <- [0, 17]],
    Opts = fun(C, K) -> KaOpts ++ Opts0(C, K) end,
    {ok, Alice} = beamgate_client:connect(Gs, Opts(AliceCert, AliceKey)),
    {ok, Bob} = beamgate_client:connect(Gs, Opts(BobCert, BobKey)),
    wait_both(Alice, 100),
    wait_both(Bob, 100),
    io:format("ready~n"),
    Self = self(),
    Keys = lists:seq(1, Each) ++ lists:seq(1001, 1000 + Each),
    [spawn(fun() ->
                   R = case K < 1000 of
                           true -> beamgate_client:call_idempotent(Alice, scaletest, work,
                                                                   [K, WorkMs], 15000);
                           false -> beamgate_client:call(Bob, scaletest, work, [K, WorkMs],
                                                         15000)
                       end,
                   Self ! {K, R}
           end) || K <- Keys],
    [receive {K, R} -> show("result", K, R) after 20000 -> io:format("result ~b hang~n", [K])
     end || K <- Keys],
    [show("after", K, beamgate_client:call(Bob, scaletest, work, [K, 0]))
     || K <- lists:seq(5001, 5006)],
    io:format("connected ~b~n", [beamgate_client:connected(Bob)]),
    io:format("done~n").

wait_both(C, 0) -> io:format("connected ~b~n", [beamgate_client:connected(C)]), halt(1);
wait_both(C, N) ->
    case beamgate_client:connected(C) of
        2 -> ok;
        _ -> timer:sleep(50), wait_both(C, N - 1)
    end.

show(What, K, {ok, V}) when is_integer(V) -> io:format("~s ~b ok ~w~n", [What, K, V]);
show(What, K, {ok, _}) -> io:format("~s ~b ok~n", [What, K]);
show(What, K, {error, {Code, Msg}}) ->
    io:format("~s ~b error ~s ~ts~n", [What, K, string:uppercase(atom_to_list(Code)), Msg]).
