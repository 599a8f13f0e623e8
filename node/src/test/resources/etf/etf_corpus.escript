#!/usr/bin/env escript
%% Test helper for EtfCorpusTest (beamgate).
%%   etf_corpus.escript gen Seed Count OutFile [Minor]   random terms, as term_to_binary gives them
%%   etf_corpus.escript reencode InFile OutFile [Minor]  term_to_binary(binary_to_term(B)) for each
%% Files hold 4-byte big-endian lengths, each followed by that many bytes. Terms are encoded
%% with minor_version 2 (UTF-8 atoms: the form of the distribution wire and of OTP 26+'s
%% term_to_binary/1) unless Minor is "default": plain term_to_binary/1 of the running OTP.
-mode(compile).

main(["gen", Seed, Count, Out]) ->
    main(["gen", Seed, Count, Out, "2"]);
main(["gen", Seed, Count, Out, Minor]) ->
    rand:seed(exsss, {list_to_integer(Seed), 7, 11}),
    Terms = edges() ++ [gen(4) || _ <- lists:seq(1, list_to_integer(Count))],
    write(Out, [enc(T, Minor) || T <- Terms]);
main(["default_minor", Out]) ->
    %% term_to_binary/1's minor version on this OTP: 1 up to OTP 25, 2 from OTP 26.
    Minor = case term_to_binary(a) of <<131, 100, _/binary>> -> 1; _ -> 2 end,
    write(Out, [<<Minor>>]);
main(["reencode", In, Out]) ->
    main(["reencode", In, Out, "2"]);
main(["reencode", In, Out, Minor]) ->
    write(Out, [enc(binary_to_term(B), Minor) || B <- read(In)]);
main(["parse", In, Out]) ->
    %% Each input record is Erlang term text; erl parses it and writes its encoding.
    write(Out, [enc(parse(unicode:characters_to_list(B))) || B <- read(In)]);
main(["print", Seed, Count, Out]) ->
    %% Random terms erl can print readably (no pids, refs, ports or local funs): pairs of
    %% records, the ~tp text then the encoding.
    rand:seed(exsss, {list_to_integer(Seed), 3, 5}),
    Terms = [printable(gen(3)) || _ <- lists:seq(1, list_to_integer(Count))],
    write(Out, lists:append([[unicode:characters_to_binary(io_lib:format("~tp", [T])), enc(T)]
                             || T <- Terms])).

parse(Text) ->
    {ok, Ts, _} = erl_scan:string(Text ++ "."),
    {ok, T} = erl_parse:parse_term(Ts),
    T.

%% Replaces what erl cannot read back with atoms.
printable(T) when is_pid(T); is_reference(T); is_port(T) -> unreadable;
printable(T) when is_function(T) ->
    case erlang:fun_info(T, type) of {type, external} -> T; _ -> local_fun end;
printable(T) when is_list(T) -> printable_list(T);
printable(T) when is_tuple(T) -> list_to_tuple([printable(E) || E <- tuple_to_list(T)]);
printable(T) when is_map(T) -> maps:from_list([{printable(K), printable(V)} || {K, V} <- maps:to_list(T)]);
printable(T) -> T.

printable_list([]) -> [];
printable_list([H | T]) -> [printable(H) | printable_list(T)];
printable_list(T) -> printable(T).

enc(T) -> enc(T, "2").

enc(T, "default") -> term_to_binary(T);
enc(T, Minor) -> term_to_binary(T, [{minor_version, list_to_integer(Minor)}]).

write(File, Bins) ->
    ok = file:write_file(File, [[<<(byte_size(B)):32>>, B] || B <- Bins]).

read(File) ->
    {ok, Data} = file:read_file(File),
    split(Data, []).

split(<<>>, Acc) -> lists:reverse(Acc);
split(<<N:32, B:N/binary, Rest/binary>>, Acc) -> split(Rest, [B | Acc]).

n(K) -> rand:uniform(K) - 1.

