package dev.arbor.bench.repair;

import dev.arbor.api.banyandb.common.v1.Catalog;
import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.api.banyandb.common.v1.Metadata;
import dev.arbor.api.banyandb.common.v1.ResourceOpts;
import dev.arbor.api.banyandb.database.v1.GroupRegistryServiceCreateRequest;
import dev.arbor.api.banyandb.database.v1.GroupRegistryServiceDeleteRequest;
import dev.arbor.api.banyandb.database.v1.GroupRegistryServiceGrpc;
import dev.arbor.api.banyandb.database.v1.PropertyRegistryServiceCreateRequest;
import dev.arbor.api.banyandb.database.v1.PropertyRegistryServiceGrpc;
import dev.arbor.api.banyandb.database.v1.TagSpec;
import dev.arbor.api.banyandb.database.v1.TagType;
import dev.arbor.api.banyandb.model.v1.Int;
import dev.arbor.api.banyandb.model.v1.Str;
import dev.arbor.api.banyandb.model.v1.Tag;
import dev.arbor.api.banyandb.model.v1.TagValue;
import dev.arbor.api.banyandb.property.v1.ApplyRequest;
import dev.arbor.api.banyandb.property.v1.DeleteRequest;
import dev.arbor.api.banyandb.property.v1.Property;
import dev.arbor.api.banyandb.property.v1.PropertyServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;
import java.util.function.IntFunction;

/**
 * Writes through the liaison's public API (the BanyanDB property service), like a client: async
 * unary calls with a bounded number in flight, each request carrying the write consistency header
 * ({@code arbor-write-consistency}: {@code all} while every replica is up, so a write that missed
 * a replica is retried instead of silently diverging; {@code one} while a replica is down). Each
 * property has a {@code data} STRING tag of {@code size} random characters (unique per id and
 * version, so nothing compresses across properties) and a {@code ts} INT tag.
 */
final class DataLoader implements AutoCloseable {
  static final String SCHEMA = "item";
  static final String HEADER = "arbor-write-consistency";
  private static final char[] ALPHABET =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".toCharArray();
  private static final int MAX_ATTEMPTS = 40;
  private static final long CALL_DEADLINE_MS = 30_000;

  /** What a load did. */
  record LoadStats(int requested, long millis, long retries, String lastError) {
    double opsPerSecond() {
      return millis <= 0 ? 0 : requested * 1000.0 / millis;
    }
  }

