/**
 * The public BanyanDB-compatible gRPC API: request validation, apply/delete/query semantics, the
 * group and schema registries, and the one place where domain exceptions become gRPC statuses.
 * Must not reach into Lucene directly: storage is used through its store and search types.
 */
package dev.arbor.liaison;
