%% Processes that start code named in the messages they are sent, as real clusters have them:
%% the targets of the policy attack tests (cluster A). A holder process owns them all.
-module(attackkv).
-behaviour(gen_server).
-export([start/1, echo/1, apply_all/1]).
-export([init/1, handle_call/3, handle_cast/2, handle_info/2]).

%% Starts attack_sup (an OTP supervisor with no children), applier (a server that applies
%% every {M, F, A} it finds in a call's request) and, with Elixir, ts (a Task.Supervisor),
%% dsup (a DynamicSupervisor) and agent (an Agent).
start(WithElixir) ->
    Self = self(),
    Holder = spawn(fun() ->
        process_flag(trap_exit, true), % one target crashing leaves the others up
        {ok, _} = supervisor:start_link({local, attack_sup}, ?MODULE, sup),
        {ok, _} = gen_server:start_link({local, applier}, ?MODULE, [], []),
        case WithElixir of
            true ->
                {ok, _} = application:ensure_all_started(elixir),
                %% Elixir switches standard_io to binaries; the test's eval loop reads lists
                ok = io:setopts(standard_io, [list]),
                {ok, _} = 'Elixir.Task.Supervisor':start_link([{name, ts}]),
                {ok, _} = 'Elixir.DynamicSupervisor':start_link([{name, dsup},
                                                                 {strategy, one_for_one}]),
                {ok, _} = 'Elixir.Agent':start_link(fun() -> #{} end, [{name, agent}]);
            false -> ok
        end,
        Self ! started,
        receive stop -> ok end
    end),
    receive started -> {ok, Holder} after 10000 -> timeout end.

echo(X) -> X.

%% What an applying server does with a request: every MFA in it runs.
apply_all({M, F, A}) when is_atom(M), is_atom(F), is_list(A) -> [apply(M, F, A)];
apply_all(L) when is_list(L) -> lists:append([apply_all(X) || X <- L]);
apply_all(M) when is_map(M) -> apply_all(maps:values(M));
apply_all(T) when is_tuple(T) -> apply_all(tuple_to_list(T));
apply_all(_) -> [].

init(sup) -> {ok, {#{strategy => one_for_one}, []}};
init([]) -> {ok, #{}}.

handle_call({apply, Req}, _From, S) -> {reply, apply_all(Req), S};
handle_call(Other, _From, S) -> {reply, {echo, Other}, S}.

handle_cast({apply, Req}, S) -> apply_all(Req), {noreply, S};
handle_cast(_, S) -> {noreply, S}.

handle_info({apply, Req}, S) -> apply_all(Req), {noreply, S};
handle_info(_, S) -> {noreply, S}.
