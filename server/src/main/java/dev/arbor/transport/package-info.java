/**
 * How Arbor talks over the network, in one place: gRPC servers ({@link dev.arbor.transport.GrpcServers})
 * and channels ({@link dev.arbor.transport.ChannelFactory}) with their message sizes, keepalive,
 * concurrency caps and interceptors (metrics, authentication and roles, bounded descriptions); TLS
 * key material reloaded from PEM files ({@link dev.arbor.transport.TlsMaterial}) and the engine it
 * runs on ({@link dev.arbor.transport.TlsEngine}); users
 * ({@link dev.arbor.transport.UserDirectory}); the HTTP port's TLS and basic auth
 * ({@link dev.arbor.transport.ServerSecurity}); and the mapping of domain exceptions to gRPC
 * statuses ({@link dev.arbor.transport.StatusMapping}). {@link dev.arbor.transport.Slots} is the one
 * admission mechanism: the server's call cap and the liaison's fan-out to data nodes both refuse
 * work at once when it is full.
 *
 * <p>Composition roots build the security and channel factories once from configuration and pass
 * them in; nothing else names a channel or server builder, tests and benchmarks included
 * ({@code TransportBoundaryTest} scans for them). This package sits low: storage, cluster,
 * liaison and repair may use it; it knows nothing about properties, storage or repair (which role a
 * method needs is a table the caller passes in).
 */
package dev.arbor.transport;
