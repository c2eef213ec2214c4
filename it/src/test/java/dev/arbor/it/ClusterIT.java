package dev.arbor.it;

import dev.arbor.transport.ChannelFactory;
import dev.arbor.transport.MessageLimits;
import static dev.arbor.it.Props.byId;
import static dev.arbor.it.Props.byIdMap;
import static dev.arbor.it.Props.byIds;
import static dev.arbor.it.Props.ids;
import static dev.arbor.it.Props.int64;
import static dev.arbor.it.Props.property;
import static dev.arbor.it.Props.propertyGroup;
import static dev.arbor.it.Props.schema;
import static dev.arbor.it.Props.str;
import static dev.arbor.it.Props.strArray;
import static dev.arbor.it.Props.stripRevisions;
import static dev.arbor.it.Props.stripServerFields;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

import dev.arbor.api.cluster.v1.DataNodeServiceGrpc;
import dev.arbor.api.cluster.v1.Key;
import dev.arbor.api.cluster.v1.ReadRequest;
import dev.arbor.api.cluster.v1.ReadResponse;
import dev.arbor.api.cluster.v1.StoredProperty;
import dev.arbor.harness.ClusterOfProcesses;
import dev.arbor.harness.EtcdServer;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import net.jpountz.xxhash.XXHash64;
import net.jpountz.xxhash.XXHashFactory;
import org.apache.skywalking.banyandb.common.v1.BanyandbCommon;
import org.apache.skywalking.banyandb.database.v1.BanyandbDatabase;
import org.apache.skywalking.banyandb.database.v1.BanyandbDatabase.TagType;
import org.apache.skywalking.banyandb.model.v1.BanyandbModel.Tag;
import org.apache.skywalking.banyandb.property.v1.BanyandbProperty;
import org.apache.skywalking.banyandb.property.v1.BanyandbProperty.ApplyRequest.Strategy;
import org.apache.skywalking.banyandb.v1.client.BanyanDBClient;
import org.apache.skywalking.banyandb.v1.client.PairQueryCondition.LongQueryCondition;
import org.apache.skywalking.banyandb.v1.client.PairQueryCondition.StringQueryCondition;
import org.apache.skywalking.banyandb.v1.client.PropertyQuery;
import org.apache.skywalking.banyandb.v1.client.grpc.exception.BanyanDBException;
import org.apache.skywalking.banyandb.v1.client.metadata.ResourceExist;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A real cluster on loopback (issue 4 acceptance): one etcd ({@link EtcdServer}), three {@code
 * arbor data} JVMs and two {@code arbor liaison} JVMs (write consistency {@code one}, the default,
 * and {@code all}), all started once for the class. Clients: the official {@code
 * banyandb-java-client} 0.9.0 against the liaisons, and the internal {@code
 * arbor.cluster.v1.DataNodeService/Read} against each data node to see exactly which node holds
 * which copy.
 *
 * <p>Placement is computed here independently from the documented function ({@code
 * docs/placement.md}): rendezvous hashing, score = unsigned xxHash64(utf8(group/shard/nodeId)),
 * highest first, ties by node id; shard = unsigned xxHash64(utf8(group/name/id)) mod shard_num.
 *
 * <p>The scenarios run in order and share the cluster: 2 kills a data node and restarts it, 3
 * uses the copy 2 left stale on it, 6 stops and restarts etcd. The random tag values come from a
 * seed printed at start ({@code -Darbor.it.seed=N} replays it).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(120)
class ClusterIT {
  private static final String G = "cluster_g";
  private static final String N = "item";
  private static final int SHARDS = 2;
  private static final int REPLICAS = 1;
  private static final int COPIES = REPLICAS + 1;
  private static final int PROPERTIES = 20;
  private static final List<String> NODE_IDS = List.of("dn-1", "dn-2", "dn-3");
  /** Long enough that a killed node stays registered (keeps its shards) for the whole test. */
  private static final String NODE_TTL = "60s";
  /** Bound on query-time repair reaching a restarted node (queries are re-sent while waiting). */
  private static final Duration REPAIR_WAIT = Duration.ofSeconds(30);
  /** Bound on "exits quickly": --metadata-timeout (5 s by default) plus JVM start. */
  private static final Duration FAIL_FAST = Duration.ofSeconds(20);
  private static final XXHash64 XX = XXHashFactory.fastestJavaInstance().hash64();

  private final long seed = Long.getLong("arbor.it.seed", System.nanoTime());
  private final Random random = new Random(seed);
  @RegisterExtension final ClusterTeardown teardown = new ClusterTeardown();

