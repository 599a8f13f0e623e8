/**
 * Several gateways in front of one cluster: how they find each other through the cluster's own
 * nodes (no coordination service of their own) and share what must be cluster-wide, each
 * rule's rate and concurrency and the atom budget. Internal to the gateway.
 */
package io.beamgate.gateway.scale;
