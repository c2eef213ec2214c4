/**
 * How Arbor's gRPC servers are built and guarded: concurrency caps, keepalive and connection age,
 * message size. {@link dev.arbor.transport.Slots} is the one admission mechanism: the server's
 * call cap and the liaison's fan-out to data nodes both refuse work at once when it is full. The composition roots build one {@link GrpcServerLimits} from configuration and
 * pass it in. Channels, TLS and status mapping are to move here too; nothing in this package
 * knows about properties, storage or repair.
 */
package dev.arbor.transport;
