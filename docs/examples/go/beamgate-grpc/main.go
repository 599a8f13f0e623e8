// Command beamgate-grpc calls a beamgate gateway over gRPC (docs/grpc-guide.md): the service
// beamgate.v1.Gateway on the gateway's port (ALPN h2), with a client certificate.
//
// Generate the Go package from the .proto first (Debian: protobuf-compiler, protoc-gen-go,
// protoc-gen-go-grpc, golang-google-grpc-dev, golang-google-protobuf-dev), then build in
// GOPATH mode with Debian's Go sources (no network):
//
//	export GOPATH=$PWD/gopath:/usr/share/gocode GO111MODULE=off
//	mkdir -p gopath/src
//	protoc -I client/src/main/proto --go_out=gopath/src --go-grpc_out=gopath/src \
//	    beamgate/v1/gateway.proto
//	go build -o beamgate-grpc ./docs/examples/go/beamgate-grpc
//
// then:
//
//	./beamgate-grpc -gateway HOST:PORT[,HOST:PORT...] -cert C -key K -ca CA [-deadline 30s] \
//	    [-idempotent] MODULE FUNCTION [ARG...]
//	./beamgate-grpc -gateway HOST:PORT -cert C -key K -ca CA -ping
//
// Each ARG is an integer, :atom, or text (sent as a binary). The result is printed as
// "ok <term>"; a refusal or failure as "error <CODE> <message>" (CODE: the gateway's error
// code from the beamgate-error-bin trailer, as the native protocol has it), exit status 1.
// Several gateways: see GatewayClient (failover.go) for what goes to another one.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	pb "beamgate.io/gen/go/beamgate/v1"
	"google.golang.org/grpc/credentials"
)

func toTerm(s string) *pb.Term {
	if strings.HasPrefix(s, ":") {
		return &pb.Term{Kind: &pb.Term_Atom{Atom: s[1:]}}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return &pb.Term{Kind: &pb.Term_Int{Int: n}}
	}
	return &pb.Term{Kind: &pb.Term_Binary{Binary: []byte(s)}}
}

// show prints a term roughly as the Python example does.
func show(t *pb.Term) string {
	switch k := t.Kind.(type) {
	case *pb.Term_Atom:
		return k.Atom
	case *pb.Term_Int:
		return strconv.FormatInt(k.Int, 10)
	case *pb.Term_Float:
		return strconv.FormatFloat(k.Float, 'g', -1, 64)
	case *pb.Term_Binary:
		return "<<'" + string(k.Binary) + "'>>"
	case *pb.Term_Charlist:
		return "'" + k.Charlist + "'"
	case *pb.Term_List:
		parts := make([]string, 0, len(k.List.Elements))
		for _, e := range k.List.Elements {
			parts = append(parts, show(e))
		}
		tail := ""
		if k.List.Tail != nil {
			tail = " | " + show(k.List.Tail)
		}
		return "[" + strings.Join(parts, ", ") + tail + "]"
	case *pb.Term_Tuple:
		parts := make([]string, 0, len(k.Tuple.Elements))
		for _, e := range k.Tuple.Elements {
			parts = append(parts, show(e))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case *pb.Term_Map:
		parts := make([]string, 0, len(k.Map.Entries))
		for _, e := range k.Map.Entries {
			parts = append(parts, show(e.Key)+" => "+show(e.Value))
		}
		return "#{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprint(t)
}

// fail prints a request's error: the gateway's code, or gRPC's (the client's own deadline).
func fail(err error) int {
	var g *GatewayError
	if errors.As(err, &g) {
		fmt.Printf("error %s %s\n", g.Code, g.Message)
	} else {
		fmt.Printf("error %v\n", err)
	}
	return 1
}

// upperSnake spells a gRPC code as the other clients do: DeadlineExceeded, DEADLINE_EXCEEDED.
func upperSnake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && r >= 'A' && r <= 'Z' {
			b.WriteByte('_')
		}
		b.WriteRune(r)
	}
	return strings.ToUpper(b.String())
}

func run() int {
	gateway := flag.String("gateway", "", "HOST:PORT of the gateway, or several, comma-separated")
	certFile := flag.String("cert", "", "client certificate (PEM)")
	keyFile := flag.String("key", "", "client key (PEM)")
	caFile := flag.String("ca", "", "CA that issued the gateway's certificate (PEM)")
	deadline := flag.Duration("deadline", 30*time.Second, "the call's deadline")
	ping := flag.Bool("ping", false, "ask who the gateway thinks you are")
	idempotent := flag.Bool("idempotent", false, "the call may run twice (rule: idempotent: true)")
	everyAddress := flag.Bool("every-address", false, "round robin over every address of each host name")
	maxAttempts := flag.Int("max-attempts", 3, "gateways one request may be tried on")
	kaInterval := flag.Duration("keepalive-interval", 10*time.Second, "ping a silent connection after")
	kaTimeout := flag.Duration("keepalive-timeout", 20*time.Second, "give a silent connection up after")
	flag.Parse()

	cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "client certificate:", err)
		return 2
	}
	caPem, err := os.ReadFile(*caFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "CA file:", err)
		return 2
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPem) {
		fmt.Fprintln(os.Stderr, "CA file: no certificate in", *caFile)
		return 2
	}
	// gRPC's credentials offer ALPN h2, which selects the gateway's gRPC door.
	creds := credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{cert},
		RootCAs: roots, MinVersion: tls.VersionTLS13})
	client, err := Dial(strings.Split(*gateway, ","), creds, Options{EveryAddress: *everyAddress,
		MaxAttempts: *maxAttempts, KeepaliveInterval: *kaInterval, KeepaliveTimeout: *kaTimeout})
	if err != nil {
		fmt.Fprintln(os.Stderr, "dial:", err)
		return 2
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), *deadline)
	defer cancel()
	if *ping {
		pong, err := client.Ping(ctx)
		if err != nil {
			return fail(err)
		}
		fmt.Println("pong " + pong.Principal)
		return 0
	}
	if flag.NArg() < 2 {
		fmt.Fprintln(os.Stderr, "usage: beamgate-grpc [flags] MODULE FUNCTION [ARG...]")
		return 2
	}
	call := &pb.Call{Module: flag.Arg(0), Function: flag.Arg(1), Idempotent: *idempotent}
	for _, a := range flag.Args()[2:] {
		call.Args = append(call.Args, toTerm(a))
	}
	result, err := client.Call(ctx, call)
	if err != nil {
		return fail(err)
	}
	fmt.Println("ok " + show(result))
	return 0
}

func main() {
	os.Exit(run())
}
