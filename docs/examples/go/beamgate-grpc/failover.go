package main

import (
	"context"
	"sync/atomic"
	"time"

	pb "beamgate.io/gen/go/beamgate/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// codec marshals with the protobuf API that protoc-gen-go generates for. Debian's grpc-go
// (1.33) marshals through github.com/golang/protobuf 1.3, which cannot marshal messages made
// by protoc-gen-go 1.28 (a nil-pointer panic on oneofs); registering under the name "proto"
// replaces its default. Not needed with grpc-go 1.35 or later.
type codec struct{}

func (codec) Marshal(v interface{}) ([]byte, error) { return proto.Marshal(v.(proto.Message)) }
func (codec) Unmarshal(b []byte, v interface{}) error {
	return proto.Unmarshal(b, v.(proto.Message))
}
func (codec) Name() string { return "proto" }

func init() { encoding.RegisterCodec(codec{}) }

// GatewayError is a refusal or failure: Code is the protocol's Error.Code name
// (PERMISSION_DENIED, OUTCOME_UNKNOWN...), else gRPC's status code (DEADLINE_EXCEEDED...) or
// CONNECTION.
type GatewayError struct {
	Code, Message string
}

func (e *GatewayError) Error() string { return e.Code + " " + e.Message }

// Options of a GatewayClient; zero values take the defaults.
type Options struct {
	// EveryAddress balances each host name round robin over all its addresses (a DNS name
	// with several records; gRPC resolves it again when connections fail). Default: one.
	EveryAddress bool
	// MaxAttempts: gateways one request may be tried on, the first included (1..16, 3).
	MaxAttempts int
	// Keepalive: with calls in flight, a connection silent for KeepaliveInterval (10 s, gRPC's
	// minimum) is pinged, and given up after KeepaliveTimeout more (20 s).
	KeepaliveInterval, KeepaliveTimeout time.Duration
}

// GatewayClient calls over several gateways ("host:port" each), one gRPC connection to each,
// spread round robin over those connected. A failed request goes to another gateway (at most
// MaxAttempts in all, within its context's deadline) only when it cannot run twice: never
// executed (the gateway answered UNAVAILABLE or CLOSING), or its outcome unknown
// (OUTCOME_UNKNOWN, or the connection lost with it in flight) and it is a ping or a call
// marked Idempotent, which the gateway admits only under a rule marked `idempotent: true`.
// Any other call whose outcome is unknown fails with OUTCOME_UNKNOWN, once.
type GatewayClient struct {
	conns       []*grpc.ClientConn
	stubs       []pb.GatewayClient
	maxAttempts int
	next        uint32
}

// Dial connects to every gateway in the background.
func Dial(gateways []string, creds credentials.TransportCredentials,
	o Options) (*GatewayClient, error) {
	if o.MaxAttempts == 0 {
		o.MaxAttempts = 3
	}
	if o.MaxAttempts < 1 || o.MaxAttempts > 16 {
		return nil, &GatewayError{"INVALID_ARGUMENT", "MaxAttempts: out of 1..16"}
	}
	if o.KeepaliveInterval == 0 {
		o.KeepaliveInterval = 10 * time.Second
	}
	if o.KeepaliveTimeout == 0 {
		o.KeepaliveTimeout = 20 * time.Second
	}
	opts := []grpc.DialOption{grpc.WithTransportCredentials(creds),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: o.KeepaliveInterval,
			Timeout: o.KeepaliveTimeout})}
	if o.EveryAddress {
		opts = append(opts, grpc.WithDefaultServiceConfig(
			`{"loadBalancingConfig": [{"round_robin": {}}]}`))
	}
	c := &GatewayClient{maxAttempts: o.MaxAttempts}
	for _, g := range gateways {
		target := g
		if o.EveryAddress {
			target = "dns:///" + g
		}
		conn, err := grpc.Dial(target, opts...)
		if err != nil {
			c.Close()
			return nil, err
		}
		c.conns = append(c.conns, conn)
		c.stubs = append(c.stubs, pb.NewGatewayClient(conn))
	}
	return c, nil
}

// Close closes every connection.
func (c *GatewayClient) Close() {
	for _, conn := range c.conns {
		conn.Close()
	}
}

