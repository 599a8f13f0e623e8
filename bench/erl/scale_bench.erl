%% The backend service of the harness's scale scenario (bench/run.sh --only scale): counts
%% every run of each call's key, and which gateway node it came through, so that the harness
%% can check that no non-idempotent call ran twice when a gateway died under load.
-module(scale_bench).
-export([start/0, once/2, idem/2, reset/0, summary/0]).

%% The counting table lives in a process of its own that outlives every call.
start() ->
    Self = self(),
    spawn(fun() ->
                  ets:new(scale_bench_runs, [named_table, public, set,
                                             {write_concurrency, true}]),
                  ets:new(scale_bench_gws, [named_table, public, duplicate_bag,
                                            {write_concurrency, true}]),
                  Self ! ready,
                  receive stop -> ok end
          end),
    receive ready -> ok after 5000 -> error(no_table) end.

%% A call the policy does not mark idempotent: it must never run twice.
once(Key, Payload) -> run({once, Key}, Payload).

%% A call under a rule marked idempotent: the client may run it again on another gateway.
idem(Key, Payload) -> run({idem, Key}, Payload).

%% The gateway a call came through is its group leader's node (a remote spawn takes the
%% caller's group leader).
run(Key, Payload) ->
    ets:update_counter(scale_bench_runs, Key, 1, {Key, 0}),
    ets:insert(scale_bench_gws, {Key, node(group_leader())}),
    Payload.

reset() ->
    ets:delete_all_objects(scale_bench_runs),
    ets:delete_all_objects(scale_bench_gws),
    ok.

%% Every key run here: [{Kind, Key, Runs, [GatewayNode]}].
summary() ->
    [{Kind, K, N, [G || {_, G} <- ets:lookup(scale_bench_gws, {Kind, K})]}
     || {{Kind, K}, N} <- ets:tab2list(scale_bench_runs)].
