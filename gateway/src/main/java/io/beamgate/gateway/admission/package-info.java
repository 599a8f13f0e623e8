/**
 * The one path every call, cast, send and monitor by name takes, whichever door it came
 * through (a client connection or a bridge link): policy, argument decoding, term guard,
 * limits ({@link io.beamgate.gateway.admission.Limiter}) and the choice of a backend
 * ({@link io.beamgate.gateway.admission.BackendPool}). Internal to the gateway: public only
 * for the doors above it (the server and the bridge packages), no API for applications.
 */
package io.beamgate.gateway.admission;
