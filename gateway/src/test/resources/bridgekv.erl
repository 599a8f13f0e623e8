%% A small service for the bridge tests: it runs on the nodes of "cluster A".
-module(bridgekv).
-behaviour(gen_server).
-export([big/1, deep/1, start/0, echo/1, whoami/0, worker/0, watch/1, last_down/0, slow/1, probe/1]).
-export([init/1, handle_call/3, handle_cast/2, handle_info/2]).

start() ->
    {ok, Pid} = gen_server:start({local, kv_server}, ?MODULE, [], []),
    Pid.

echo(X) -> X.

big(N) -> binary:copy(<<1>>, N).

%% An iolist N levels deep, as Erlang code builds them every day.
deep(N) -> lists:foldl(fun(_, A) -> [A] end, [], lists:seq(1, N)).

whoami() -> node().

slow(Ms) -> timer:sleep(Ms), done.

%% The side effect a refused call must never have: it writes File.
probe(File) -> file:write_file(File, <<"ran">>).

%% A process that answers {From, Msg} with {worker, Msg} and exits with Why on {die, Why}.
worker() -> spawn(fun worker_loop/0).

worker_loop() ->
    receive
        {die, Why} -> exit(Why);
        {From, Msg} -> From ! {worker, Msg}, worker_loop()
    end.

%% Monitors Pid from this node; last_down/0 then tells the DOWN reason.
watch(Pid) ->
    persistent_term:put(bridge_last_down, none),
    Self = self(),
    spawn(fun() ->
                  M = monitor(process, Pid),
                  Self ! {watching, self()},
                  receive {'DOWN', M, process, _, R} -> persistent_term:put(bridge_last_down, R)
                  end
          end),
    receive {watching, _} -> watching end.

last_down() -> persistent_term:get(bridge_last_down, none).

init([]) -> {ok, #{}}.

handle_call({get, K}, _From, S) -> {reply, maps:get(K, S, undefined), S};
handle_call({put, K, V}, _From, S) -> {reply, ok, S#{K => V}};
handle_call(stop, _From, S) -> {stop, normal, ok, S}.

handle_cast({put, K, V}, S) -> {noreply, S#{K => V}}.

handle_info({ping, From}, S) -> From ! {pong, node()}, {noreply, S};
handle_info(_, S) -> {noreply, S}.
