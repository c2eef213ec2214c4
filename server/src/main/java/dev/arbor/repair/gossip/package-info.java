/**
 * Gossip propagation of a repair round (spec §7, with our fixes): the coalescing queue, the
 * single worker that runs a hop and forwards the round around the ring, and the gossip gRPC
 * service. Drives {@code repair.sync} through {@link HopRunner}; knows nothing of trees.
 */
package dev.arbor.repair.gossip;
