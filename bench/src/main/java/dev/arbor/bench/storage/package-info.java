/** In-process storage benchmarks: the store's own cost, without processes or gRPC. */
package dev.arbor.bench.storage;
