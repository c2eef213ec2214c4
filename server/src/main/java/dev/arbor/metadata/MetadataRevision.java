package dev.arbor.metadata;

/**
 * Where a metadata store's view stands: which etcd cluster answered and at which revision.
 *
 * @param clusterId the etcd cluster id of the response
 * @param revision the etcd header revision of the response
 */
public record MetadataRevision(long clusterId, long revision) {}
