%% Several gateways behind one handle, for beamgate_client:connect/2: a connection to each
%% gateway (or to each address of a host name, with every_address), kept up, requests spread
%% round robin over the connections that are up, and a failed request tried again on another
%% only when that cannot run it twice:
%%
%%   - it was never executed: not sent (connection), the TLS session refused (tls), or refused
%%     before it ran by a gateway with no backend up (unavailable) or shutting down (closing);
%%   - or its outcome is unknown (outcome_unknown: its gateway died, or went silent past the
%%     keepalive, with it in flight) and it is a ping or a call_idempotent, which the gateway
%%     admits only under a rule marked `idempotent: true`.
%%
%% Any other call, cast or send whose outcome is unknown fails with outcome_unknown, once. A
%% timeout is never retried (the time is spent). A request is tried on at most max_attempts
%% gateways within its own timeout. The same rules as the Java client's (Failover.java).
%%
%% The pool process only keeps the list of connections: each request runs in a process of
%% its own that asks the pool for the connections up, so a slow gateway never holds up the
%% pool. Each connection is a beamgate_client process owned by the pool; one that is lost
%% tells the pool at once and is reconnected with capped exponential backoff and jitter (host
%% names resolved again at each attempt).
-module(beamgate_failover).
-behaviour(gen_server).

-export([connect/2]).
-export([init/1, handle_call/3, handle_cast/2, handle_info/2, terminate/2]).

-record(pool, {owner_mon, gateways, opts,
               up = [] :: [{pid(), term()}],      % {Conn, Target}, Target = {Gateway, Addr}
               connecting = #{}, resolving = 0,   % attempts under way
               failures = #{}, retry = #{},       % per gateway: failures in a row, timer
               next = 0, waiters = [], last_error}).

%% ---------------------------------------------------------------- API (via beamgate_client)

connect(Gateways0, Opts) ->
    case gateways(Gateways0) of
        {ok, Gateways} ->
            {ok, Pool} = gen_server:start(?MODULE, {self(), Gateways, Opts}, []),
            Wait = 2 * maps:get(connect_timeout, Opts) + 1000,
            First = try gen_server:call(Pool, first_up, Wait)
                    catch exit:{timeout, _} ->
                            {error, {connection, fmt("no gateway of ~s connected within ~b ms",
                                                     [show(Gateways), Wait])}}
                    end,
            case First of
                ok ->
                    case beamgate_client:ping(Pool, maps:get(connect_timeout, Opts)) of
                        {ok, _} -> {ok, Pool};
                        {error, _} = E -> beamgate_client:close(Pool), E
                    end;
                {error, _} = E -> beamgate_client:close(Pool), E
            end;
        {error, _} = E -> E
    end.

gateways([]) ->
    {error, {invalid_argument, <<"gateways: [] (expected: at least one {Host, Port} or "
                                 "\"host:port\")">>}};
gateways(L) when is_list(L) ->
    try {ok, [gateway(G) || G <- L]}
    catch throw:{bad, G} ->
            {error, {invalid_argument, fmt("gateway: ~0p (expected: {Host, Port} or "
                                           "\"host:port\")", [G])}}
    end;
gateways(Other) -> gateways([Other]).

gateway({H, P}) when is_integer(P), P > 0, P < 65536, is_tuple(H) -> {H, P};
gateway({H, P}) when is_integer(P), P > 0, P < 65536, is_binary(H) -> {binary_to_list(H), P};
gateway({H, P} = G) when is_integer(P), P > 0, P < 65536, is_list(H) ->
    case io_lib:char_list(H) andalso H =/= "" of true -> G; false -> throw({bad, G}) end;
gateway(B) when is_binary(B) -> gateway(binary_to_list(B));
gateway(S) when is_list(S) ->
    case string:split(S, ":", trailing) of
        [H, P] ->
            try list_to_integer(P) of
                N -> gateway({string:trim(string:trim(H, leading, "["), trailing, "]"), N})
            catch error:badarg -> throw({bad, S})
            end;
        _ -> throw({bad, S})
    end;
gateway(G) -> throw({bad, G}).

%% ---------------------------------------------------------------- the pool

init({Owner, Gateways, Opts}) ->
    [self() ! {retry, G} || G <- Gateways],
    {ok, #pool{owner_mon = erlang:monitor(process, Owner), gateways = Gateways,
               opts = Opts}}.