  private Path work;
  private ClusterOfProcesses cluster;
  private EtcdServer etcd;
  private String metadata;
  private final Map<String, ArborProcess> dataNodes = new LinkedHashMap<>();
  private final Map<String, ManagedChannel> channels = new HashMap<>();
  /** {@code --write-consistency one} (the default). */
  private ArborProcess liaison;
  /** {@code --write-consistency all}. */
  private ArborProcess liaisonAll;
  private BanyanDBClient client;
  private BanyanDBClient clientAll;

  /** id (in G/N) -> tags of its latest version, as written through a liaison. */
  private final Map<String, List<Tag>> expected = new LinkedHashMap<>();

  // Handed from scenario 2 to scenario 3: a property whose copy on the restarted node is stale.
  private String victim;
  private String staleId;
  private StoredProperty staleCopy;

  // ---------------------------------------------------------------------------------------------

  @BeforeAll
  @Timeout(240)
  void startCluster() throws Exception {
    System.out.printf("[cluster-it] seed=%d (replay with -Darbor.it.seed=%d)%n", seed, seed);
    work = ArborProcess.newDataDir("cluster");
    // Data nodes first: each is ready once it printed its ready line, i.e. registered in etcd,
    // so the liaisons started next load all three registrations when they start.
    cluster = ArborProcess.cluster(work)
        .dataNodes(NODE_IDS)
        .dataArgs("--node-ttl", NODE_TTL)
        .liaison("liaison-one")
        .liaison("liaison-all", "--write-consistency", "all")
        .start();
    etcd = cluster.etcd();
    metadata = cluster.metadata();
    dataNodes.putAll(ArborProcess.of(cluster.dataNodes()));
    dataNodes.keySet().forEach(this::openChannel);
    liaison = ArborProcess.of(cluster.liaison("liaison-one"));
    liaisonAll = ArborProcess.of(cluster.liaison("liaison-all"));
    client = new BanyanDBClient(liaison.grpcTarget());
    client.connect();
    clientAll = new BanyanDBClient(liaisonAll.grpcTarget());
    clientAll.connect();
  }

  @AfterAll
  void stopCluster() throws Exception {
    for (BanyanDBClient c : new BanyanDBClient[] {client, clientAll}) {
      if (c != null) {
        c.close();
      }
    }
    channels.values().forEach(ManagedChannel::shutdownNow);
    teardown.stop(cluster, work);
  }

  // ---------------------------------------------------------------------------------------------
  // 1. Placement
  // ---------------------------------------------------------------------------------------------

  @Test
  @Order(1)
  void eachPropertyIsStoredOnExactlyItsPlacementNodes() throws Exception {
    BanyandbCommon.Group group = propertyGroup(G, SHARDS, REPLICAS);
    assertThat(stripRevisions(client.define(group))).isEqualTo(group);
    client.define(
        schema(
            G,
            N,
            "name", TagType.TAG_TYPE_STRING,
            "count", TagType.TAG_TYPE_INT,
            "note", TagType.TAG_TYPE_STRING,
            "labels", TagType.TAG_TYPE_STRING_ARRAY));

    for (int i = 0; i < PROPERTIES; i++) {
      String id = String.format("p%02d", i);
      List<Tag> tags =
          List.of(
              str("name", "item-" + i),
              int64("count", random.nextInt(1_000_000)),
              str("note", "note-" + Long.toHexString(random.nextLong())));
      BanyandbProperty.ApplyResponse r = client.apply(property(G, N, id, tags.toArray(Tag[]::new)));
      assertThat(r.getCreated()).as("apply %s created", id).isTrue();
      assertThat(r.getTagsNum()).isEqualTo(tags.size());
      expected.put(id, tags);
    }

    Set<Integer> shardsSeen = new LinkedHashSet<>();
    Map<String, Integer> copiesPerNode = new LinkedHashMap<>();
    for (Map.Entry<String, List<Tag>> e : expected.entrySet()) {
      String id = e.getKey();
      shardsSeen.add(shardOf(G, N, id, SHARDS));
      List<StoredProperty> held = assertOnExactlyItsPlacementNodes(G, SHARDS, N, id, e.getValue());
      owners(id).forEach(n -> copiesPerNode.merge(n, 1, Integer::sum));
      assertThat(held).hasSize(COPIES);
    }
    System.out.printf("[cluster-it] copies per node: %s; shards used: %s%n", copiesPerNode, shardsSeen);
    assertThat(shardsSeen).as("the %d ids cover both shards", PROPERTIES).containsExactlyInAnyOrder(0, 1);

    // The liaison returns every one of them with its values.
    Map<String, BanyandbProperty.Property> got =
        byIdMap(byIds(client, G, N, new ArrayList<>(expected.keySet())));
    assertThat(got.keySet()).containsExactlyInAnyOrderElementsOf(expected.keySet());
    expected.forEach((id, tags) -> assertThat(got.get(id).getTagsList()).as(id).containsExactlyElementsOf(tags));
  }