// Connected is how many gateways' connections are up now.
func (c *GatewayClient) Connected() int {
	n := 0
	for _, conn := range c.conns {
		if conn.GetState() == connectivity.Ready {
			n++
		}
	}
	return n
}

// pick returns a connected gateway not tried yet, else one tried (a request that never ran
// may go back to it), starting one further each time; -1 when none is connected. Requests go
// only to connected gateways, so that a lost connection means a request in flight.
func (c *GatewayClient) pick(tried map[int]bool) int {
	n := len(c.conns)
	start := int(atomic.AddUint32(&c.next, 1))
	fallback := -1
	for k := 0; k < n; k++ {
		i := (start + k) % n
		if state := c.conns[i].GetState(); state != connectivity.Ready {
			// grpc-go 1.41 and later leave a dropped connection Idle until asked to connect
			// (1.33 reconnects by itself and has no Connect).
			if conn, ok := interface{}(c.conns[i]).(interface{ Connect() }); ok &&
				state == connectivity.Idle {
				conn.Connect()
			}
			continue
		}
		if !tried[i] {
			return i
		}
		if fallback < 0 {
			fallback = i
		}
	}
	return fallback
}

// Call runs module:function(args...) on the cluster; call.Idempotent says it may run twice.
func (c *GatewayClient) Call(ctx context.Context, call *pb.Call) (*pb.Term, error) {
	var result *pb.Term
	err := c.attempts(ctx, call.Idempotent, true, func(i int, tr *metadata.MD) (err error) {
		result, err = c.stubs[i].Call(ctx, call, grpc.Trailer(tr))
		return err
	})
	return result, err
}

// Ping asks who the gateway thinks you are.
func (c *GatewayClient) Ping(ctx context.Context) (*pb.Pong, error) {
	var pong *pb.Pong
	err := c.attempts(ctx, true, false, func(i int, tr *metadata.MD) (err error) {
		pong, err = c.stubs[i].Ping(ctx, &pb.Ping{}, grpc.Trailer(tr))
		return err
	})
	return pong, err
}

func (c *GatewayClient) attempts(ctx context.Context, safe, isCall bool,
	rpc func(int, *metadata.MD) error) error {
	tried := map[int]bool{}
	var last *GatewayError
	for {
		i := c.pick(tried)
		if i < 0 { // none connected: wait for one, within the deadline
			select {
			case <-ctx.Done():
				if last != nil {
					return last
				}
				return &GatewayError{"CONNECTION", "no gateway was up in time"}
			case <-time.After(20 * time.Millisecond):
				continue
			}
		}
		tried[i] = true
		var trailer metadata.MD
		err := rpc(i, &trailer)
		if err == nil {
			return nil
		}
		last = errorOf(err, trailer, isCall)
		if !retryable(last.Code, safe) || len(tried) >= c.maxAttempts || ctx.Err() != nil {
			return last
		}
	}
}

// errorOf is the gateway's Error from the trailers when it sent one; else gRPC's status, where
// UNAVAILABLE (sent on a connected gateway) is a lost connection: a call's outcome is unknown.
func errorOf(err error, trailer metadata.MD, isCall bool) *GatewayError {
	if v := trailer.Get("beamgate-error-bin"); len(v) > 0 {
		var e pb.Error
		if proto.Unmarshal([]byte(v[0]), &e) == nil {
			return &GatewayError{e.Code.String(), e.Message}
		}
	}
	s := status.Convert(err)
	if s.Code() == codes.Unavailable {
		if isCall {
			return &GatewayError{"OUTCOME_UNKNOWN", "the connection to the gateway was lost " +
				"with the call in flight: it may or may not have run (" + s.Message() + ")"}
		}
		return &GatewayError{"CONNECTION", s.Message()}
	}
	return &GatewayError{upperSnake(s.Code().String()), s.Message()}
}

// retryable says whether a request that failed with code may go to another gateway.
func retryable(code string, safe bool) bool {
	switch code {
	case "CONNECTION", "UNAVAILABLE", "CLOSING": // never executed
		return true
	case "OUTCOME_UNKNOWN":
		return safe
	}
	return false
}