gen(0) -> leaf();
gen(D) ->
    case rand:uniform(14) of
        1 -> list_to_tuple([gen(D - 1) || _ <- lists:seq(1, n(5))]);
        2 -> [gen(D - 1) || _ <- lists:seq(1, 1 + n(5))];
        3 -> maps:from_list([{gen(D - 1), gen(D - 1)} || _ <- lists:seq(1, n(5))]);
        4 -> [gen(D - 1) | leaf()];
        5 -> maps:from_list([{I, gen(0)} || I <- lists:seq(1, 33 + n(10))]);
        6 -> X = gen(D - 1), fun() -> X end;
        7 -> X = gen(D - 1), Y = leaf(), fun(A, B) -> {X, Y, A, B} end;
        _ -> leaf()
    end.

leaf() ->
    case rand:uniform(32) of
        1 -> n(256);
        2 -> n(1 bsl 32) - (1 bsl 31);
        3 -> (1 + n(1 bsl 60)) * (1 bsl n(300)) * sign();
        4 -> rand:uniform() * math:pow(10, n(600) - 300) * sign();
        5 -> list_to_atom([$a + n(26) || _ <- lists:seq(1, 1 + n(20))]);
        6 -> list_to_atom([16#e9, $x, 16#65e5 + n(100), 16#1F600]);
        7 -> list_to_binary([n(256) || _ <- lists:seq(1, n(40))]);
        8 -> <<(n(256)):(1 + n(7))>>;
        9 -> <<(n(1 bsl 20)):(9 + n(30))>>;
        10 -> self();
        11 -> make_ref();
        12 -> hd(erlang:ports());
        13 -> fun() -> ok end;
        14 -> fun lists:map/2;
        15 -> "a string";
        16 -> [];
        17 -> <<>>;
        18 -> -(1 + n(100000));
        19 -> -0.0;
        20 -> list_to_tuple(lists:seq(1, 256 + n(10)));
        21 -> [n(300) || _ <- lists:seq(1, n(30))];
        22 -> lists:duplicate(n(20), $a);
        23 -> 'hello world';
        24 -> {};
        25 -> list_to_port("#Port<0." ++ integer_to_list(n(1 bsl 28)) ++ ">");
        26 -> remote(88, <<(n(1 bsl 32)):32, (n(1 bsl 32)):32, (n(1 bsl 32)):32>>);
        27 -> remote(120, <<(n(1 bsl 64)):64, (n(1 bsl 32)):32>>);
        28 -> remote(89, <<(n(1 bsl 28)):32, (n(1 bsl 32)):32>>);
        29 -> K = 1 + n(5),
              Ids = << <<(n(1 bsl 32)):32>> || _ <- lists:seq(1, K) >>,
              binary_to_term(<<131, 90, K:16, (node_atom())/binary, (n(1 bsl 32)):32,
                               Ids/binary>>);
        30 -> alias();
        31 -> [leaf() | n(1000)];
        32 -> <<(n(1 bsl 62)):(1 + n(61)), (rand:bytes(n(10)))/binary>>
    end.

%% A pid, port or reference of another node, made from its encoding.
remote(Tag, Rest) -> binary_to_term(<<131, Tag, (node_atom())/binary, Rest/binary>>).

node_atom() ->
    Name = lists:nth(1 + n(3), [<<"a@b">>, <<"gw@host.example">>, <<"n\xc3\xa9@h">>]),
    <<119, (byte_size(Name)), Name/binary>>.

%% Size boundaries of the encoding, once each.
edges() ->
    [lists:duplicate(65535, $a), lists:duplicate(65536, $a), lists:seq(0, 255),
     255, 256, -1, 2147483647, 2147483648, -2147483648, -2147483649,
     1 bsl 2040 - 1, 1 bsl 2040, -(1 bsl 2040),
     list_to_tuple(lists:seq(1, 255)), list_to_tuple(lists:seq(1, 256)),
     list_to_atom(lists:duplicate(255, $z)), list_to_atom(lists:duplicate(255, 16#65e5)),
     maps:from_list([{I, I} || I <- lists:seq(1, 32)]),
     maps:from_list([{I, I} || I <- lists:seq(1, 33)]),
     <<1:1>>, <<255:7>>, 0.0, -0.0, 5.0e-324, 1.7976931348623157e308].

sign() -> case rand:uniform(2) of 1 -> 1; 2 -> -1 end.