  // ---------------------------------------------------------------------------------------------
  // 2. kill -9 a replica: consistency one / all, restart, read repair
  // ---------------------------------------------------------------------------------------------

  @Test
  @Order(2)
  void killedReplica_oneSucceeds_allFailsNamingIt_restartedNodeIsRepairedByQueries() throws Exception {
    requireState(!expected.isEmpty(), "scenario 1 wrote the properties");
    String p = "p00";
    List<String> pOwners = owners(p);
    victim = pOwners.get(0);
    String survivor = pOwners.get(1);
    // Another property on the victim, left stale for scenario 3; and one the victim does not hold.
    staleId =
        expected.keySet().stream()
            .filter(id -> !id.equals(p) && owners(id).contains(victim))
            .findFirst()
            .orElseThrow(() -> new AssertionError("no second property on " + victim));
    Optional<String> elsewhere =
        expected.keySet().stream().filter(id -> !owners(id).contains(victim)).findFirst();
    System.out.printf(
        "[cluster-it] P=%s on %s; killing %s; stale-for-projection=%s; not on victim=%s%n",
        p, pOwners, victim, staleId, elsewhere.orElse("-"));

    StoredProperty pBefore = read(victim, G, SHARDS, N, p).orElseThrow();
    StoredProperty staleBefore = read(victim, G, SHARDS, N, staleId).orElseThrow();

    ArborProcess killed = dataNodes.get(victim);
    killed.kill9();
    closeChannel(victim);

    // Consistency one (liaison default): the surviving replica is enough.
    BanyandbProperty.ApplyResponse merged = client.apply(property(G, N, p, int64("count", 5001)));
    assertThat(merged.getCreated()).isFalse();

    // Consistency all: UNAVAILABLE, naming the killed node.
    assertThatThrownBy(() -> clientAll.apply(property(G, N, p, str("note", "written at all"))))
        .isInstanceOfSatisfying(
            BanyanDBException.class,
            e -> {
              assertThat(e.getStatus()).as("status of a write at 'all' with %s down", victim)
                  .isEqualTo(Status.Code.UNAVAILABLE);
              assertThat(messages(e)).as("names the down node").contains(victim);
              System.out.printf("[cluster-it] write at 'all' refused: %s%n", messages(e));
            });
    // ... while a key whose replicas are both up is written at 'all' as usual.
    if (elsewhere.isPresent()) {
      List<Tag> tags = List.of(str("name", "all-ok"), int64("count", 42));
      BanyandbProperty.ApplyResponse ok =
          clientAll.apply(property(G, N, elsewhere.get(), tags.toArray(Tag[]::new)), Strategy.STRATEGY_REPLACE);
      assertThat(ok.getCreated()).isFalse();
      expected.put(elsewhere.get(), tags);
    }

    // Final versions at 'one', full replaces, so the latest values are known exactly (a write
    // that failed its level may still have reached the survivor: it is not rolled back).
    List<Tag> pFinal =
        List.of(str("name", "p00-final"), int64("count", 7007), str("note", "after the kill"), strArray("labels", "a", "b"));
    assertThat(client.apply(property(G, N, p, pFinal.toArray(Tag[]::new)), Strategy.STRATEGY_REPLACE).getTagsNum())
        .isEqualTo(4);
    expected.put(p, pFinal);
    List<Tag> staleFinal =
        List.of(
            str("name", staleId + "-final"),
            int64("count", random.nextInt(1_000_000)),
            str("note", "full record, not a projection"),
            strArray("labels", "x", "y", "z"));
    client.apply(property(G, N, staleId, staleFinal.toArray(Tag[]::new)), Strategy.STRATEGY_REPLACE);
    expected.put(staleId, staleFinal);

    StoredProperty pLive = read(survivor, G, SHARDS, N, p).orElseThrow();
    assertThat(parse(pLive).getTagsList()).containsExactlyElementsOf(pFinal);
    assertThat(pLive.getModRevision()).isGreaterThan(pBefore.getModRevision());

    // Restart on the same data directory and ports.
    ArborProcess restarted = killed.restart();
    dataNodes.put(victim, restarted);
    assertThat(restarted.grpcPort()).isEqualTo(killed.grpcPort());
    openChannel(victim);

    // Nothing has repaired it yet: it still holds the versions from before the kill.
    assertThat(read(victim, G, SHARDS, N, p).orElseThrow().getModRevision())
        .as("%s on the restarted %s before any query", p, victim)
        .isEqualTo(pBefore.getModRevision());
    staleCopy = read(victim, G, SHARDS, N, staleId).orElseThrow();
    assertThat(staleCopy.getModRevision()).isEqualTo(staleBefore.getModRevision());

    // A query through the liaison returns the latest values ...
    assertThat(byId(client, G, N, p).getTagsList()).containsExactlyElementsOf(pFinal);
    // ... and (query-time repair, asynchronous) soon the restarted node holds them too.
    await("read repair of " + p + " on " + victim)
        .atMost(REPAIR_WAIT)
        .pollInterval(Duration.ofMillis(250))
        .untilAsserted(
            () -> {
              assertThat(byId(client, G, N, p).getTagsList()).containsExactlyElementsOf(pFinal);
              StoredProperty now = read(victim, G, SHARDS, N, p).orElseThrow();
              assertThat(now.getModRevision()).isEqualTo(pLive.getModRevision());
              assertThat(now.getSha()).isEqualTo(pLive.getSha());
              assertThat(now.getSource()).isEqualTo(pLive.getSource());
            });
    // Only the queried key was repaired.
    assertThat(read(victim, G, SHARDS, N, staleId).orElseThrow().getModRevision())
        .as("%s on %s untouched by the query for %s", staleId, victim, p)
        .isEqualTo(staleBefore.getModRevision());

    // With every replica back, writes at 'all' succeed again (the liaison reconnects).
    List<Tag> pAll = List.of(str("name", "p00-all"), int64("count", 8008));
    await("write at 'all' after the restart")
        .atMost(REPAIR_WAIT)
        .pollInterval(Duration.ofMillis(250))
        .ignoreExceptionsInstanceOf(BanyanDBException.class)
        .until(
            () -> clientAll.apply(property(G, N, p, pAll.toArray(Tag[]::new)), Strategy.STRATEGY_REPLACE)
                    .getTagsNum()
                == 2);
    expected.put(p, pAll);
    assertOnExactlyItsPlacementNodes(G, SHARDS, N, p, pAll);
  }

