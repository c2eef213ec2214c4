/**
 * Cluster metadata and membership on etcd (jetcd): {@link dev.arbor.metadata.etcd.EtcdMetadataStore}
 * (groups and schemas, read from a watched local cache) and
 * {@link dev.arbor.metadata.etcd.EtcdNodeRegistry} (node registrations under leases). Every etcd
 * call has a deadline; losing etcd is logged once and never blocks reads. Every jetcd client is
 * built in one place, {@link dev.arbor.metadata.etcd.EtcdConnection#connect(EtcdClientConfig)},
 * from an {@link dev.arbor.metadata.etcd.EtcdClientConfig} (TLS, client certificate, user and
 * password).
 */
package dev.arbor.metadata.etcd;
