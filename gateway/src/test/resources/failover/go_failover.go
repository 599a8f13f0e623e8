// Drives GatewayClient (docs/examples/go/beamgate-grpc/failover.go) over two gateways for
// ClientsFailoverErlTest, built with failover.go in place of main.go. Usage: driver GATEWAYS
// EACH WORK_MS CA ALICE_CERT ALICE_KEY BOB_CERT BOB_KEY default; prints the lines ClientDrivers
// describes.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	pb "beamgate.io/gen/go/beamgate/v1"
	"google.golang.org/grpc/credentials"
)

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

func client(gws []string, ca, cert, key string) *GatewayClient {
	pair, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		panic(err)
	}
	pem, err := os.ReadFile(ca)
	if err != nil {
		panic(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	c, err := Dial(gws, credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{pair},
		RootCAs: roots, MinVersion: tls.VersionTLS13}), Options{})
	if err != nil {
		panic(err)
	}
	return c
}

var mu sync.Mutex

func one(what string, c *GatewayClient, key, ms int64, idempotent bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	r, err := c.Call(ctx, &pb.Call{Module: "scaletest", Function: "work", Idempotent: idempotent,
		Args: []*pb.Term{{Kind: &pb.Term_Int{Int: key}}, {Kind: &pb.Term_Int{Int: ms}}}})
	mu.Lock()
	defer mu.Unlock()
	var g *GatewayError
	switch {
	case err == nil:
		fmt.Printf("%s %d ok %d\n", what, key, r.GetInt())
	case errors.As(err, &g):
		fmt.Printf("%s %d error %s %s\n", what, key, g.Code, g.Message)
	default:
		fmt.Printf("%s %d error %v\n", what, key, err)
	}
}

func main() {
	a := os.Args[1:]
	gws := strings.Split(a[0], ",")
	each, _ := strconv.Atoi(a[1])
	workMs, _ := strconv.Atoi(a[2])
	alice, bob := client(gws, a[3], a[4], a[5]), client(gws, a[3], a[6], a[7])
	for _, c := range []*GatewayClient{alice, bob} {
		for i := 0; i < 200 && c.Connected() < 2; i++ {
			time.Sleep(50 * time.Millisecond)
		}
		if c.Connected() < 2 {
			fmt.Printf("connected %d\n", c.Connected())
			os.Exit(1)
		}
	}
	fmt.Println("ready")
	var wg sync.WaitGroup
	for k := 1; k <= each; k++ {
		wg.Add(2)
		go func(k int64) { defer wg.Done(); one("result", alice, k, int64(workMs), true) }(int64(k))
		go func(k int64) { defer wg.Done(); one("result", bob, 1000+k, int64(workMs), false) }(int64(k))
	}
	wg.Wait()
	for k := int64(5001); k <= 5006; k++ {
		one("after", bob, k, 0, false)
	}
	fmt.Println("done")
}
