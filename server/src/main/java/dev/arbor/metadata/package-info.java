/**
 * Cluster metadata: property groups and schemas, their validation, and the embedded file-backed
 * store. Uses storage only for atomic file writes; knows nothing of gRPC services.
 */
package dev.arbor.metadata;
