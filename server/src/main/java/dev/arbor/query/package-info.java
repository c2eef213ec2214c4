/**
 * Planning and running property queries against this node's shards (schema checks, Lucene
 * queries, ordering). Used by the public API and the data node's internal API; no gRPC here.
 */
package dev.arbor.query;
