/**
 * What operators' tools read from a running gateway: Prometheus metrics, liveness and
 * readiness, and its status as JSON, served by a small admin HTTP listener. Nothing here knows
 * the gateway's classes: the server hands in what to count and what to report as plain values
 * and suppliers.
 */
package io.beamgate.gateway.ops;