handle_call(first_up, _From, P = #pool{up = [_ | _]}) -> {reply, ok, P};
handle_call(first_up, From, P) ->
    {noreply, answer_waiters(P#pool{waiters = [From | P#pool.waiters]})};
handle_call(members, _From, P) ->
    {Conns, P1} = rotated(P),
    {reply, Conns, P1};
handle_call({request, Body, Timeout, Safe}, From, P) ->
    {Conns, P1} = rotated(P),
    Pool = self(),
    Opts = P#pool.opts,
    spawn(fun() -> gen_server:reply(From, run(Pool, Conns, Body, Timeout, Safe, Opts)) end),
    {noreply, P1};
handle_call(_Other, _From, P) ->
    {reply, {error, {protocol_error, <<"unknown request">>}}, P}.

handle_cast(_Msg, P) -> {noreply, P}.

handle_info({retry, G}, P) ->
    Pool = self(),
    Every = maps:get(every_address, P#pool.opts),
    spawn(fun() -> Pool ! {resolved, G, resolve(G, Every)} end),
    {noreply, P#pool{retry = maps:remove(G, P#pool.retry), resolving = P#pool.resolving + 1}};
handle_info({resolved, G, {ok, Addrs}}, P0) ->
    P = P0#pool{resolving = P0#pool.resolving - 1},
    Busy = [T || {_, T} <- P#pool.up] ++ maps:keys(P#pool.connecting),
    New = [{G, A} || A <- Addrs, not lists:member({G, A}, Busy)],
    {noreply, answer_waiters(lists:foldl(fun start_connection/2, P, New))};
handle_info({resolved, G, {error, Why}}, P) ->
    {noreply, failed(G, Why, P#pool{resolving = P#pool.resolving - 1})};
handle_info({connected, {G, _} = T, Result}, P0) ->
    P = P0#pool{connecting = maps:remove(T, P0#pool.connecting)},
    case Result of
        {ok, Conn} ->
            erlang:monitor(process, Conn),
            {noreply, answer_waiters(P#pool{up = P#pool.up ++ [{Conn, T}],
                                            failures = maps:put(G, 0, P#pool.failures)})};
        {error, {shutdown, {Code, Msg}}} -> {noreply, failed(G, {Code, Msg}, P)};
        {error, Other} -> {noreply, failed(G, {connection, fmt("~0p", [Other])}, P)}
    end;
handle_info({beamgate_client_lost, Conn, Code, Msg}, P) ->
    gen_server:cast(Conn, stop),
    {noreply, lost(Conn, {Code, Msg}, P)};
handle_info({'DOWN', Mon, process, _, _}, P = #pool{owner_mon = Mon}) ->
    {stop, normal, P};
handle_info({'DOWN', _, process, Conn, Why}, P) ->
    {noreply, lost(Conn, {connection, fmt("the connection ended: ~0p", [Why])}, P)};
handle_info(_Other, P) -> {noreply, P}.

terminate(_Reason, P) ->
    [gen_server:cast(C, stop) || {C, _} <- P#pool.up],
    ok.

%% The connections up, starting one further each time: requests spread round robin.
rotated(P = #pool{up = Up, next = N}) ->
    Conns = [C || {C, _} <- Up],
    case Conns of
        [] -> {[], P};
        _ ->
            {A, B} = lists:split(N rem length(Conns), Conns),
            {B ++ A, P#pool{next = N + 1}}
    end.

start_connection({{Host, Port}, Addr} = T, P) ->
    Pool = self(),
    Opts = maps:merge(P#pool.opts, case Addr of
                                       undefined -> #{pool_member => true};
                                       _ -> #{pool_member => true, address => Addr}
                                   end),
    spawn(fun() -> Pool ! {connected, T, gen_server:start(beamgate_client,
                                                          {Pool, Host, Port, Opts}, [])} end),
    P#pool{connecting = maps:put(T, true, P#pool.connecting)}.

lost(Conn, Why, P) ->
    case lists:keytake(Conn, 1, P#pool.up) of
        {value, {_, {G, _}}, Up} -> failed(G, Why, P#pool{up = Up});
        false -> P
    end.

%% A gateway failed (or was lost): try it again later, waiting longer each time in a row.
failed(G, Why, P) ->
    N = maps:get(G, P#pool.failures, 0),
    Retry = case maps:is_key(G, P#pool.retry) of
                true -> P#pool.retry;
                false -> maps:put(G, erlang:send_after(backoff(N, P#pool.opts), self(),
                                                       {retry, G}), P#pool.retry)
            end,
    answer_waiters(P#pool{failures = maps:put(G, N + 1, P#pool.failures), retry = Retry,
                          last_error = Why}).

backoff(N, Opts) ->
    Max = maps:get(reconnect_max, Opts),
    D = min(Max, maps:get(reconnect_min, Opts) bsl min(N, 20)),
    D div 2 + rand:uniform(D - D div 2). % randomised: clients do not all come back at once

%% connect/2 waits for the first connection up, or for every first attempt to have failed.
answer_waiters(P = #pool{waiters = []}) -> P;
answer_waiters(P = #pool{up = [_ | _], waiters = Ws}) ->
    [gen_server:reply(W, ok) || W <- Ws],
    P#pool{waiters = []};
answer_waiters(P = #pool{resolving = 0, waiters = Ws, last_error = {Code, Msg}})
  when map_size(P#pool.connecting) =:= 0 ->
    [gen_server:reply(W, {error, {Code, Msg}}) || W <- Ws],
    P#pool{waiters = []};
answer_waiters(P) -> P.

resolve(_G, false) -> {ok, [undefined]};
resolve({Host, _}, true) when is_tuple(Host) -> {ok, [Host]};
resolve({Host, Port}, true) ->
    case {inet:getaddrs(Host, inet), inet:getaddrs(Host, inet6)} of
        {{error, _}, {error, Why}} ->
            {error, {connection, fmt("cannot resolve the gateway ~s:~b: ~0p (expected: a "
                                     "host name with at least one address)",
                                     [Host, Port, Why])}};
        {A4, A6} -> {ok, lists:usort(ok_list(A4) ++ ok_list(A6))}
    end.

ok_list({ok, L}) -> L;
ok_list(_) -> [].

%% ---------------------------------------------------------------- one request's attempts

run(Pool, Conns, Body, Timeout0, Safe, Opts) ->
    Timeout = case Timeout0 of default -> maps:get(timeout, Opts); _ -> Timeout0 end,
    %% A request made while no gateway is up waits for one up to its timeout.
    Deadline = case Timeout of
                   infinity -> now_ms() + maps:get(connect_timeout, Opts);
                   _ -> now_ms() + Timeout
               end,
    attempt(#{pool => Pool, body => Body, timeout => Timeout, safe => Safe, opts => Opts,
              deadline => Deadline, tried => [], attempts => 0, last => undefined}, Conns).

attempt(R = #{deadline := Deadline, tried := Tried, last := Last}, Conns) ->
    case pick(Conns, Tried) of
        none ->
            Left = Deadline - now_ms(),
            if Left =< 0 ->
                    case Last of
                        undefined -> {error, {connection, <<"no gateway was up in time">>}};
                        _ -> {error, Last}
                    end;
               true ->
                    timer:sleep(min(Left, maps:get(reconnect_min, maps:get(opts, R)))),
                    again(R)
            end;
        Conn -> send(R, Conn)
    end.

send(R = #{body := Body, safe := Safe, tried := Tried, attempts := N}, Conn) ->
    Left = case maps:get(timeout, R) of
               infinity -> infinity;
               _ -> max(1, maps:get(deadline, R) - now_ms())
           end,
    Result = try gen_server:call(Conn, {request, Body, Left, Safe}, infinity)
             catch exit:_ -> {error, {connection, <<"the connection ended before the "
                                                    "request was sent">>}}
             end,
    R1 = R#{tried := [Conn | Tried], attempts := N + 1},
    case Result of
        {error, {Code, Msg}} ->
            More = N + 1 < maps:get(max_attempts, maps:get(opts, R))
                andalso (maps:get(timeout, R) =:= infinity
                         orelse maps:get(deadline, R) > now_ms()),
            case retryable(Code, Safe) andalso More of
                true -> again(R1#{last := {Code, Msg}});
                false -> Result
            end;
        _ -> Result
    end.

again(R = #{pool := Pool}) ->
    case catch gen_server:call(Pool, members, 5000) of
        Conns when is_list(Conns) -> attempt(R, Conns);
        _ -> {error, {closed, <<"the client is closed">>}}
    end.

%% Whether a request that failed with Code may go to another gateway.
retryable(Code, _) when Code =:= connection; Code =:= tls; Code =:= unavailable;
                        Code =:= closing -> true; % never executed
retryable(outcome_unknown, Safe) -> Safe;
retryable(_, _) -> false.

%% A connection not tried yet, else one tried (what was never executed may go back to it).
pick([], _) -> none;
pick(Conns, Tried) ->
    case [C || C <- Conns, not lists:member(C, Tried)] of
        [C | _] -> C;
        [] -> hd(Conns)
    end.

%% ---------------------------------------------------------------- helpers

show(Gateways) ->
    lists:join(", ", [case H of
                          _ when is_tuple(H) -> inet:ntoa(H) ++ ":" ++ integer_to_list(P);
                          _ -> H ++ ":" ++ integer_to_list(P)
                      end || {H, P} <- Gateways]).

now_ms() -> erlang:monotonic_time(millisecond).

fmt(F, A) -> unicode:characters_to_binary(io_lib:format(F, A)).
