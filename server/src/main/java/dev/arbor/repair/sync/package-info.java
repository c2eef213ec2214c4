/**
 * The two-node repair stream ({@code arbor.repair.v1.RepairService}): the client and server sides
 * of a session over one (group, shard), including the bulk transfer of a commit's Lucene files to
 * an empty replica ({@code BulkSender}, {@code BulkReceiver}). Uses {@code repair.tree} for trees
 * and {@code storage} for records and files; knows nothing of gossip rounds.
 */
package dev.arbor.repair.sync;
