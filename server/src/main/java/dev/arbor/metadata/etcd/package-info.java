/**
 * Cluster metadata and membership on etcd (jetcd): {@link dev.arbor.metadata.etcd.EtcdMetadataStore}
 * (groups and schemas, read from a watched local cache) and
 * {@link dev.arbor.metadata.etcd.EtcdNodeRegistry} (node registrations under leases). Every etcd
 * call has a deadline; losing etcd is logged once and never blocks reads.
 */
package dev.arbor.metadata.etcd;
