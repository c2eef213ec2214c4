/**
 * The two-node repair stream ({@code arbor.repair.v1.RepairService}): the client and server sides
 * of a session over one (group, shard). Uses {@code repair.tree} for trees and {@code storage}
 * for records; knows nothing of gossip rounds.
 */
package dev.arbor.repair.sync;