  // ---------------------------------------------------------------------------------------------
  // 3. Read repair triggered by a projected query writes the full record
  // ---------------------------------------------------------------------------------------------

  @Test
  @Order(3)
  void projectedQueryRepairsTheReplicaWithAllTags() throws Exception {
    requireState(staleCopy != null, "scenario 2 left a stale copy on the restarted node");
    List<Tag> full = expected.get(staleId);
    String survivor = owners(staleId).stream().filter(n -> !n.equals(victim)).findFirst().orElseThrow();
    StoredProperty live = read(survivor, G, SHARDS, N, staleId).orElseThrow();
    assertThat(parse(live).getTagsList()).containsExactlyElementsOf(full);
    assertThat(read(victim, G, SHARDS, N, staleId).orElseThrow().getModRevision())
        .as("still stale before the projected query")
        .isEqualTo(staleCopy.getModRevision())
        .isLessThan(live.getModRevision());

    PropertyQuery projected = new PropertyQuery(List.of(G), N, new LinkedHashSet<>(List.of("name")));
    projected.id(staleId);
    await("read repair of " + staleId + " on " + victim + " by a projected query")
        .atMost(REPAIR_WAIT)
        .pollInterval(Duration.ofMillis(250))
        .untilAsserted(
            () -> {
              List<BanyandbProperty.Property> got = client.query(projected.build()).getPropertiesList();
              assertThat(got).hasSize(1);
              assertThat(got.get(0).getTagsList()).as("projection").containsExactly(str("name", staleId + "-final"));
              StoredProperty repaired = read(victim, G, SHARDS, N, staleId).orElseThrow();
              assertThat(repaired.getModRevision()).isEqualTo(live.getModRevision());
              assertThat(parse(repaired).getTagsList()).as("all tags on the repaired replica").containsExactlyElementsOf(full);
              assertThat(repaired.getSource()).isEqualTo(live.getSource());
              assertThat(repaired.getSha()).isEqualTo(live.getSha());
            });
    // And the unprojected query still returns every tag.
    assertThat(byId(client, G, N, staleId).getTagsList()).containsExactlyElementsOf(full);
  }

  // ---------------------------------------------------------------------------------------------
  // 4. The official client workflow against the liaison
  // ---------------------------------------------------------------------------------------------