  private final ManagedChannel channel;
  private final int inFlight;
  private final int size;
  private final long seed;
  private final ScheduledExecutorService retryTimer =
      Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "loader-retry");
        t.setDaemon(true);
        return t;
      });

  /** Connections the writes are spread over (one HTTP/2 connection serialises on one event loop). */
  private final List<ManagedChannel> loadChannels;

  DataLoader(ManagedChannel liaisonChannel, int inFlight, int size, long seed) {
    this(liaisonChannel, List.of(liaisonChannel), inFlight, size, seed);
  }

  /**
   * @param loadChannels connections to the liaison that the writes round-robin over (closed with
   *     this loader unless it is {@code liaisonChannel})
   */
  DataLoader(ManagedChannel liaisonChannel, List<ManagedChannel> loadChannels, int inFlight,
      int size, long seed) {
    this.channel = liaisonChannel;
    this.loadChannels = List.copyOf(loadChannels);
    this.inFlight = inFlight;
    this.size = size;
    this.seed = seed;
  }

  static String id(int i) {
    return String.format("p-%08d", i);
  }

  /** {@code group/name/id}: the entity key a data node stores the property under. */
  static String entity(String group, int i) {
    return group + "/" + SCHEMA + "/" + id(i);
  }

  void createGroup(String group, int copies) {
    GroupRegistryServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
        .create(GroupRegistryServiceCreateRequest.newBuilder().setGroup(Group.newBuilder()
            .setMetadata(Metadata.newBuilder().setName(group))
            .setCatalog(Catalog.CATALOG_PROPERTY)
            .setResourceOpts(ResourceOpts.newBuilder().setShardNum(1).setReplicas(copies - 1)))
            .build());
    PropertyRegistryServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
        .create(PropertyRegistryServiceCreateRequest.newBuilder().setProperty(
            dev.arbor.api.banyandb.database.v1.Property.newBuilder()
                .setMetadata(Metadata.newBuilder().setGroup(group).setName(SCHEMA))
                .addTags(TagSpec.newBuilder().setName("data").setType(TagType.TAG_TYPE_STRING))
                .addTags(TagSpec.newBuilder().setName("ts").setType(TagType.TAG_TYPE_INT)))
            .build());
  }

  void deleteGroup(String group) {
    GroupRegistryServiceGrpc.newBlockingStub(channel).withDeadlineAfter(120, TimeUnit.SECONDS)
        .delete(GroupRegistryServiceDeleteRequest.newBuilder().setGroup(group).build());
  }

  /** Applies (STRATEGY_MERGE) version {@code version} of each property in {@code indexes}. */
  LoadStats apply(String group, List<Integer> indexes, int version, String consistency)
      throws InterruptedException {
    PropertyServiceGrpc.PropertyServiceStub[] stubs = stubs(consistency);
    return run(indexes.size(), k -> indexes.get(k), (i, done) -> stubs[i % stubs.length]
        .withDeadlineAfter(CALL_DEADLINE_MS, TimeUnit.MILLISECONDS)
        .apply(ApplyRequest.newBuilder().setProperty(property(group, i, version))
            .setStrategy(ApplyRequest.Strategy.STRATEGY_MERGE).build(), observer(done)));
  }

  /** Deletes each property in {@code indexes} by id. */
  LoadStats delete(String group, List<Integer> indexes, String consistency)
      throws InterruptedException {
    PropertyServiceGrpc.PropertyServiceStub[] stubs = stubs(consistency);
    return run(indexes.size(), k -> indexes.get(k), (i, done) -> stubs[i % stubs.length]
        .withDeadlineAfter(CALL_DEADLINE_MS, TimeUnit.MILLISECONDS)
        .delete(DeleteRequest.newBuilder().setGroup(group).setName(SCHEMA).setId(id(i)).build(),
            observer(done)));
  }

  /**
   * Applies one property with consistency {@code all} until it succeeds (bounded): proves that
   * the liaison reaches every replica of the group again after a node restart.
   */
  void awaitAllReachable(String group, long timeoutMillis) throws InterruptedException {
    PropertyServiceGrpc.PropertyServiceBlockingStub stub = PropertyServiceGrpc
        .newBlockingStub(channel).withInterceptors(header("all"));
    long deadline = System.currentTimeMillis() + timeoutMillis;
    RuntimeException last = null;
    int n = 0;
    while (System.currentTimeMillis() < deadline) {
      try {
        stub.withDeadlineAfter(10, TimeUnit.SECONDS).apply(ApplyRequest.newBuilder()
            .setProperty(property(group, 0, ++n)).build());
        return;
      } catch (RuntimeException e) {
        last = e;
        TimeUnit.MILLISECONDS.sleep(200);
      }
    }
    throw new IllegalStateException("the liaison did not reach every replica of " + group
        + " within " + timeoutMillis + " ms: " + last, last);
  }

  private PropertyServiceGrpc.PropertyServiceStub[] stubs(String consistency) {
    return loadChannels.stream().map(c -> PropertyServiceGrpc.newStub(c)
        .withInterceptors(header(consistency))).toArray(PropertyServiceGrpc.PropertyServiceStub[]::new);
  }

  private static io.grpc.ClientInterceptor header(String consistency) {
    io.grpc.Metadata md = new io.grpc.Metadata();
    md.put(io.grpc.Metadata.Key.of(HEADER, io.grpc.Metadata.ASCII_STRING_MARSHALLER), consistency);
    return MetadataUtils.newAttachHeadersInterceptor(md);
  }

  Property property(String group, int i, int version) {
    // The generator is seeded by the first output of another: seeds that differ by multiples of
    // SplittableRandom's own increment (i * 0x9E3779B97F4A7C15 is one) start shifted copies of
    // one stream, and LZ4 found long runs shared across documents (192 of 200 shared a 16-character
    // run with an earlier one; an 80 KiB stored-fields chunk compressed to 46 %).
    SplittableRandom r = new SplittableRandom(
        new SplittableRandom(seed ^ (i * 0x9E3779B97F4A7C15L) ^ ((long) version << 40)).nextLong());
    char[] buf = new char[size];
    for (int j = 0; j < buf.length; j++) {
      buf[j] = ALPHABET[r.nextInt(ALPHABET.length)];
    }
    return Property.newBuilder()
        .setMetadata(Metadata.newBuilder().setGroup(group).setName(SCHEMA))
        .setId(id(i))
        .addTags(Tag.newBuilder().setKey("data")
            .setValue(TagValue.newBuilder().setStr(Str.newBuilder().setValue(new String(buf)))))
        .addTags(Tag.newBuilder().setKey("ts")
            .setValue(TagValue.newBuilder().setInt(Int.newBuilder()
                .setValue(System.currentTimeMillis()))))
        .build();
  }

  private static <T> StreamObserver<T> observer(StreamObserver<Void> done) {
    return new StreamObserver<>() {
      @Override
      public void onNext(T value) {}

      @Override
      public void onError(Throwable t) {
        done.onError(t);
      }

      @Override
      public void onCompleted() {
        done.onCompleted();
      }
    };
  }

  /**
   * Issues {@code count} calls with at most {@code inFlight} outstanding; a failed call is retried
   * (after a short pause) up to {@link #MAX_ATTEMPTS} times; throws if any call finally failed.
   */
  private LoadStats run(int count, IntFunction<Integer> index,
      BiConsumer<Integer, StreamObserver<Void>> call) throws InterruptedException {
    Semaphore slots = new Semaphore(inFlight);
    CountDownLatch finished = new CountDownLatch(count);
    AtomicLong retries = new AtomicLong();
    AtomicLong failures = new AtomicLong();
    AtomicReference<String> lastError = new AtomicReference<>();
    long t0 = System.nanoTime();
    for (int k = 0; k < count; k++) {
      slots.acquire();
      int i = index.apply(k);
      issue(i, 1, call, slots, finished, retries, failures, lastError);
    }
    finished.await();
    long ms = (System.nanoTime() - t0) / 1_000_000;
    if (failures.get() > 0) {
      throw new IllegalStateException(failures.get() + " of " + count
          + " writes failed after " + MAX_ATTEMPTS + " attempts; last error: " + lastError.get());
    }
    return new LoadStats(count, ms, retries.get(), lastError.get());
  }

  private void issue(int i, int attempt, BiConsumer<Integer, StreamObserver<Void>> call,
      Semaphore slots, CountDownLatch finished, AtomicLong retries, AtomicLong failures,
      AtomicReference<String> lastError) {
    call.accept(i, new StreamObserver<>() {
      @Override
      public void onNext(Void value) {}

      @Override
      public void onError(Throwable t) {
        Status s = Status.fromThrowable(t);
        lastError.set(s.getCode() + ": " + s.getDescription());
        if (attempt < MAX_ATTEMPTS && s.getCode() != Status.Code.INVALID_ARGUMENT) {
          retries.incrementAndGet();
          retryTimer.schedule(() -> issue(i, attempt + 1, call, slots, finished, retries,
              failures, lastError), Math.min(1000, 50L * attempt), TimeUnit.MILLISECONDS);
          return;
        }
        failures.incrementAndGet();
        slots.release();
        finished.countDown();
      }

      @Override
      public void onCompleted() {
        slots.release();
        finished.countDown();
      }
    });
  }

  @Override
  public void close() {
    retryTimer.shutdownNow();
    loadChannels.stream().filter(c -> c != channel).forEach(ManagedChannel::shutdownNow);
  }
}
