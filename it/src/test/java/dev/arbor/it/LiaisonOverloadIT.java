package dev.arbor.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.arbor.api.banyandb.common.v1.Catalog;
import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.api.banyandb.common.v1.Metadata;
import dev.arbor.api.banyandb.common.v1.ResourceOpts;
import dev.arbor.api.banyandb.database.v1.GroupRegistryServiceCreateRequest;
import dev.arbor.api.banyandb.database.v1.GroupRegistryServiceGrpc;
import dev.arbor.api.banyandb.database.v1.PropertyRegistryServiceCreateRequest;
import dev.arbor.api.banyandb.database.v1.PropertyRegistryServiceGrpc;
import dev.arbor.api.banyandb.database.v1.TagSpec;
import dev.arbor.api.banyandb.database.v1.TagType;
import dev.arbor.api.banyandb.model.v1.Str;
import dev.arbor.api.banyandb.model.v1.Tag;
import dev.arbor.api.banyandb.model.v1.TagValue;
import dev.arbor.api.banyandb.property.v1.ApplyRequest;
import dev.arbor.api.banyandb.property.v1.Property;
import dev.arbor.api.banyandb.property.v1.PropertyServiceGrpc;
import dev.arbor.api.banyandb.property.v1.QueryRequest;
import dev.arbor.api.banyandb.property.v1.QueryResponse;
import dev.arbor.harness.EtcdServer;
import dev.arbor.transport.ChannelFactory;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A liaison with a 512 MiB heap (and the launcher's {@code -XX:+ExitOnOutOfMemoryError}) in
 * front of two real data nodes and a real etcd, under 10,000 concurrent calls from clients that
 * never read: 640 queries whose ~1 MiB replies the clients do not take (their HTTP/2 flow-control
 * window is 16 KiB and nobody requests a message), sent in waves so that each reply is built,
 * then 9,360 applies that send their headers and never their request. Without a bound the
 * replies alone (640 MiB) exceed the liaison's direct memory. Asserts that the liaison stays up
 * and healthy, that what it holds stays within its caps ({@code --max-concurrent-calls},
 * {@code --max-queued-reply-bytes}), that every call beyond them is answered RESOURCE_EXHAUSTED
 * naming the flag, and that once the slow clients go away it answers a normal query correctly.
 */
@Timeout(240)
class LiaisonOverloadIT {
  private static final String G = "overload";
  private static final String S = "doc";
  private static final int PROPS = 128;
  private static final int PAYLOAD = 8 * 1024; // 128 x 8 KiB: a full query reply is ~1 MiB
  private static final int SLOW_QUERIES = 640;
  private static final int WAVE = 64;
  private static final int HELD_APPLIES = 10_000 - SLOW_QUERIES;
  private static final int CHANNELS = 40; // 10,000 calls / 40 = 250 each, under --max-calls-per-connection
  private static final int MAX_CONCURRENT_CALLS = 1024; // the liaison's default
  /** The liaison's default --max-queued-reply-bytes (a quarter of 512 MiB) plus one reply. */
  private static final double REPLY_CAP_BOUND = (512 << 20) / 4.0 + (2 << 20);
  private static final Pattern SAMPLE = Pattern.compile("^(arbor_grpc_(?:calls|replies)_[a-z_]+)(\\{[^}]*\\})?\\s+([0-9.eE+-]+)$");

  @Test
  void tenThousandSlowClientsAreBoundedAndRefusedWithoutOutOfMemory() throws Exception {
    Path work = ArborProcess.newDataDir("overload");
    EtcdServer etcd = ArborProcess.startEtcd(Files.createDirectories(work.resolve("etcd")));
    String metadata = "etcd://127.0.0.1:" + etcd.clientUri().getPort();
    Map<String, ArborProcess> nodes = new LinkedHashMap<>();
    ArborProcess liaison = null;
    List<ManagedChannel> channels = new ArrayList<>();
    List<String> problems = new ArrayList<>();
    try {
      nodes.putAll(ArborProcess.startDataNodes("overload-data-", List.of("d1", "d2"), work, metadata));
      liaison = ArborProcess.startLiaisonWithJvmArgs("overload-liaison",
          "-Xmx512m -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError", metadata,
          // The bounds under test are the liaison's; a loaded CI machine must not turn the slow
          // readers' queries into data-node timeouts before their replies are built.
          "--node-timeout", "30s");
      ManagedChannel normal = ChannelFactory.plaintext().open(liaison.grpcTarget(), 64 << 20);
      channels.add(normal);
      load(normal);
      QueryRequest all = QueryRequest.newBuilder().addGroups(G).setName(S).setLimit(PROPS * 2).build();
      assertThat(PropertyServiceGrpc.newBlockingStub(normal).withDeadlineAfter(30, TimeUnit.SECONDS)
          .query(all).getPropertiesCount()).as("a full query before the storm").isEqualTo(PROPS);

      for (int i = 0; i < CHANNELS; i++) {
        // A 16 KiB window and no request(): the server can send almost nothing of a reply.
        channels.add(ChannelFactory.plaintext().withFlowControlWindow(16 * 1024).open(liaison.grpcTarget(), 64 << 20));
      }
      Outcomes outcomes = new Outcomes();
      List<ClientCall<?, ?>> calls = new ArrayList<>();
      // Slow readers first, in waves, so that each reply is built (its headers came) before the
      // next wave: the replies then wait in the liaison for clients that never read them.
      for (int wave = 0; wave < SLOW_QUERIES / WAVE; wave++) {
        int before = outcomes.answered();
        for (int i = wave * WAVE; i < (wave + 1) * WAVE; i++) {
          ClientCall<QueryRequest, QueryResponse> c = channels.get(1 + i % CHANNELS)
              .newCall(PropertyServiceGrpc.getQueryMethod(), CallOptions.DEFAULT.withDeadlineAfter(3, TimeUnit.MINUTES));
          c.start(outcomes.listener(), new io.grpc.Metadata());
          c.sendMessage(all);
          c.halfClose(); // and never c.request(n): the reply is not read
          calls.add(c);
        }
        await("wave " + wave + " of slow queries answered or refused").atMost(Duration.ofSeconds(60))
            .pollInterval(Duration.ofMillis(100)).until(() -> outcomes.answered() >= before + WAVE);
      }
      MethodDescriptor<ApplyRequest, ?> apply = PropertyServiceGrpc.getApplyMethod();
      for (int i = 0; i < HELD_APPLIES; i++) {
        ClientCall<ApplyRequest, ?> c = channels.get(1 + (SLOW_QUERIES + i) % CHANNELS)
            .newCall(apply, CallOptions.DEFAULT.withDeadlineAfter(3, TimeUnit.MINUTES));
        c.start(outcomes.listener(), new io.grpc.Metadata());
        c.request(1); // the request message never comes
        calls.add(c);
      }
      // A unary call's headers leave with its message: one real call per channel flushes them.
      for (ManagedChannel ch : channels.subList(1, channels.size())) {
        ClientCall<QueryRequest, QueryResponse> c = ch.newCall(PropertyServiceGrpc.getQueryMethod(),
            CallOptions.DEFAULT.withDeadlineAfter(3, TimeUnit.MINUTES));
        c.start(outcomes.listener(), new io.grpc.Metadata());
        c.sendMessage(QueryRequest.newBuilder().addGroups(G).setName(S).addIds("p0").setLimit(1).build());
        c.halfClose();
        c.request(1);
        calls.add(c);
      }
      int total = SLOW_QUERIES + HELD_APPLIES + CHANNELS;
      ArborProcess l = liaison;
      // Every call is either refused or held by the liaison (counted in flight): none is lost.
      await("10,000 calls refused or held").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
          .untilAsserted(() -> {
            assertThat(l.process().isAlive()).as("liaison alive\n%s", l.logTail(40)).isTrue();
            Map<String, Double> m = l.metrics(SAMPLE);
            double inFlight = m.getOrDefault("arbor_grpc_calls_in_flight", -1.0);
            assertThat(inFlight).as("calls in flight").isLessThanOrEqualTo(MAX_CONCURRENT_CALLS);
            assertThat(outcomes.closed() + (long) inFlight).as("closed %s + in flight %s (%s); liaison: %s",
                outcomes.closed(), inFlight, outcomes, grpcLines(l)).isGreaterThanOrEqualTo(total);
          });
      assertThat(liaison.healthy()).as("/health during the storm").isTrue();
      assertThat(outcomes.code(Status.Code.RESOURCE_EXHAUSTED) + outcomes.code(Status.Code.OK))
          .as("refused or answered: %s", outcomes).isGreaterThanOrEqualTo(total - MAX_CONCURRENT_CALLS);
      assertThat(outcomes.descriptions(Status.Code.RESOURCE_EXHAUSTED)).as("why they were refused")
          .allSatisfy(d -> assertThat(d).containsPattern("server busy: .*--max-"))
          .anySatisfy(d -> assertThat(d).contains("calls are being handled (--max-concurrent-calls"))
          .anySatisfy(d -> assertThat(d).contains("bytes of replies are waiting for clients to read them"
              + " (--max-queued-reply-bytes"));
      assertThat(liaison.metrics(SAMPLE).get("arbor_grpc_replies_queued_bytes")).as("reply bytes held for slow readers")
          .isLessThanOrEqualTo(REPLY_CAP_BOUND);
      assertThat(outcomes.failures()).as("no other failure: %s", outcomes).isZero();

      // The slow clients give up; the liaison serves a normal client fully again.
      calls.forEach(c -> c.cancel("slow client gone", null));
      for (ManagedChannel ch : channels.subList(1, channels.size())) {
        ch.shutdownNow();
      }
      await("calls released").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
          .until(() -> l.metrics(SAMPLE).getOrDefault("arbor_grpc_calls_in_flight", -1.0) <= 1);
      QueryResponse after = PropertyServiceGrpc.newBlockingStub(normal).withDeadlineAfter(30, TimeUnit.SECONDS)
          .query(all);
      assertThat(after.getPropertiesCount()).as("a full query after the storm").isEqualTo(PROPS);
      assertThat(after.getPropertiesList()).allSatisfy(p -> assertThat(p.getTags(0).getValue().getStr().getValue())
          .hasSize(PAYLOAD));
      assertThat(liaison.process().isAlive()).isTrue();
      assertThat(liaison.output()).as("liaison log").doesNotContain("OutOfMemoryError")
          .doesNotContain("OutOfDirectMemoryError").doesNotContain("Cannot reserve");
      System.out.printf("[overload] %s; liaison refused %.0f calls in all%n", outcomes,
          liaison.metrics(SAMPLE).getOrDefault("arbor_grpc_calls_refused_total", -1.0));
    } finally {
      for (ManagedChannel ch : channels) {
        ch.shutdownNow();
      }
      List<ArborProcess> roles = new ArrayList<>();
      if (liaison != null) {
        roles.add(liaison);
      }
      roles.addAll(nodes.values());
      problems.addAll(ArborProcess.stopAll(roles));
      etcd.close();
    }
    assertThat(problems).as("roles stop with exit 0 on SIGTERM").isEmpty();
    ArborProcess.deleteDataDir(work);
  }

  private static void load(ManagedChannel ch) {
    GroupRegistryServiceGrpc.newBlockingStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS)
        .create(GroupRegistryServiceCreateRequest.newBuilder().setGroup(Group.newBuilder()
            .setMetadata(Metadata.newBuilder().setName(G)).setCatalog(Catalog.CATALOG_PROPERTY)
            .setResourceOpts(ResourceOpts.newBuilder().setShardNum(1).setReplicas(0))).build());
    PropertyRegistryServiceGrpc.newBlockingStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS)
        .create(PropertyRegistryServiceCreateRequest.newBuilder().setProperty(
            dev.arbor.api.banyandb.database.v1.Property.newBuilder()
                .setMetadata(Metadata.newBuilder().setGroup(G).setName(S))
                .addTags(TagSpec.newBuilder().setName("data").setType(TagType.TAG_TYPE_STRING))).build());
    Random r = new Random(42);
    PropertyServiceGrpc.PropertyServiceBlockingStub stub = PropertyServiceGrpc.newBlockingStub(ch);
    for (int i = 0; i < PROPS; i++) {
      char[] data = new char[PAYLOAD];
      for (int j = 0; j < data.length; j++) {
        data[j] = (char) ('a' + r.nextInt(26));
      }
      stub.withDeadlineAfter(30, TimeUnit.SECONDS).apply(ApplyRequest.newBuilder().setProperty(Property.newBuilder()
          .setMetadata(Metadata.newBuilder().setGroup(G).setName(S)).setId("p" + i)
          .addTags(Tag.newBuilder().setKey("data").setValue(TagValue.newBuilder()
              .setStr(Str.newBuilder().setValue(new String(data)))))).build());
    }
  }

  private static String grpcLines(ArborProcess p) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + p.httpPort() + "/metrics"))
            .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    return String.join("\n", r.body().lines().filter(x -> x.startsWith("arbor_grpc_server_seconds_count")
        || x.startsWith("jvm_memory_used") || x.startsWith("jvm_buffer")).toList());
  }


  /** How the slow calls ended, by status code, with the distinct descriptions seen. */
  private static final class Outcomes {
    private final Map<Status.Code, AtomicInteger> byCode = new ConcurrentHashMap<>();
    private final Map<Status.Code, java.util.Set<String>> texts = new ConcurrentHashMap<>();

    private final AtomicInteger answered = new AtomicInteger();

    <T> ClientCall.Listener<T> listener() {
      AtomicBoolean first = new AtomicBoolean();
      return new ClientCall.Listener<>() {
        @Override
        public void onHeaders(io.grpc.Metadata headers) {
          if (first.compareAndSet(false, true)) {
            answered.incrementAndGet();
          }
        }

        @Override
        public void onClose(Status status, io.grpc.Metadata trailers) {
          if (first.compareAndSet(false, true)) {
            answered.incrementAndGet();
          }
          byCode.computeIfAbsent(status.getCode(), k -> new AtomicInteger()).incrementAndGet();
          java.util.Set<String> t = texts.computeIfAbsent(status.getCode(), k -> ConcurrentHashMap.newKeySet());
          if (t.size() < 20) {
            t.add(String.valueOf(status.getDescription()));
          }
        }
      };
    }

    /** Calls whose reply began (headers) or that were closed. */
    int answered() {
      return answered.get();
    }

    long closed() {
      return byCode.values().stream().mapToLong(AtomicInteger::get).sum();
    }

    int code(Status.Code c) {
      AtomicInteger n = byCode.get(c);
      return n == null ? 0 : n.get();
    }

    /** Calls that ended otherwise than answered (OK), refused or cancelled by this test. */
    long failures() {
      return byCode.entrySet().stream().filter(e -> e.getKey() != Status.Code.OK
              && e.getKey() != Status.Code.RESOURCE_EXHAUSTED && e.getKey() != Status.Code.CANCELLED)
          .mapToLong(e -> e.getValue().get()).sum();
    }

    java.util.Set<String> descriptions(Status.Code c) {
      return texts.getOrDefault(c, java.util.Set.of());
    }

    @Override
    public String toString() {
      return "closed " + byCode + ", descriptions " + texts;
    }
  }
}