  @Test
  @Order(4)
  void officialClientWorkflowThroughTheLiaison() throws Exception {
    String g = "cluster_wf";
    String n = "svc";
    BanyandbCommon.Group group = propertyGroup(g, 2, 1);
    BanyandbCommon.Group defined = client.define(group);
    assertThat(stripRevisions(defined)).isEqualTo(group);
    assertThat(defined.getMetadata().getCreateRevision()).isPositive();
    assertThatThrownBy(() -> client.define(group))
        .isInstanceOfSatisfying(
            BanyanDBException.class, e -> assertThat(e.getStatus()).isEqualTo(Status.Code.ALREADY_EXISTS));
    assertThat(client.findGroup(g)).isEqualTo(defined);
    assertThat(client.findGroups().stream().map(x -> x.getMetadata().getName())).contains(G, g);

    BanyandbDatabase.Property svc =
        schema(g, n, "service", TagType.TAG_TYPE_STRING, "layer", TagType.TAG_TYPE_STRING, "count", TagType.TAG_TYPE_INT);
    client.define(svc);
    assertThat(stripServerFields(client.findPropertyDefinition(g, n))).isEqualTo(svc);
    ResourceExist exist = client.existProperty(g, n);
    assertThat(exist.hasGroup()).isTrue();
    assertThat(exist.hasResource()).isTrue();

    // apply: create, merge, replace
    BanyandbProperty.ApplyResponse r1 =
        client.apply(property(g, n, "w1", str("service", "a"), str("layer", "GENERAL"), int64("count", 1)));
    assertThat(r1.getCreated()).isTrue();
    assertThat(r1.getTagsNum()).isEqualTo(3);
    BanyandbProperty.Property w1 = byId(client, g, n, "w1");
    long createRev = w1.getMetadata().getCreateRevision();
    assertThat(createRev).isPositive();

    BanyandbProperty.ApplyResponse r2 = client.apply(property(g, n, "w1", int64("count", 2)));
    assertThat(r2.getCreated()).isFalse();
    assertThat(r2.getTagsNum()).isEqualTo(3);
    BanyandbProperty.Property w1Merged = byId(client, g, n, "w1");
    assertThat(w1Merged.getTagsList())
        .containsExactly(int64("count", 2), str("service", "a"), str("layer", "GENERAL"));
    assertThat(w1Merged.getMetadata().getCreateRevision()).isEqualTo(createRev);
    assertThat(w1Merged.getMetadata().getModRevision()).isGreaterThan(w1.getMetadata().getModRevision());

    BanyandbProperty.ApplyResponse r3 =
        client.apply(property(g, n, "w1", str("service", "b"), str("layer", "MESH")), Strategy.STRATEGY_REPLACE);
    assertThat(r3.getCreated()).isFalse();
    assertThat(r3.getTagsNum()).isEqualTo(2);
    BanyandbProperty.Property w1Replaced = byId(client, g, n, "w1");
    assertThat(w1Replaced.getTagsList()).containsExactly(str("service", "b"), str("layer", "MESH"));
    assertThat(w1Replaced.getMetadata().getCreateRevision()).isEqualTo(createRev);
    assertOnExactlyItsPlacementNodes(g, 2, n, "w1", w1Replaced.getTagsList());

    // query by id and by criteria
    String[][] rows = {
      {"s1", "a", "GENERAL", "1"},
      {"s2", "b", "GENERAL", "2"},
      {"s3", "c", "MESH", "3"},
      {"s4", "d", "MESH", "4"},
      {"s5", "e", "K8S", "5"},
    };
    for (String[] r : rows) {
      BanyandbProperty.ApplyResponse resp =
          client.apply(property(g, n, r[0], str("service", r[1]), str("layer", r[2]), int64("count", Long.parseLong(r[3]))));
      assertThat(resp.getCreated()).isTrue();
    }
    assertThat(byId(client, g, n, "s3").getTagsList())
        .containsExactly(str("service", "c"), str("layer", "MESH"), int64("count", 3));
    assertThat(queryIds(g, n, q -> q.ids(List.of("s1", "s5", "nope")))).containsExactlyInAnyOrder("s1", "s5");
    assertThat(queryIds(g, n, q -> {})).containsExactlyInAnyOrder("w1", "s1", "s2", "s3", "s4", "s5");
    assertThat(queryIds(g, n, q -> q.and(StringQueryCondition.eq("layer", "MESH"))))
        .containsExactlyInAnyOrder("w1", "s3", "s4");
    assertThat(queryIds(g, n, q -> q.and(StringQueryCondition.eq("layer", "MESH")).and(LongQueryCondition.gt("count", 3L))))
        .containsExactly("s4");
    assertThat(queryIds(g, n, q -> q.or(StringQueryCondition.eq("service", "a")).or(StringQueryCondition.eq("service", "e"))))
        .containsExactlyInAnyOrder("s1", "s5");
    PropertyQuery proj = new PropertyQuery(List.of(g), n, new LinkedHashSet<>(List.of("count")));
    proj.id("s2");
    assertThat(client.query(proj.build()).getPropertiesList())
        .singleElement()
        .satisfies(x -> assertThat(x.getTagsList()).containsExactly(int64("count", 2)));
    List<String> two = queryIds(g, n, q -> q.setLimit(2));
    assertThat(two).hasSize(2).doesNotHaveDuplicates().isSubsetOf("w1", "s1", "s2", "s3", "s4", "s5");

    // delete by id: a tombstone on both placement nodes, gone from queries
    assertThat(client.deleteProperty(g, n, "s1").getDeleted()).isTrue();
    assertThat(byId(client, g, n, "s1")).isNull();
    assertThat(client.deleteProperty(g, n, "s1").getDeleted()).as("second delete").isFalse();
    int shard = shardOf(g, n, "s1", 2);
    for (String node : NODE_IDS) {
      Optional<StoredProperty> copy = read(node, g, 2, n, "s1");
      if (placement(g, shard, 2).contains(node)) {
        assertThat(copy).as("s1 on placement node %s", node).hasValueSatisfying(c -> assertThat(c.getDeleteTime()).isPositive());
      } else {
        assertThat(copy).as("s1 on %s (not a placement node)", node).isEmpty();
      }
    }
    // delete by name: everything of that name goes
    assertThat(client.deleteProperty(g, n, "").getDeleted()).isTrue();
    assertThat(queryIds(g, n, q -> {})).isEmpty();

    assertThat(client.deletePropertyDefinition(g, n)).isTrue();
    assertThat(client.deleteGroup(g)).isTrue();
    assertThat(client.findGroup(g)).isNull();
  }

