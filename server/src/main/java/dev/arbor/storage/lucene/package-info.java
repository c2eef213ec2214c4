/**
 * Lucene extension points Arbor registers or wraps: the codec of property indexes and its
 * stored-field compression, and the shard directory that adds files by hard link. Knows nothing of records or documents (that is {@code storage.DocumentCodec}); must
 * stay loadable by Lucene's service loader, which reopens segments by codec name.
 */
package dev.arbor.storage.lucene;
