%% A beamgate client for Erlang and Elixir applications that are not part of the cluster.
%%
%% It speaks the gateway's native protocol (client/src/main/proto/beamgate/v1/gateway.proto,
%% docs/client-guide.md section 3) over OTP's ssl with a client certificate: TLS 1.3, ALPN
%% "beamgate/1", frames of one varint length and one protobuf message. Terms go to and come
%% from the gateway as the .proto's `Term` messages; this module converts them from and to
%% native terms, so callers see native terms only. The protobuf encoding of the few messages
%% used is written here by hand (no gpb needed). See docs/beam-client.md.
%%
%% One connection is one process owning one TLS socket, with many requests in flight: each
%% gets an id, a timer and exactly one reply. The connection process ends with its owner (the
%% process that called connect). When the connection is lost, every request in flight is
%% answered at once (calls, casts and sends with outcome_unknown, as the Java client does) and
%% later requests fail with `connection`; connect again for a new one. connect/2 takes several
%% gateways instead and fails over between them (beamgate_failover.erl: reconnects, spreads
%% requests, retries only what cannot run twice).
-module(beamgate_client).
-behaviour(gen_server).

-export([connect/2, connect/3, close/1, connected/1, call/4, call/5, call_idempotent/4,
         call_idempotent/5, cast/4, cast/5, send/3, send/4, ping/1, ping/2]).
-export([encode_term/1, decode_term/1]).
-export([init/1, handle_call/3, handle_cast/2, handle_info/2, terminate/2]).

