package dev.arbor.it;

import dev.arbor.transport.ChannelFactory;
import dev.arbor.transport.MessageLimits;
import static dev.arbor.it.Props.propertyGroup;
import static dev.arbor.it.Props.schema;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import dev.arbor.api.admin.v1.BuildTreesRequest;
import dev.arbor.api.admin.v1.ShardBuildResult;
import dev.arbor.api.admin.v1.TreeAdminServiceGrpc;
import dev.arbor.api.banyandb.common.v1.Metadata;
import dev.arbor.api.banyandb.model.v1.Str;
import dev.arbor.api.banyandb.model.v1.Tag;
import dev.arbor.api.banyandb.model.v1.TagValue;
import dev.arbor.api.banyandb.property.v1.Property;
import dev.arbor.api.cluster.v1.DataNodeServiceGrpc;
import dev.arbor.api.cluster.v1.Key;
import dev.arbor.api.cluster.v1.ReadRequest;
import dev.arbor.api.cluster.v1.StoredProperty;
import dev.arbor.api.cluster.v1.WriteRequest;
import dev.arbor.api.repair.v1.RepairAdminServiceGrpc;
import dev.arbor.api.repair.v1.RepairProgress;
import dev.arbor.api.repair.v1.RunRepairRequest;
import dev.arbor.harness.EtcdServer;
import io.grpc.ManagedChannel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import net.jpountz.xxhash.XXHash64;
import net.jpountz.xxhash.XXHashFactory;
import org.apache.skywalking.banyandb.database.v1.BanyandbDatabase.TagType;
import org.apache.skywalking.banyandb.v1.client.BanyanDBClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Bulk transfer to an empty replica, killed in the middle: one etcd, two {@code arbor data} JVMs
 * and a liaison (for the group's definition). The sender holds 3,000 properties of about 2 KB;
 * the receiver is empty, so the round's session sends Lucene files. Every node runs with the
 * hidden test flag {@code --repair-bulk-test-chunk-delay 300ms} (the receiver waits that long
 * before acknowledging each 1 MiB chunk), which keeps the transfer running for seconds so the
 * receiver is {@code kill -9}ed with staged files on disk. Writes acknowledged by the receiver
 * during the transfer must survive; after the restart no staged file is left, the index opens,
 * and the next round converges with every acknowledged property on both replicas.
 */
@Timeout(120)
class BulkTransferIT {
  private static final String G = "bulk_kill";
  private static final String N = "item";
  private static final List<String> NODE_IDS = List.of("bk-1", "bk-2");
  private static final XXHash64 XX = XXHashFactory.fastestJavaInstance().hash64();

  private final Random random = new Random(Long.getLong("arbor.it.seed", System.nanoTime()));
  private final Map<String, ManagedChannel> channels = new HashMap<>();

  @Test
  void receiverKilledMidTransferRestartsCleanAndTheNextRoundConverges() throws Exception {
    Path work = ArborProcess.newDataDir("bulk");
    Map<String, ArborProcess> nodes = new LinkedHashMap<>();
    ArborProcess liaison = null;
    EtcdServer etcd = ArborProcess.startEtcd(Files.createDirectories(work.resolve("etcd")));
    try {
      String metadata = "etcd://127.0.0.1:" + etcd.clientUri().getPort();
      nodes.putAll(ArborProcess.startDataNodes("bulk-", NODE_IDS, work, metadata, "--node-ttl", "10m",
          "--repair-schedule", "off", "--repair-bulk-test-chunk-delay", "300ms"));
      liaison = ArborProcess.startLiaison("bulk-liaison", metadata);
      try (BanyanDBClient client = new BanyanDBClient(liaison.grpcTarget())) {
        client.connect();
        client.define(propertyGroup(G, 1, 1));
        client.define(schema(G, N, "name", TagType.TAG_TYPE_STRING, "payload", TagType.TAG_TYPE_STRING));
      }
      List<String> ring = placement();
      String sender = ring.get(0); // runs the session as client
      String receiver = ring.get(1);
      nodes.keySet().forEach(id -> open(id, nodes.get(id)));

      List<String> sent = ids("s", 3000);
      writeDirect(sender, sent, 1800, 2200);
      Path staging = nodes.get(receiver).dataDir().resolve("bulk-intake");

      CompletableFuture<String> firstRound = CompletableFuture.supplyAsync(() -> runRepair(sender));
      await("staged files of the bulk transfer on " + receiver).atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(50)).until(() -> stagedFiles(staging) >= 2);
      // Acknowledged by the receiver while its copy is being filled: in its WAL only.
      List<String> local = ids("r", 50);
      writeDirect(receiver, local, 100, 200);
      nodes.get(receiver).kill9();
      channels.remove(receiver).shutdownNow();
      channels.remove("admin:" + receiver).shutdownNow();
      long staged = stagedFiles(staging);
      System.out.printf("[bulk-it] killed %s with %d staged file(s); first round: %s%n", receiver, staged,
          firstRound.get(60, TimeUnit.SECONDS));
      assertThat(staged).as("the kill hit the transfer with files staged").isPositive();

      nodes.put(receiver, nodes.get(receiver).restart());
      open(receiver, nodes.get(receiver));
      assertThat(stagedFiles(staging)).as("staged files left after the restart").isZero();
      assertThat(readAll(receiver, local)).as("writes acknowledged during the transfer").hasSize(local.size());

      String second = runRepair(sender);
      assertThat(second).as("the round after the restart").startsWith("COMPLETED");

      List<String> all = new ArrayList<>(sent);
      all.addAll(local);
      Map<String, StoredProperty> a = readAll(sender, all);
      Map<String, StoredProperty> b = readAll(receiver, all);
      assertThat(a).hasSize(all.size());
      assertThat(b).hasSize(all.size());
      a.forEach((k, p) -> assertThat(b.get(k)).as(k).isEqualTo(p));
      ShardBuildResult ta = buildTree(sender);
      ShardBuildResult tb = buildTree(receiver);
      assertThat(tb.getLeafCount()).isEqualTo(all.size());
      assertThat(tb.getRoot()).isEqualTo(ta.getRoot());
      assertThat(stagedFiles(staging)).isZero();
    } finally {
      channels.values().forEach(ManagedChannel::shutdownNow);
      List<ArborProcess> all = new ArrayList<>(nodes.values());
      if (liaison != null) {
        all.add(liaison);
      }
      List<String> problems = ArborProcess.stopAll(all);
      etcd.close();
      if (problems.isEmpty()) {
        ArborProcess.deleteDataDir(work);
      }
    }
  }

  /** Runs a round of {@code G}/0 on {@code origin} and returns its outcome ("STATUS message"). */
  private String runRepair(String origin) {
    Iterator<RepairProgress> it = RepairAdminServiceGrpc.newBlockingStub(channels.get("admin:" + origin))
        .withDeadlineAfter(90, TimeUnit.SECONDS)
        .runRepair(RunRepairRequest.newBuilder().setGroup(G).setShard(0).setTimeoutMs(60_000).build());
    String outcome = "(none)";
    while (it.hasNext()) {
      RepairProgress p = it.next();
      if (p.hasHop()) {
        System.out.printf("[bulk-it] hop %s -> %s: %s%n", p.getHop().getClientNode(), p.getHop().getServerNode(),
            p.getHop().toString().replace('\n', ' '));
      }
      if (p.hasOutcome()) {
        outcome = p.getOutcome().getStatus() + " " + p.getOutcome().getMessage();
      }
    }
    return outcome;
  }

  private static long stagedFiles(Path staging) throws IOException {
    if (!Files.isDirectory(staging)) {
      return 0;
    }
    try (Stream<Path> s = Files.walk(staging)) {
      return s.filter(Files::isRegularFile).count();
    }
  }

  private void open(String id, ArborProcess p) {
    channels.put(id, ChannelFactory.plaintext().open(p.internalTarget(), MessageLimits.MAX_MESSAGE_BYTES));
    channels.put("admin:" + id, ChannelFactory.plaintext().open(p.grpcTarget(), MessageLimits.MAX_MESSAGE_BYTES));
  }

  /** Placement of {@code G}/0 over both nodes, from the documented function (docs/placement.md). */
  private static List<String> placement() {
    Comparator<String> byScore = (a, b) -> {
      int c = Long.compareUnsigned(hash(G + "/0/" + b), hash(G + "/0/" + a));
      return c != 0 ? c : a.compareTo(b);
    };
    return NODE_IDS.stream().sorted(byScore).toList();
  }

  private static long hash(String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    return XX.hash(b, 0, b.length, 0L);
  }

  private static List<String> ids(String prefix, int n) {
    return IntStream.range(0, n).mapToObj(i -> String.format("%s%05d", prefix, i)).toList();
  }

  private static String entity(String id) {
    return G + "/" + N + "/" + id;
  }

  private static Tag str(String key, String value) {
    return Tag.newBuilder().setKey(key).setValue(TagValue.newBuilder().setStr(Str.newBuilder().setValue(value))).build();
  }

  /** Stores records straight on one data node ({@code DataNodeService.Write}); each batch is acknowledged. */
  private void writeDirect(String node, List<String> ids, int min, int max) throws Exception {
    long rev = System.currentTimeMillis() * 1_000_000L;
    MessageDigest sha = MessageDigest.getInstance("SHA-512");
    var stub = DataNodeServiceGrpc.newBlockingStub(channels.get(node));
    List<StoredProperty> batch = new ArrayList<>();
    int stored = 0;
    for (int i = 0; i < ids.size(); i++) {
      String id = ids.get(i);
      rev++;
      char[] c = new char[min + random.nextInt(max - min + 1)];
      for (int j = 0; j < c.length; j++) {
        c[j] = (char) ('a' + random.nextInt(26));
      }
      Property p = Property.newBuilder()
          .setMetadata(Metadata.newBuilder().setGroup(G).setName(N).setCreateRevision(rev).setModRevision(rev))
          .setId(id).addTags(str("name", id)).addTags(str("payload", new String(c))).build();
      byte[] src = deterministic(p);
      sha.reset();
      sha.update(src);
      sha.update(new byte[8]); // delete time 0, big-endian
      batch.add(StoredProperty.newBuilder().setGroup(G).setShard(0).setEntity(entity(id)).setModRevision(rev)
          .setCreateRevision(rev).setSource(ByteString.copyFrom(src)).setSha(ByteString.copyFrom(sha.digest())).build());
      if (batch.size() == 500 || i == ids.size() - 1) {
        stored += stub.withDeadlineAfter(30, TimeUnit.SECONDS)
            .write(WriteRequest.newBuilder().addAllProperties(batch).build()).getStored();
        batch.clear();
      }
    }
    assertThat(stored).as("records stored on %s", node).isEqualTo(ids.size());
  }

  private static byte[] deterministic(Property p) throws IOException {
    ByteArrayOutputStream bos = new ByteArrayOutputStream(p.getSerializedSize());
    CodedOutputStream out = CodedOutputStream.newInstance(bos);
    out.useDeterministicSerialization();
    p.writeTo(out);
    out.flush();
    return bos.toByteArray();
  }

  private Map<String, StoredProperty> readAll(String node, List<String> ids) {
    var stub = DataNodeServiceGrpc.newBlockingStub(channels.get(node));
    Map<String, StoredProperty> out = new HashMap<>();
    for (int i = 0; i < ids.size(); i += 1000) {
      ReadRequest.Builder r = ReadRequest.newBuilder();
      for (String id : ids.subList(i, Math.min(ids.size(), i + 1000))) {
        r.addKeys(Key.newBuilder().setGroup(G).setShard(0).setEntity(entity(id)));
      }
      for (StoredProperty p : stub.withDeadlineAfter(30, TimeUnit.SECONDS).read(r.build()).getPropertiesList()) {
        assertThat(out.put(p.getEntity(), p)).as("%s returned twice by %s", p.getEntity(), node).isNull();
      }
    }
    return out;
  }

  private ShardBuildResult buildTree(String node) {
    ShardBuildResult[] last = new ShardBuildResult[1];
    await("tree build on " + node).atMost(Duration.ofSeconds(60)).pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(200)).until(() -> {
          var res = TreeAdminServiceGrpc.newBlockingStub(channels.get("admin:" + node)).withDeadlineAfter(60, TimeUnit.SECONDS)
              .buildTrees(BuildTreesRequest.newBuilder().setGroup(G).setShard(0).build());
          last[0] = res.getResults(0);
          return !last[0].getOutcome().equals("BUSY");
        });
    return last[0];
  }
}
