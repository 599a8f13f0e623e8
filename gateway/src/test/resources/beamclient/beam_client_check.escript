#!/usr/bin/env escript
%% Drives beamgate_client (client/src/main/erlang) for BeamClientErlTest, from a real erl.
%% Usage: beam_client_check.escript EBIN PORT CERT KEY CA MODE [ARG]
%% Prints one line per outcome, "Label Result" with Result as ~w prints it, so that the
%% test can compare it with the Java client's answer to the same request.
-mode(compile).

main([Ebin, Port, Cert, Key, Ca, Mode | Rest]) ->
    true = code:add_patha(Ebin),
    ok = io:setopts([{encoding, unicode}]),
    Opts = [{certfile, Cert}, {keyfile, Key}, {cacertfile, Ca} | opts(Mode)],
    case beamgate_client:connect("localhost", list_to_integer(Port), Opts) of
        {ok, C} ->
            run(Mode, C, Rest),
            beamgate_client:close(C),
            show(done, ok);
        Error ->
            show(connect, Error),
            halt(1)
    end.

opts("limits") -> [{max_frame_bytes, 1008}];
opts("keepalive") -> [{keepalive_interval, 200}, {keepalive_timeout, 600}];
opts(_) -> [].

show(Label, R) ->
    io:format("~ts ~tw~n", [Label, R]),
    case R of
        {error, {_, Message}} -> io:format("~s_message ~ts~n", [Label, Message]);
        _ -> ok
    end.

%% The requests of a file of terms: {Label, call, M, F, Args, TimeoutMs}, {Label, cast, M, F,
%% Args}, {Label, send, Name, Message}, {Label, ping}.
run("steps", C, [File]) ->
    {ok, Steps} = file:consult(File),
    lists:foreach(
      fun({L, call, M, F, A, T}) -> show(L, beamgate_client:call(C, M, F, A, T));
         ({L, cast, M, F, A}) -> show(L, beamgate_client:cast(C, M, F, A));
         ({L, send, N, Msg}) -> show(L, beamgate_client:send(C, N, Msg));
         ({L, ping}) ->
              {ok, #{principal := P}} = beamgate_client:ping(C),
              show(L, {ok, P})
      end, Steps);

%% Many calls in flight on one connection, answered out of order, each to its own caller.
run("concurrent", C, []) ->
    Self = self(),
    spawn(fun() -> R = beamgate_client:call(C, timer, sleep, [1500]),
                   Self ! {slow, R, erlang:monotonic_time()} end),
    timer:sleep(100),
    N = 50,
    [spawn(fun() -> Self ! {I, beamgate_client:call(C, lists, seq, [1, I]),
                            erlang:monotonic_time()} end) || I <- lists:seq(1, N)],
    Fast = [receive {I, R, T} -> {R =:= {ok, lists:seq(1, I)}, T} after 20000 -> hang end
            || I <- lists:seq(1, N)],
    show(fast_right, length([x || {true, _} <- Fast])),
    receive {slow, R, T} ->
            show(slow, R),
            show(slow_last, lists:all(fun({_, TF}) -> TF < T; (_) -> false end, Fast))
    after 20000 -> show(slow, hang)
    end;

%% Requests in flight when the connection is cut (the test closes or partitions the relay
%% when it reads "inflight"): each is answered, none hangs.
run(Cut, C, []) when Cut =:= "loss"; Cut =:= "keepalive" ->
    Self = self(),
    T0 = erlang:monotonic_time(millisecond),
    [spawn(fun() -> Self ! {I, beamgate_client:call(C, timer, sleep, [20000], 30000)} end)
     || I <- [1, 2, 3]],
    timer:sleep(500),
    show(inflight, 3),
    [receive {I, R} -> show(lost, R) after 25000 -> show(lost, hang) end || I <- [1, 2, 3]],
    show(elapsed_ms, erlang:monotonic_time(millisecond) - T0),
    show(after_loss, beamgate_client:call(C, lists, seq, [1, 2]));

%% max_frame_bytes 1008: a result frame of exactly 1008 bytes (a 1000-byte binary with id 2)
%% is read; a request over the limit is not sent and the connection stays; a result over it
%% closes the connection. Requests the client refuses before sending.
run("limits", C, []) ->
    show(request_over, beamgate_client:call(C, lists, reverse, [[binary:copy(<<"x">>, 3000)]])),
    show(answer_at, case beamgate_client:call(C, binary, copy, [<<"a">>, 1000]) of
                        {ok, B} -> {ok, byte_size(B)};
                        E -> E
                    end),
    show(pid_arg, beamgate_client:call(C, lists, reverse, [[self()]])),
    show(fun_arg, beamgate_client:send(C, inbox, {fun() -> ok end})),
    show(bad_timeout, beamgate_client:call(C, lists, seq, [1, 2], -5)),
    show(answer_over, beamgate_client:call(C, binary, copy, [<<"a">>, 1001])),
    show(after_over, beamgate_client:call(C, lists, seq, [1, 2])).
