/**
 * The deterministic simulation of a cluster (test scope): data nodes and a liaison built from
 * the real storage, tree, repair, gossip and liaison classes, in one JVM, talking over
 * in-process gRPC whose calls run on the caller's thread, through a network that drops,
 * duplicates, delays and partitions per seed; virtual time orders every step. One seed
 * reproduces a run. Owns nothing of production: it composes production classes the way the
 * server's composition roots do, and must not replace their logic with its own.
 */
package dev.arbor.simulation;
