%% A backend service for the scale-out tests: counts how many times each key's work ran.
-module(scaletest).
-export([start/0, work/2, runs/1, all_runs/0]).

start() ->
    Self = self(),
    spawn(fun() ->
                  ets:new(scaletest_runs, [named_table, public, set]),
                  Self ! ready,
                  receive stop -> ok end
          end),
    receive ready -> ok after 5000 -> error(no_table) end.

%% Counts a run of Key, then takes Ms milliseconds: a call that is in flight for a while.
work(Key, Ms) ->
    ets:update_counter(scaletest_runs, Key, 1, {Key, 0}),
    timer:sleep(Ms),
    Key.

runs(Key) ->
    case ets:lookup(scaletest_runs, Key) of
        [{_, N}] -> N;
        [] -> 0
    end.

all_runs() -> lists:sort(ets:tab2list(scaletest_runs)).