  // ---------------------------------------------------------------------------------------------
  // 5. etcd unreachable at start
  // ---------------------------------------------------------------------------------------------

  @Test
  @Order(5)
  void etcdUnreachableAtStart_exitsNonZeroWithOneReadableLine() throws Exception {
    int[] ports = ArborProcess.freePorts(5); // [0] is a port nothing listens on
    String nowhere = "etcd://127.0.0.1:" + ports[0];
    long t0 = System.nanoTime();
    List<ArborProcess> started =
        List.of(
            ArborProcess.launchLiaison("liaison-no-etcd", ports[1], ports[2], nowhere),
            ArborProcess.launchData(
                "data-no-etcd", "dn-x", Files.createDirectories(work.resolve("dn-x")), ports[3], ports[4], nowhere));
    try {
      for (ArborProcess p : started) {
        assertThat(p.waitFor(FAIL_FAST))
            .as("%s exits within %d s when etcd is unreachable\n%s", p.name(), FAIL_FAST.toSeconds(), p.logTail(20))
            .isTrue();
        System.out.printf(
            "[cluster-it] %s exited %d after %d ms%n",
            p.name(), p.process().exitValue(), (System.nanoTime() - t0) / 1_000_000);
        assertThat(p.process().exitValue()).as("%s exit code", p.name()).isNotZero();
        String out = p.output();
        List<String> lines = out.lines().filter(l -> !l.isBlank()).toList();
        assertThat(lines)
            .as("%s output: exactly one readable line, naming etcd and its address", p.name())
            .singleElement()
            .satisfies(l -> assertThat(l).containsIgnoringCase("etcd").contains("127.0.0.1:" + ports[0]));
        assertThat(out).as("no stack trace").doesNotContain("\tat ").doesNotContain("Caused by").doesNotContain("Exception");
        assertThat(p.healthy()).isFalse();
      }
    } finally {
      started.forEach(ArborProcess::close);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // 6. etcd stopped while running, then back
  // ---------------------------------------------------------------------------------------------

  @Test
  @Order(6)
  void etcdDown_servesLastKnownMetadata_refusesGroupCreate_recoversWhenBack() throws Exception {
    requireState(!expected.isEmpty(), "scenario 1 wrote the properties");
    String etcdAddress = "127.0.0.1:" + etcd.clientUri().getPort();
    etcd.stop();

    // Queries (and property writes) keep working with the last known metadata.
    Map<String, BanyandbProperty.Property> got =
        byIdMap(byIds(client, G, N, new ArrayList<>(expected.keySet())));
    assertThat(got.keySet()).containsExactlyInAnyOrderElementsOf(expected.keySet());
    expected.forEach((id, tags) -> assertThat(got.get(id).getTagsList()).as(id).containsExactlyElementsOf(tags));
    List<Tag> outage = List.of(str("name", "written while etcd is down"), int64("count", 1));
    assertThat(client.apply(property(G, N, "p-outage", outage.toArray(Tag[]::new))).getCreated()).isTrue();
    expected.put("p-outage", outage);
    assertThat(byId(client, G, N, "p-outage").getTagsList()).containsExactlyElementsOf(outage);

    // A group create needs etcd: it fails with a clear error.
    long t0 = System.nanoTime();
    BanyanDBException refused =
        catchThrowableOfType(
            BanyanDBException.class, () -> client.define(propertyGroup("cluster_refused", 2, 1)));
    long refusedMs = (System.nanoTime() - t0) / 1_000_000;
    assertThat(refused).as("group create while etcd is down").isNotNull();
    System.out.printf("[cluster-it] group create refused after %d ms: %s%n", refusedMs, messages(refused));
    assertThat(refused.getStatus()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(messages(refused)).containsIgnoringCase("etcd");
    // ... and the outage is logged, by the liaison and by every data node.
    liaison.awaitOutput("etcd at http://" + etcdAddress + " is unreachable", Duration.ofSeconds(30));
    for (ArborProcess d : dataNodes.values()) {
      d.awaitOutput("etcd at http://" + etcdAddress + " is unreachable", Duration.ofSeconds(30));
    }

    // etcd returns (same data, same ports): a group create succeeds again.
    etcd.start();
    BanyandbCommon.Group after = propertyGroup("cluster_after", 2, 1);
    await("group create after etcd returned")
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(500))
        .until(
            () -> {
              try {
                client.define(after);
                return true;
              } catch (BanyanDBException e) {
                if (e.getStatus() == Status.Code.ALREADY_EXISTS) {
                  return true; // an earlier attempt of this loop went through
                }
                return false;
              }
            });
    assertThat(stripRevisions(client.findGroup("cluster_after"))).isEqualTo(after);
    assertThat(client.findGroup("cluster_refused")).as("the refused create is never applied later").isNull();
    liaison.awaitOutput("etcd at http://" + etcdAddress + " is reachable again", Duration.ofSeconds(30));

    // The new group works end to end: the data nodes learned of it through their watch.
    client.define(schema("cluster_after", "s", "v", TagType.TAG_TYPE_STRING));
    // Bounded retry: each process's etcd watch resumes on its own schedule (seen: up to ~3 s after
    // the liaison's), and until it has, a data node answers NOT_FOUND for the new group, which the
    // liaison passes on as the whole request's error even when another replica could answer.
    List<String> refusals = new ArrayList<>();
    long t1 = System.nanoTime();
    await("apply + query in the group created after etcd returned")
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(250))
        .untilAsserted(
            () -> {
              try {
                client.apply(property("cluster_after", "s", "x", str("v", "back")));
                assertThat(byId(client, "cluster_after", "s", "x").getTagsList()).containsExactly(str("v", "back"));
              } catch (BanyanDBException e) {
                refusals.add(messages(e));
                throw new AssertionError("refused: " + messages(e), e);
              }
            });
    System.out.printf(
        "[cluster-it] apply + query in the new group succeeded after %d ms, %d refusal(s)%s%n",
        (System.nanoTime() - t1) / 1_000_000,
        refusals.size(),
        refusals.isEmpty() ? "" : ", first: " + refusals.get(0));
    // A data node whose watch resumed late may have missed that write (consistency one): queries
    // repair it once it knows the group, so poll with a query in between.
    await("both placement nodes hold the write made right after etcd returned")
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(250))
        .ignoreExceptions()
        .untilAsserted(() -> {
          byId(client, "cluster_after", "s", "x");
          assertOnExactlyItsPlacementNodes("cluster_after", 2, "s", "x", List.of(str("v", "back")));
        });
    // And the data written before and during the outage is all there.
    Map<String, BanyandbProperty.Property> end =
        byIdMap(byIds(client, G, N, new ArrayList<>(expected.keySet())));
    expected.forEach((id, tags) -> assertThat(end.get(id).getTagsList()).as(id).containsExactlyElementsOf(tags));
  }