-define(ALPN, <<"beamgate/1">>).
-define(DEFAULT_TIMEOUT, 30000).
-define(DEFAULT_CONNECT_TIMEOUT, 5000).
-define(DEFAULT_MAX_FRAME, 1048576).
-define(DEFAULT_KEEPALIVE_INTERVAL, 10000).
-define(DEFAULT_KEEPALIVE_TIMEOUT, 20000).
-define(MAX_U32, 16#FFFFFFFF).
-define(OPAQUE_TAG, '$beamgate_opaque').

-type code() :: permission_denied | invalid_argument | bad_rpc | timeout | unavailable
              | outcome_unknown | resource_exhausted | frame_too_large | protocol_error
              | cancelled | closing | internal | unknown | connection | tls | closed.
-type error() :: {error, {code(), binary()}}.
-export_type([code/0, error/0]).

-record(req, {kind :: call | cast | send | ping | keepalive, from, timer, deadline}).
-record(st, {sock, owner, owner_mon, host, buf = <<>>, next_id = 1, pending = #{},
             opts, down = undefined, last_read, ka_timer, ka_ping = 0,
             closing_error = undefined, frame_read = false}).

%% ---------------------------------------------------------------- API

%% Connects and returns once the gateway has answered a ping: with TLS 1.3 a refused client
%% certificate shows only after the handshake. Opts (a proplist or map): certfile, keyfile,
%% cacertfile (required); timeout (default call timeout, 30000 ms), connect_timeout (the TCP
%% connect and the TLS handshake together, 5000), max_frame_bytes (1048576, both ways),
%% keepalive_interval (10000) and keepalive_timeout (20000) for connections with requests in
%% flight, atoms (all | existing: how atoms in results are made, see the docs).
-spec connect(string() | binary() | inet:ip_address(), inet:port_number(), list() | map()) ->
        {ok, pid()} | error().
connect(Host, Port, Opts0) ->
    Opts = maps:merge(defaults(), to_map(Opts0)),
    %% ssl:connect hangs (OTP 25) when the ssl application is not running.
    case {check_opts(Opts), application:ensure_all_started(ssl)} of
        {ok, {error, Why}} ->
            {error, {tls, fmt("cannot start OTP's ssl application: ~0p", [Why])}};
        {ok, {ok, _}} ->
            Owner = self(),
            case gen_server:start(?MODULE, {Owner, host(Host), Port, Opts}, []) of
                {ok, Pid} ->
                    case ping(Pid, maps:get(connect_timeout, Opts)) of
                        {ok, _} -> {ok, Pid};
                        {error, _} = E -> close(Pid), E
                    end;
                {error, {shutdown, {Code, Msg}}} -> {error, {Code, Msg}};
                {error, Other} -> {error, {connection, fmt("cannot start: ~0p", [Other])}}
            end;
        {{error, _} = E, _} -> E
    end.

%% Several gateways (each {Host, Port} or "host:port"), a connection to each that is kept up,
%% requests spread over them and retried on another only when that cannot run them twice (see
%% beamgate_failover.erl and docs/beam-client.md). Returns once one gateway answered a ping.
%% Options: those of connect/3, and every_address (false: true connects to every address a
%% host name resolves to, resolved again at each reconnect), max_attempts (3, 1..16),
%% reconnect_min (100 ms) and reconnect_max (5000 ms).
-spec connect([{string() | binary() | inet:ip_address(), inet:port_number()} | string()
               | binary()], list() | map()) -> {ok, pid()} | error().
connect(Gateways, Opts0) ->
    Opts = maps:merge(defaults(), to_map(Opts0)),
    case {check_opts(Opts), application:ensure_all_started(ssl)} of
        {ok, {error, Why}} ->
            {error, {tls, fmt("cannot start OTP's ssl application: ~0p", [Why])}};
        {ok, {ok, _}} -> beamgate_failover:connect(Gateways, Opts);
        {{error, _} = E, _} -> E
    end.

%% How many gateway connections are up now: 0 or 1 for connect/3, up to one per gateway (or
%% address) for connect/2.
-spec connected(pid()) -> non_neg_integer().
connected(Conn) ->
    try length(gen_server:call(Conn, members, 5000)) catch exit:_ -> 0 end.

-spec close(pid()) -> ok.
close(Conn) ->
    try gen_server:stop(Conn) catch exit:_ -> ok end.

%% Module:Function(Args...) on the cluster; {ok, Result} or {error, {Code, Message}}.
call(Conn, M, F, Args) -> call(Conn, M, F, Args, default).
call(Conn, M, F, Args, Timeout) ->
    with_args(Args, fun() -> request(Conn, {call, name(M), name(F), Args, false}, Timeout) end).

%% A call that may run twice: with several gateways (connect/2), when its outcome is unknown
%% it runs again on another. The gateway admits it only under a rule marked
%% `idempotent: true` (permission_denied otherwise, before it runs).
call_idempotent(Conn, M, F, Args) -> call_idempotent(Conn, M, F, Args, default).
call_idempotent(Conn, M, F, Args, Timeout) ->
    with_args(Args, fun() -> request(Conn, {call, name(M), name(F), Args, true}, Timeout) end).

%% Module:Function(Args...) without waiting for it to run; ok once the gateway passed it on.
cast(Conn, M, F, Args) -> cast(Conn, M, F, Args, default).
cast(Conn, M, F, Args, Timeout) ->
    with_args(Args, fun() -> request(Conn, {cast, name(M), name(F), Args}, Timeout) end).

%% Message to the process registered as Name on a backend; ok once passed on.
send(Conn, Name, Msg) -> send(Conn, Name, Msg, default).
send(Conn, Name, Msg, Timeout) -> request(Conn, {send, name(Name), Msg}, Timeout).

%% {ok, #{protocol, server, principal}}: who the gateway thinks you are.
ping(Conn) -> ping(Conn, default).
ping(Conn, Timeout) -> request(Conn, ping, Timeout).

%% ---------------------------------------------------------------- requests

with_args(Args, Fun) when is_list(Args) ->
    try length(Args) of
        _ -> Fun()
    catch error:badarg ->
            {error, {invalid_argument, fmt("args: ~0p (expected: a proper list)", [Args])}}
    end;
with_args(Args, _) -> {error, {invalid_argument, fmt("args: ~0p (expected: a list)", [Args])}}.

request(_Conn, _Req, Timeout) when Timeout =/= default, Timeout =/= infinity,
                                   not (is_integer(Timeout) andalso Timeout > 0) ->
    {error, {invalid_argument, fmt("timeout: ~0p (expected: a positive integer in ms, "
                                   "infinity or default)", [Timeout])}};
request(Conn, Req, Timeout) ->
    case encode_request(Req) of
        {ok, Body} ->
            %% The connection process answers every request by its deadline; the margin
            %% only guards against a connection process that no longer runs.
            try gen_server:call(Conn, {request, Body, Timeout, retry_safe(Req)}, infinity)
            catch exit:{noproc, _} -> {error, {closed, <<"the connection is closed">>}};
                  exit:{normal, _} -> {error, {closed, <<"the connection is closed">>}};
                  exit:{Reason, _} -> {error, {connection, fmt("the connection ended: ~0p",
                                                               [Reason])}}
            end;
        {error, _} = E -> E
    end.

encode_request({call, M, F, Args, Idempotent}) ->
    Idem = case Idempotent of true -> [varint_field(5, 1)]; false -> [] end,
    with_terms(fun() -> {call, [str(1, M), str(2, F) | [msg(3, term(A, arg(I)))
                                || {I, A} <- indexed(Args)]] ++ Idem} end);
encode_request({cast, M, F, Args}) ->
    with_terms(fun() -> {cast, [str(1, M), str(2, F) | [msg(3, term(A, arg(I)))
                                || {I, A} <- indexed(Args)]]} end);
encode_request({send, Name, Msg}) ->
    with_terms(fun() -> {send, [str(1, Name), msg(2, term(Msg, "message"))]} end);
encode_request(ping) -> {ok, {ping, []}}.

%% What may run twice, and so be retried on another gateway when its outcome is unknown.
retry_safe(ping) -> true;
retry_safe({call, _, _, _, Idempotent}) -> Idempotent;
retry_safe(_) -> false.

with_terms(Fun) ->
    try {ok, Fun()}
    catch throw:{refused, Path, Why} ->
            {error, {invalid_argument, fmt("~s: ~s (not sent)", [Path, Why])}}
    end.

indexed(L) -> lists:zip(lists:seq(0, length(L) - 1), L).
arg(I) -> "args[" ++ integer_to_list(I) ++ "]".

%% ---------------------------------------------------------------- gen_server

init({Owner, Host, Port, Opts}) ->
    process_flag(trap_exit, true),
    Mon = erlang:monitor(process, Owner),
    %% A gateway that stops reading must not block this process in ssl:send (its timers
    %% would stop): past send_timeout the socket closes and every request is answered.
    Peer = maps:get(address, Opts, Host), % a member of a pool may be given one address
    SslOpts = [binary, {active, once}, {packet, raw}, {versions, ['tlsv1.3']},
               {send_timeout, maps:get(keepalive_timeout, Opts)}, {send_timeout_close, true},
               {verify, verify_peer}, {alpn_advertised_protocols, [?ALPN]},
               {certfile, path(maps:get(certfile, Opts))},
               {keyfile, path(maps:get(keyfile, Opts))},
               {cacertfile, path(maps:get(cacertfile, Opts))}
               | sni(Host)],
    case ssl:connect(Peer, Port, SslOpts, maps:get(connect_timeout, Opts)) of
        {ok, Sock} ->
            case ssl:negotiated_protocol(Sock) of
                {ok, ?ALPN} ->
                    {ok, #st{sock = Sock, owner = Owner, owner_mon = Mon, host = Host,
                             opts = Opts, last_read = now_ms()}};
                Other ->
                    ssl:close(Sock),
                    {stop, {shutdown, {connection, fmt("the gateway did not select ALPN "
                        "beamgate/1 (got ~0p): is this a beamgate gateway?", [Other])}}}
            end;
        {error, Reason} ->
            {stop, {shutdown, connect_error(Host, Port, Reason)}}
    end.

handle_call({request, _Body, _T, _Safe}, _From, #st{down = Why} = St)
  when Why =/= undefined ->
    {reply, {error, {connection, <<"the connection is down: ", Why/binary>>}}, St};
handle_call({request, {Tag, Fields}, T, _Safe}, From, St0 = #st{next_id = Id}) ->
    %% Silence counts for the keepalive from when requests are in flight.
    St = case map_size(St0#st.pending) of 0 -> St0#st{last_read = now_ms()}; _ -> St0 end,
    Timeout = case T of default -> maps:get(timeout, St#st.opts); _ -> T end,
    Fields1 = case Tag of
                  call when is_integer(Timeout) ->
                      Fields ++ [varint_field(4, max(1, min(Timeout, ?MAX_U32)))];
                  _ -> Fields
              end,
    Frame = [varint_field(1, Id), msg(tag_field(Tag), Fields1)],
    Size = iolist_size(Frame),
    Max = maps:get(max_frame_bytes, St#st.opts),
    if Size > Max ->
            {reply, {error, {frame_too_large, fmt("the request is ~b bytes (expected: <= ~b, "
                "max_frame_bytes); it was not sent", [Size, Max])}}, St};
       true ->
            case ssl:send(St#st.sock, [varint(Size), Frame]) of
                ok ->
                    Timer = case Timeout of
                                infinity -> undefined;
                                _ -> erlang:send_after(Timeout, self(), {timeout, Id})
                            end,
                    R = #req{kind = Tag, from = From, timer = Timer},
                    St1 = St#st{next_id = Id + 1, pending = maps:put(Id, R, St#st.pending)},
                    {noreply, keepalive_arm(St1)};
                {error, Reason} ->
                    {reply, {error, {connection, fmt("the request was not sent: ~0p",
                                                     [Reason])}}, St}
            end
    end;
handle_call(members, _From, St = #st{down = D}) ->
    {reply, case D of undefined -> [self()]; _ -> [] end, St};
handle_call(_Other, _From, St) ->
    {reply, {error, {protocol_error, <<"unknown request">>}}, St}.

handle_cast(stop, St) -> {stop, normal, St};
handle_cast(_Msg, St) -> {noreply, St}.

handle_info({ssl, Sock, Data}, St = #st{sock = Sock}) ->
    ssl:setopts(Sock, [{active, once}]),
    frames(St#st{buf = <<(St#st.buf)/binary, Data/binary>>, last_read = now_ms()});
handle_info({ssl_closed, Sock}, St = #st{sock = Sock}) ->
    {noreply, lost(<<"closed by the gateway">>, St)};
handle_info({ssl_error, Sock, {tls_alert, {_, Desc}}}, St = #st{sock = Sock,
                                                               frame_read = false}) ->
    %% TLS 1.3: the gateway checks our certificate after our side of the handshake is done,
    %% so its refusal arrives as an alert on the first read; it never read our requests.
    {noreply, lost(fmt("the gateway refused the TLS session: ~s", [Desc]), tls, St)};
handle_info({ssl_error, Sock, Reason}, St = #st{sock = Sock}) ->
    {noreply, lost(fmt("TLS error: ~0p", [Reason]), St)};
handle_info({timeout, Id}, St) ->
    case maps:take(Id, St#st.pending) of
        {R, Pending} ->
            gen_server:reply(R#req.from, {error, {timeout, <<"no answer in time; the "
                "request may still have run (a cancel was sent)">>}}),
            %% Tell the gateway to stop waiting; its answer to the cancel is ignored.
            CancelId = St#st.next_id,
            _ = send_frame([varint_field(1, CancelId), msg(6, [varint_field(1, Id)])], St),
            {noreply, St#st{pending = Pending, next_id = CancelId + 1}};
        error -> {noreply, St}
    end;
handle_info(keepalive, St) ->
    {noreply, keepalive_check(St#st{ka_timer = undefined})};
handle_info({'DOWN', Mon, process, _, _}, St = #st{owner_mon = Mon}) ->
    {stop, normal, St};
handle_info(_Other, St) -> {noreply, St}.

terminate(_Reason, St) ->
    _ = lost(<<"the client closed the connection">>, closed, St),
    ok.

%% ---------------------------------------------------------------- answers

frames(St = #st{buf = Buf}) ->
    Max = maps:get(max_frame_bytes, St#st.opts),
    case read_varint(Buf, 5) of
        more -> {noreply, St};
        bad -> {noreply, lost(<<"a frame length that is not a varint">>, protocol_error, St)};
        {Len, _} when Len > Max ->
            {noreply, lost(fmt("an answer of ~b bytes (expected: <= ~b, max_frame_bytes)",
                               [Len, Max]), frame_too_large, St)};
        {Len, Rest} when byte_size(Rest) >= Len ->
            <<Body:Len/binary, Tail/binary>> = Rest,
            St1 = answer(Body, St#st{buf = Tail}),
            case St1#st.down of
                undefined -> frames(St1);
                _ -> {noreply, St1}
            end;
        {_, _} -> {noreply, St}
    end.

answer(Body, St0) ->
    St = St0#st{frame_read = true},
    try fields(Body) of
        Fs ->
            Id = field_int(1, Fs, 0),
            Resp = last_of([2, 3, 4, 5], Fs),
            dispatch(Id, Resp, St)
    catch throw:bad_proto ->
            lost(<<"an answer that does not parse">>, protocol_error, St)
    end.

dispatch(0, {5, Bin}, St) when is_binary(Bin) ->
    %% About the connection itself; the gateway closes it after this.
    try error_of(Bin) of
        {Code, Msg} -> St#st{closing_error = {Code, Msg}}
    catch _:_ -> St
    end;
dispatch(Id, Resp, St = #st{ka_ping = Id}) when Id =/= 0, Resp =/= none ->
    St#st{ka_ping = 0};
dispatch(Id, Resp, St) ->
    case maps:take(Id, St#st.pending) of
        error -> St; % answered already (timed out and cancelled): dropped
        {R, Pending} ->
            cancel_timer(R#req.timer),
            gen_server:reply(R#req.from, safe_reply(R#req.kind, Resp, St#st.opts)),
            keepalive_arm(St#st{pending = Pending})
    end.

%% A malformed answer is a protocol error for its request only.
safe_reply(Kind, Resp, Opts) ->
    try reply(Kind, Resp, Opts)
    catch throw:{bad_term, Why} ->
            {error, {protocol_error, fmt("the gateway's answer is not a term: ~s", [Why])}};
          _:_ ->
            {error, {protocol_error, <<"the gateway's answer does not parse">>}}
    end.

reply(_, {5, Bin}, _) when is_binary(Bin) -> {error, error_of(Bin)};
reply(call, {2, Bin}, Opts) when is_binary(Bin) -> {ok, decode(Bin, maps:get(atoms, Opts))};
reply(K, {3, _}, _) when K =:= cast; K =:= send -> ok;
reply(ping, {4, Bin}, _) ->
    Fs = fields(Bin),
    {ok, #{protocol => field_int(1, Fs, 0), server => field_bin(2, Fs),
           principal => field_bin(3, Fs)}};
reply(K, Other, _) ->
    {error, {protocol_error, fmt("an answer of kind ~0p to a ~s", [element(1, opt(Other)), K])}}.

opt(none) -> {none};
opt(T) -> T.

error_of(Bin) ->
    Fs = fields(Bin),
    Code = code(field_int(1, Fs, 0)),
    Msg0 = case field_bin(2, Fs) of <<>> -> <<"(the gateway gave no message)">>; M -> M end,
    Details = [D || D <- [detail(<<"rule ">>, field_bin(3, Fs), Msg0),
                          detail(<<"reason ">>, field_bin(4, Fs), Msg0),
                          detail(<<"at ">>, field_bin(5, Fs), Msg0),
                          detail(<<>>, field_bin(6, Fs), Msg0)], D =/= <<>>],
    Msg = case Details of
              [] -> Msg0;
              _ -> iolist_to_binary([Msg0, " (", lists:join("; ", Details), ")"])
          end,
    {Code, one_line(Msg)}.

detail(_, <<>>, _) -> <<>>;
detail(Label, V, Msg) ->
    case binary:match(Msg, V) of nomatch -> <<Label/binary, V/binary>>; _ -> <<>> end.

%% Control characters become spaces: gateway text is shown to humans.
one_line(Bin) ->
    << <<(if C < 32; C =:= 127 -> $\s; true -> C end)>> || <<C>> <= Bin >>.

code(1) -> permission_denied;
code(2) -> invalid_argument;
code(3) -> bad_rpc;
code(4) -> timeout;
code(5) -> unavailable;
code(6) -> outcome_unknown;
code(7) -> resource_exhausted;
code(8) -> frame_too_large;
code(9) -> protocol_error;
code(10) -> cancelled;
code(11) -> closing;
code(12) -> internal;
code(_) -> unknown.

%% The connection is gone: every request in flight is answered now. Calls, casts and sends
%% may have run (outcome_unknown) unless the gateway said why it closed; pings get connection.
lost(Why, St) -> lost(Why, connection, St).
lost(_Why, _Code, St = #st{down = D}) when D =/= undefined -> St;
lost(Why, Code0, St) ->
    catch ssl:close(St#st.sock),
    cancel_timer(St#st.ka_timer),
    {Code, Msg} = case St#st.closing_error of
                      {C, M} when Code0 =:= connection ->
                          {C, <<"the gateway closed the connection: ", M/binary>>};
                      _ -> {Code0, Why}
                  end,
    maps:foreach(
      fun(_Id, R) ->
              cancel_timer(R#req.timer),
              Kind = R#req.kind,
              Reply = if Code =:= connection, Kind =/= ping ->
                              {outcome_unknown, <<"the connection to the gateway was lost "
                                  "with the ", (atom_to_binary(Kind))/binary, " in flight: "
                                  "it may or may not have run (", Msg/binary, ")">>};
                         true -> {Code, <<"the ", (atom_to_binary(Kind))/binary,
                                         " was in flight: ", Msg/binary>>}
                      end,
              gen_server:reply(R#req.from, {error, Reply})
      end, St#st.pending),
    %% A pool (beamgate_failover) takes a lost connection out of its rotation at once.
    case maps:get(pool_member, St#st.opts, false) of
        true -> St#st.owner ! {beamgate_client_lost, self(), Code, Msg};
        false -> ok
    end,
    St#st{pending = #{}, down = Msg, ka_timer = undefined}.

%% ---------------------------------------------------------------- keepalive

%% While requests are in flight, a connection silent for keepalive_interval is pinged, and
%% one silent for keepalive_timeout is given up: a partition that drops packets would
%% otherwise leave every call to its own timeout (as in the Java client).
keepalive_arm(St = #st{ka_timer = undefined, pending = P}) when map_size(P) > 0 ->
    St#st{ka_timer = erlang:send_after(check_period(St), self(), keepalive)};
keepalive_arm(St) -> St.

check_period(#st{opts = Opts}) ->
    max(10, min(maps:get(keepalive_interval, Opts), maps:get(keepalive_timeout, Opts)) div 2).

keepalive_check(St = #st{pending = P}) when map_size(P) =:= 0 -> St;
keepalive_check(St = #st{down = D}) when D =/= undefined -> St;
keepalive_check(St = #st{opts = Opts, last_read = Last}) ->
    Silent = now_ms() - Last,
    Timeout = maps:get(keepalive_timeout, Opts),
    Interval = maps:get(keepalive_interval, Opts),
    if Silent >= Timeout ->
            lost(fmt("nothing received for ~b ms, pings included (keepalive_timeout ~b ms): "
                     "the connection is presumed dead", [Silent, Timeout]), St);
       Silent >= Interval, St#st.ka_ping =:= 0 ->
            Id = St#st.next_id,
            _ = send_frame([varint_field(1, Id), msg(5, [])], St),
            keepalive_arm(St#st{next_id = Id + 1, ka_ping = Id});
       true -> keepalive_arm(St)
    end.

%% ---------------------------------------------------------------- options

defaults() ->
    #{timeout => ?DEFAULT_TIMEOUT, connect_timeout => ?DEFAULT_CONNECT_TIMEOUT,
      max_frame_bytes => ?DEFAULT_MAX_FRAME, keepalive_interval => ?DEFAULT_KEEPALIVE_INTERVAL,
      keepalive_timeout => ?DEFAULT_KEEPALIVE_TIMEOUT, atoms => all,
      every_address => false, max_attempts => 3, reconnect_min => 100, reconnect_max => 5000}.

to_map(M) when is_map(M) -> M;
to_map(L) when is_list(L) -> maps:from_list([{K, V} || {K, V} <- proplists:unfold(L)]).

check_opts(O) ->
    Checks = [{certfile, fun is_path/1, "a file name"},
              {keyfile, fun is_path/1, "a file name"},
              {cacertfile, fun is_path/1, "a file name"},
              {timeout, fun(T) -> T =:= infinity orelse pos(T) end, "a positive integer (ms)"},
              {connect_timeout, fun pos/1, "a positive integer (ms)"},
              {max_frame_bytes, fun(N) -> pos(N) andalso N =< 16#7FFFFFFF end,
               "1..2147483647"},
              {keepalive_interval, fun pos/1, "a positive integer (ms)"},
              {keepalive_timeout, fun(T) -> pos(T) andalso T > maps:get(keepalive_interval, O,
                  ?DEFAULT_KEEPALIVE_INTERVAL) end, "more than keepalive_interval (ms)"},
              {atoms, fun(A) -> A =:= all orelse A =:= existing end, "all or existing"},
              {every_address, fun is_boolean/1, "true or false"},
              {max_attempts, fun(N) -> pos(N) andalso N =< 16 end, "1..16"},
              {reconnect_min, fun pos/1, "a positive integer (ms)"},
              {reconnect_max, fun(T) -> pos(T) andalso T >= maps:get(reconnect_min, O, 100)
                              end, "at least reconnect_min (ms)"}],
    Bad = lists:filtermap(fun({K, Check, Want}) ->
                                  V = maps:get(K, O, undefined),
                                  case Check(V) of true -> false; _ -> {true, {K, V, Want}} end
                          end, Checks),
    case Bad of
        [] -> ok;
        [{K, V, Want} | _] ->
            {error, {invalid_argument, fmt("option ~s: ~0p (expected: ~s)", [K, V, Want])}}
    end.

pos(N) -> is_integer(N) andalso N > 0.
is_path(P) -> (is_binary(P) orelse io_lib:char_list(P)) andalso P =/= "" andalso P =/= <<>>.
path(P) when is_binary(P) -> unicode:characters_to_list(P);
path(P) -> P.

host(H) when is_binary(H) -> binary_to_list(H);
host(H) -> H.

sni(H) when is_list(H) ->
    case inet:parse_address(H) of
        {ok, _} -> []; % an IP address: checked against the certificate's IP SANs
        _ -> [{server_name_indication, H},
              {customize_hostname_check,
               [{match_fun, public_key:pkix_verify_hostname_match_fun(https)}]}]
    end;
sni(_) -> [].

connect_error(Host, Port, {tls_alert, {_, Desc}}) ->
    {tls, fmt("TLS with the gateway ~s:~b failed: ~s", [show_host(Host), Port, Desc])};
connect_error(Host, Port, {options, Why}) ->
    {tls, fmt("TLS files or options for ~s:~b refused: ~0p", [show_host(Host), Port, Why])};
connect_error(Host, Port, Reason) ->
    {connection, fmt("cannot connect to the gateway ~s:~b: ~0p",
                     [show_host(Host), Port, Reason])}.

show_host(H) when is_list(H) -> H;
show_host(H) -> inet:ntoa(H).

%% ---------------------------------------------------------------- terms to the wire

%% The protobuf bytes of a Term message for a native term (for tests and other transports).
encode_term(T) -> iolist_to_binary(term(T, "term")).

term(A, _) when is_atom(A) -> str(1, atom_to_binary(A, utf8));
term(I, _) when is_integer(I), I >= -16#8000000000000000, I =< 16#7FFFFFFFFFFFFFFF ->
    varint_field(2, if I >= 0 -> I bsl 1; true -> (-I bsl 1) - 1 end);
term(I, _) when is_integer(I) -> bytes(3, big_int(I, 9));
term(F, _) when is_float(F) -> [<<(4 bsl 3 bor 1)>>, <<F:64/float-little>>];
term(B, _) when is_binary(B) -> bytes(5, B);
term(B, _) when is_bitstring(B) ->
    Bits = bit_size(B) rem 8,
    msg(10, [bytes(1, <<B/bitstring, 0:(8 - Bits)>>), varint_field(2, Bits)]);
term(L, Path) when is_list(L) -> msg(7, list(L, Path, 0, []));
term(T, Path) when is_tuple(T) ->
    msg(8, [msg(1, term(E, Path ++ "{" ++ integer_to_list(I) ++ "}"))
            || {I, E} <- indexed(tuple_to_list(T))]);
term(M, Path) when is_map(M) ->
    msg(9, [msg(1, [msg(1, term(K, Path ++ "#key")),
                    msg(2, term(V, Path ++ "#{" ++ short(K) ++ "}"))])
            || {K, V} <- maps:to_list(M)]);
term(Other, Path) ->
    throw({refused, Path, fmt("~s cannot be sent (pids, references, ports and funs "
                              "never cross the gateway)", [short(Other)])}).

%% Elements, then the tail of an improper list.
list([], _, _, Acc) -> lists:reverse(Acc);
list([H | T], Path, I, Acc) ->
    E = msg(1, term(H, Path ++ "[" ++ integer_to_list(I) ++ "]")),
    case T of
        _ when is_list(T) -> list(T, Path, I + 1, [E | Acc]);
        _ -> lists:reverse([msg(2, term(T, Path ++ "|tail")), E | Acc])
    end.

%% Two's complement, big-endian, shortest form (as Java's BigInteger.toByteArray).
big_int(I, N) ->
    Bits = N * 8,
    if I >= -(1 bsl (Bits - 1)), I < (1 bsl (Bits - 1)) -> <<I:Bits/signed-big>>;
       true -> big_int(I, N + 1)
    end.

short(T) ->
    S = lists:flatten(io_lib:format("~0p", [T])),
    case length(S) > 40 of true -> lists:sublist(S, 40) ++ "..."; false -> S end.

%% ---------------------------------------------------------------- terms from the wire

%% The native term of a Term message's bytes; unknown atoms become atoms (see the docs).
decode_term(Bin) -> decode(Bin, all).

decode(Bin, Atoms) ->
    case last_of(lists:seq(1, 11), fields(Bin)) of
        {1, A} -> atom(A, Atoms);
        {2, {varint, Z}} -> (Z bsr 1) bxor -(Z band 1);
        {3, <<>>} -> throw({bad_term, "big_int with no bytes"});
        {3, B} -> S = bit_size(B), <<I:S/signed-big>> = B, I;
        {4, {fixed64, <<F:64/float-little>>}} -> F;
        {4, _} -> throw({bad_term, "a float that is not finite"});
        {5, B} -> B;
        {6, S} -> chars(S);
        {7, B} -> decode_list(fields(B), Atoms);
        {8, B} -> list_to_tuple([decode(E, Atoms) || {1, E} <- fields(B)]);
        {9, B} -> maps:from_list([entry(E, Atoms) || {1, E} <- fields(B)]);
        {10, B} -> bitstring(fields(B));
        {11, B} -> {?OPAQUE_TAG, chars(field_bin(1, fields(B)))};
        _ -> throw({bad_term, "a term with no value, or of a kind this client does not know"})
    end.

decode_list(Fs, Atoms) ->
    Es = [decode(E, Atoms) || {1, E} <- Fs],
    case last_of([2], Fs) of
        none -> Es;
        {2, _} when Es =:= [] -> throw({bad_term, "an improper list with no elements"});
        {2, T} -> lists:foldr(fun(E, Acc) -> [E | Acc] end, decode(T, Atoms), Es)
    end.

entry(B, Atoms) ->
    Fs = fields(B),
    Get = fun(N) -> case last_of([N], Fs) of {N, V} -> decode(V, Atoms);
                                              none -> throw({bad_term, "a map entry without "
                                                             "key or value"}) end end,
    {Get(1), Get(2)}.

bitstring(Fs) ->
    Data = field_bin(1, Fs),
    Bits = field_int(2, Fs, 0),
    if Data =:= <<>>; Bits < 1; Bits > 7 -> throw({bad_term, "a bitstring of no bytes or "
                                                   "with bits outside 1..7"});
       true ->
            Len = (byte_size(Data) - 1) * 8 + Bits,
            <<B:Len/bitstring, _/bitstring>> = Data,
            B
    end.

atom(Bin, all) ->
    try binary_to_atom(Bin, utf8) catch error:_ -> throw({bad_term, "an atom too long"}) end;
atom(Bin, existing) ->
    try binary_to_existing_atom(Bin, utf8) catch error:_ -> {'$beamgate_atom', Bin} end.

chars(Bin) ->
    case unicode:characters_to_list(Bin, utf8) of
        L when is_list(L) -> L;
        _ -> throw({bad_term, "a string that is not UTF-8"})
    end.

%% ---------------------------------------------------------------- protobuf wire format

varint(N) when N < 128 -> <<N>>;
varint(N) -> <<1:1, (N band 127):7, (varint(N bsr 7))/binary>>.

varint_field(F, N) -> [varint(F bsl 3), varint(N)].
bytes(F, B) -> [varint(F bsl 3 bor 2), varint(iolist_size(B)), B].
str(F, B) -> bytes(F, B).
msg(F, Fields) -> bytes(F, Fields).

tag_field(call) -> 2;
tag_field(cast) -> 3;
tag_field(send) -> 4;
tag_field(ping) -> 5.

%% A varint of at most MaxBytes bytes: {Value, Rest}, more (need bytes) or bad.
read_varint(Bin, MaxBytes) -> read_varint(Bin, MaxBytes, 0, 0).
read_varint(_, 0, _, _) -> bad;
read_varint(<<>>, _, _, _) -> more;
read_varint(<<1:1, B:7, Rest/binary>>, N, Shift, Acc) ->
    read_varint(Rest, N - 1, Shift + 7, Acc bor (B bsl Shift));
read_varint(<<0:1, B:7, Rest/binary>>, _, Shift, Acc) -> {Acc bor (B bsl Shift), Rest}.

%% A message's fields in order: {Number, {varint, N}}, {Number, {fixed64, B}},
%% {Number, {fixed32, B}} or {Number, Bytes} for length-delimited ones.
fields(Bin) -> fields(Bin, []).
fields(<<>>, Acc) -> lists:reverse(Acc);
fields(Bin, Acc) ->
    {Key, R1} = must(read_varint(Bin, 10)),
    F = Key bsr 3,
    case Key band 7 of
        0 -> {V, R2} = must(read_varint(R1, 10)),
             fields(R2, [{F, {varint, V band 16#FFFFFFFFFFFFFFFF}} | Acc]);
        1 when byte_size(R1) >= 8 -> <<V:8/binary, R2/binary>> = R1,
                                     fields(R2, [{F, {fixed64, V}} | Acc]);
        2 -> {Len, R2} = must(read_varint(R1, 5)),
             case R2 of
                 <<V:Len/binary, R3/binary>> -> fields(R3, [{F, V} | Acc]);
                 _ -> throw(bad_proto)
             end;
        5 when byte_size(R1) >= 4 -> <<V:4/binary, R2/binary>> = R1,
                                     fields(R2, [{F, {fixed32, V}} | Acc]);
        _ -> throw(bad_proto)
    end.

must({_, _} = T) -> T;
must(_) -> throw(bad_proto).

%% The last of the fields numbered in Nums (the one protobuf keeps for a oneof), or none.
last_of(Nums, Fs) ->
    case [P || {N, _} = P <- Fs, lists:member(N, Nums)] of
        [] -> none;
        L -> lists:last(L)
    end.

field_int(N, Fs, Default) ->
    case last_of([N], Fs) of {N, {varint, V}} -> V; _ -> Default end.

field_bin(N, Fs) ->
    case last_of([N], Fs) of {N, V} when is_binary(V) -> V; _ -> <<>> end.

%% ---------------------------------------------------------------- helpers

send_frame(Frame, St) -> ssl:send(St#st.sock, [varint(iolist_size(Frame)), Frame]).

cancel_timer(undefined) -> ok;
cancel_timer(T) -> erlang:cancel_timer(T), ok.

name(A) when is_atom(A) -> atom_to_binary(A, utf8);
name(B) when is_binary(B) -> B;
name(L) when is_list(L) -> unicode:characters_to_binary(L).

now_ms() -> erlang:monotonic_time(millisecond).

fmt(F, A) -> unicode:characters_to_binary(io_lib:format(F, A)).
