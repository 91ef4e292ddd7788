/**
 * The cluster's layout: {@link io.shardring.router.topology.Topology} (versioned ring settings, nodes,
 * sharded tables), node and pool settings, password references, and the sources routers load it from.
 */
package io.shardring.router.topology;