  // ---------------------------------------------------------------------------------------------
  // Placement, computed here from the documented function
  // ---------------------------------------------------------------------------------------------

  private static long xxHash64(String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    return XX.hash(b, 0, b.length, 0L);
  }

  private static int shardOf(String group, String name, String id, int shardNum) {
    return (int) Long.remainderUnsigned(xxHash64(group + "/" + name + "/" + id), shardNum);
  }

  /** The {@code copies} nodes of (group, shard), replica 0 first. */
  private static List<String> placement(String group, int shard, int copies) {
    Comparator<String> byScore =
        (a, b) -> {
          int c =
              Long.compareUnsigned(
                  xxHash64(group + "/" + shard + "/" + b), xxHash64(group + "/" + shard + "/" + a));
          return c != 0 ? c : a.compareTo(b);
        };
    return NODE_IDS.stream().sorted(byScore).limit(copies).toList();
  }

  /** Placement nodes of a property of G/N. */
  private static List<String> owners(String id) {
    return placement(G, shardOf(G, N, id, SHARDS), COPIES);
  }

  /**
   * Reads the key from every data node: the placement nodes hold the same live record with
   * exactly {@code tags}; the other node holds nothing. Returns the placement nodes' copies.
   */
  private List<StoredProperty> assertOnExactlyItsPlacementNodes(
      String group, int shardNum, String name, String id, List<Tag> tags) throws Exception {
    int shard = shardOf(group, name, id, shardNum);
    List<String> owners = placement(group, shard, COPIES);
    List<StoredProperty> held = new ArrayList<>();
    for (String node : NODE_IDS) {
      Optional<StoredProperty> copy = read(node, group, shardNum, name, id);
      if (owners.contains(node)) {
        assertThat(copy).as("%s/%s/%s (shard %d) on placement node %s of %s", group, name, id, shard, node, owners).isPresent();
        StoredProperty c = copy.get();
        assertThat(c.getDeleteTime()).as("live").isZero();
        assertThat(parse(c).getId()).isEqualTo(id);
        assertThat(parse(c).getTagsList()).as("tags of %s on %s", id, node).containsExactlyElementsOf(tags);
        held.add(c);
      } else {
        assertThat(copy).as("%s/%s/%s (shard %d) on %s, not a placement node (%s)", group, name, id, shard, node, owners).isEmpty();
      }
    }
    StoredProperty first = held.get(0);
    for (StoredProperty c : held) {
      assertThat(c.getModRevision()).as("replicas of %s agree on the version", id).isEqualTo(first.getModRevision());
      assertThat(c.getSha()).isEqualTo(first.getSha());
      assertThat(c.getSource()).isEqualTo(first.getSource());
    }
    return held;
  }

  // ---------------------------------------------------------------------------------------------
  // Internal API: DataNodeService/Read on one node
  // ---------------------------------------------------------------------------------------------

  private void openChannel(String nodeId) {
    closeChannel(nodeId);
    channels.put(
        nodeId, ChannelFactory.plaintext().open(dataNodes.get(nodeId).internalTarget(), MessageLimits.MAX_MESSAGE_BYTES));
  }

  private void closeChannel(String nodeId) {
    ManagedChannel old = channels.remove(nodeId);
    if (old != null) {
      old.shutdownNow();
    }
  }

  /** The node's latest copy of group/name/id (tombstones included), or empty. */
  private Optional<StoredProperty> read(String nodeId, String group, int shardNum, String name, String id) {
    String entity = group + "/" + name + "/" + id;
    int shard = shardOf(group, name, id, shardNum);
    ManagedChannel ch = channels.get(nodeId);
    if (ch == null) {
      throw new AssertionError("no channel to " + nodeId + " (is it down?)");
    }
    ReadResponse r =
        DataNodeServiceGrpc.newBlockingStub(ch)
            .withDeadlineAfter(5, TimeUnit.SECONDS)
            .read(
                ReadRequest.newBuilder()
                    .addKeys(Key.newBuilder().setGroup(group).setShard(shard).setEntity(entity))
                    .build());
    assertThat(r.getPropertiesCount()).as("Read of one key on %s", nodeId).isLessThanOrEqualTo(1);
    if (r.getPropertiesCount() == 0) {
      return Optional.empty();
    }
    StoredProperty p = r.getProperties(0);
    assertThat(p.getEntity()).isEqualTo(entity);
    assertThat(p.getGroup()).isEqualTo(group);
    assertThat(p.getShard()).isEqualTo(shard);
    return Optional.of(p);
  }

  /** The stored canonical source, as the public message. */
  private static BanyandbProperty.Property parse(StoredProperty p) {
    try {
      return BanyandbProperty.Property.parseFrom(p.getSource());
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new AssertionError("unreadable source of " + p.getEntity(), e);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers
  // ---------------------------------------------------------------------------------------------

  private List<String> queryIds(String group, String name, java.util.function.Consumer<PropertyQuery> shape)
      throws BanyanDBException {
    PropertyQuery q = new PropertyQuery(List.of(group), name, Set.of());
    q.setLimit(100);
    shape.accept(q);
    List<BanyandbProperty.Property> props = client.query(q.build()).getPropertiesList();
    byIdMap(props); // no duplicates
    return ids(props);
  }

  /** The messages of an exception and its causes (the server's status description is in there). */
  private static String messages(Throwable t) {
    List<String> parts = new ArrayList<>();
    for (Throwable c = t; c != null && parts.size() < 10; c = c.getCause()) {
      parts.add(String.valueOf(c.getMessage()));
    }
    return parts.stream().distinct().collect(Collectors.joining(" | "));
  }

  private static void requireState(boolean ok, String what) {
    if (!ok) {
      fail("this scenario needs an earlier one to have passed: " + what);
    }
  }
}
