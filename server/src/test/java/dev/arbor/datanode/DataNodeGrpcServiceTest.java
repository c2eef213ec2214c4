package dev.arbor.datanode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.arbor.api.banyandb.common.v1.Catalog;
import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.api.banyandb.common.v1.Metadata;
import dev.arbor.api.banyandb.common.v1.ResourceOpts;
import dev.arbor.api.banyandb.database.v1.TagSpec;
import dev.arbor.api.banyandb.database.v1.TagType;
import dev.arbor.api.banyandb.model.v1.Int;
import dev.arbor.api.banyandb.model.v1.Tag;
import dev.arbor.api.banyandb.model.v1.TagValue;
import dev.arbor.api.banyandb.property.v1.Property;
import dev.arbor.api.banyandb.property.v1.QueryRequest;
import dev.arbor.api.cluster.v1.DataNodeServiceGrpc;
import dev.arbor.api.cluster.v1.Key;
import dev.arbor.api.cluster.v1.QueryShardsRequest;
import dev.arbor.api.cluster.v1.QueryShardsResponse;
import dev.arbor.api.cluster.v1.ReadRequest;
import dev.arbor.api.cluster.v1.ReadResponse;
import dev.arbor.api.cluster.v1.StoredProperty;
import dev.arbor.api.cluster.v1.WriteOutcome;
import dev.arbor.api.cluster.v1.WriteRequest;
import dev.arbor.api.cluster.v1.WriteResponse;
import dev.arbor.cluster.DataNode;
import dev.arbor.cluster.DataNodeClient;
import dev.arbor.cluster.InternalApiLimits;
import dev.arbor.cluster.StoredProperties;
import dev.arbor.cluster.WriteReply;
import dev.arbor.errors.NotFoundException;
import dev.arbor.errors.UnavailableException;
import dev.arbor.metadata.EmbeddedMetadataStore;
import dev.arbor.metadata.MetadataGroupIncarnations;
import dev.arbor.metadata.SchemaLookup;
import dev.arbor.property.EntityKey;
import dev.arbor.property.HybridClock;
import dev.arbor.property.PropertyRecord;
import dev.arbor.property.ShardRouter;
import dev.arbor.query.PageToken;
import dev.arbor.query.QueryPlanner;
import dev.arbor.storage.IncarnationGate;
import dev.arbor.storage.PropertyStore;
import dev.arbor.storage.StoreEvents;
import dev.arbor.transport.ChannelFactory;
import dev.arbor.transport.BareServers;
import dev.arbor.transport.MessageLimits;
import dev.arbor.transport.PeerFutures;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The data node's internal API over real gRPC on loopback, backed by a real store. */
class DataNodeGrpcServiceTest {
  private static final String G = "g";
  private static final int SHARDS = 4;

  @TempDir Path dir;
  private EmbeddedMetadataStore metadata;
  private PropertyStore store;
  private Server server;
  private DataNodeClient client;
  private ManagedChannel channel;

  @BeforeEach
  void start() throws Exception {
    metadata = EmbeddedMetadataStore.open(dir.resolve("meta"), HybridClock.system());
    metadata.createGroup(Group.newBuilder()
        .setMetadata(Metadata.newBuilder().setName(G))
        .setCatalog(Catalog.CATALOG_PROPERTY)
        .setResourceOpts(ResourceOpts.newBuilder().setShardNum(SHARDS))
        .build());
    metadata.createSchema(dev.arbor.api.banyandb.database.v1.Property.newBuilder()
        .setMetadata(Metadata.newBuilder().setGroup(G).setName("n"))
        .addTags(TagSpec.newBuilder().setName("v").setType(TagType.TAG_TYPE_INT))
        .addTags(TagSpec.newBuilder().setName("s").setType(TagType.TAG_TYPE_STRING))
        .addTags(TagSpec.newBuilder().setName("pad").setType(TagType.TAG_TYPE_DATA_BINARY))
        .build());
    store = PropertyStore.open(dir, new MetadataGroupIncarnations(metadata), new StoreEvents());
    SchemaLookup lookup = new SchemaLookup(metadata);
    server = BareServers.start("127.0.0.1", 0,
        new DataNodeGrpcService(lookup, store, new QueryPlanner(lookup, store),
            new IncarnationGate(store, new MetadataGroupIncarnations(metadata), Duration.ofSeconds(2))));
    client = new DataNodeClient(DataNode.of("d1", "127.0.0.1:" + server.getPort()), Duration.ofSeconds(10));
    channel = ChannelFactory.plaintext().open("127.0.0.1:" + server.getPort(), MessageLimits.MAX_MESSAGE_BYTES);
  }

  @AfterEach
  void stop() throws Exception {
    client.close();
    channel.shutdownNow();
    server.shutdownNow().awaitTermination();
    store.close();
  }

  private static PropertyRecord record(String id, long rev, long v) {
    EntityKey key = new EntityKey(G, "n", id);
    Property p = Property.newBuilder()
        .setMetadata(Metadata.newBuilder().setGroup(G).setName("n").setCreateRevision(rev).setModRevision(rev))
        .setId(id)
        .addTags(Tag.newBuilder().setKey("v").setValue(TagValue.newBuilder().setInt(Int.newBuilder().setValue(v))))
        .build();
    return PropertyRecord.live(key, rev, rev, p.toByteArray());
  }

  private static StoredProperty proto(PropertyRecord r) {
    return StoredProperties.toProto(G, ShardRouter.shardOf(r.key(), SHARDS), r);
  }

  private static Key key(String id) {
    EntityKey k = new EntityKey(G, "n", id);
    return Key.newBuilder().setGroup(G).setShard(ShardRouter.shardOf(k, SHARDS)).setEntity(k.entity()).build();
  }

  @Test
  void writesFollowLastWriteWinsAndReadsReturnTheWinner() {
    assertThat(write(client, List.of(proto(record("a", 10, 1)), proto(record("b", 10, 1)))).stored()).isEqualTo(2);
    assertThat(write(client, List.of(proto(record("a", 9, 99)))).stored()).as("older version").isZero();
    assertThat(write(client, List.of(proto(record("a", 10, 1)))).stored()).as("same version").isZero();
    PropertyRecord tomb = record("a", 10, 1).tombstone(500);
    assertThat(write(client, List.of(proto(tomb))).stored()).as("tombstone at equal revision wins").isEqualTo(1);
    assertThat(write(client, List.of(proto(record("a", 10, 1)))).stored()).as("no resurrection").isZero();
    assertThat(write(client, List.of(proto(record("b", 11, 2)))).stored()).isEqualTo(1);

    List<StoredProperty> got = read(client, List.of(key("a"), key("b"), key("missing")));
    assertThat(got).hasSize(2);
    StoredProperty a = got.stream().filter(p -> p.getEntity().endsWith("/a")).findFirst().orElseThrow();
    StoredProperty b = got.stream().filter(p -> p.getEntity().endsWith("/b")).findFirst().orElseThrow();
    assertThat(a.getDeleteTime()).isEqualTo(500);
    assertThat(a.getModRevision()).isEqualTo(10);
    assertThat(b.getModRevision()).isEqualTo(11);
    assertThat(StoredProperties.fromProto(b, "b").record()).isEqualTo(record("b", 11, 2));
  }

  @Test
  void queryShardsSearchesOnlyTheShardsAsked() {
    for (int i = 0; i < 40; i++) {
      write(client, List.of(proto(record("id" + i, 100 + i, i))));
    }
    QueryRequest all = QueryRequest.newBuilder().addGroups(G).setName("n").setLimit(1000).build();
    assertThat(queryShards(client, all, Map.of())).hasSize(40);
    List<StoredProperty> shard1 = queryShards(client, all, Map.of(G, List.of(1)));
    assertThat(shard1).isNotEmpty().allSatisfy(p -> assertThat(p.getShard()).isEqualTo(1));
    long expected = java.util.stream.IntStream.range(0, 40)
        .filter(i -> ShardRouter.shardOf(new EntityKey(G, "n", "id" + i), SHARDS) == 1).count();
    assertThat(shard1).hasSize((int) expected);
    write(client, List.of(proto(record("id0", 100, 0).tombstone(7))));
    assertThat(queryShards(client, all, Map.of())).as("tombstones never match").hasSize(39);
  }

  @Test
  void writeAnswersAnOutcomePerRecord() {
    write(client, List.of(proto(record("held", 10, 1)), proto(record("tomb", 10, 1).tombstone(20))));
    StoredProperty fresh = proto(record("fresh", 10, 1));
    StoredProperty same = proto(record("held", 10, 1));
    StoredProperty older = proto(record("held", 9, 99));
    // Equal revisions are ordered by content hash: pick other bytes that lose the tie.
    long other = 2;
    while (dev.arbor.property.LastWriteWins.beats(record("held", 10, other), record("held", 10, 1))) {
      other++;
    }
    StoredProperty sameRevisionOtherBytes = proto(record("held", 10, other));
    StoredProperty liveUnderTombstone = proto(record("tomb", 10, 1));
    StoredProperty badSha = proto(record("bad", 10, 1)).toBuilder()
        .setSha(com.google.protobuf.ByteString.copyFrom(new byte[64])).build();

    WriteResponse r = DataNodeServiceGrpc.newBlockingStub(channel).write(WriteRequest.newBuilder()
        .addAllProperties(List.of(fresh, same, older, sameRevisionOtherBytes, liveUnderTombstone, badSha)).build());

    assertThat(r.getOutcomesList()).containsExactly(
        WriteOutcome.WRITE_OUTCOME_STORED,
        WriteOutcome.WRITE_OUTCOME_NOT_STORED_EQUAL,
        WriteOutcome.WRITE_OUTCOME_NOT_STORED_NEWER,
        WriteOutcome.WRITE_OUTCOME_NOT_STORED_NEWER,
        WriteOutcome.WRITE_OUTCOME_NOT_STORED_NEWER,
        WriteOutcome.WRITE_OUTCOME_REJECTED);
    assertThat(r.getStored()).as("the count older callers read").isEqualTo(1);
    assertThat(r.getRejection()).contains("properties[5].sha");
    assertThat(read(client, List.of(key("fresh")))).as("a rejected record does not sink the batch").hasSize(1);
    assertThat(read(client, List.of(key("bad")))).isEmpty();
    assertThat(StoredProperties.fromProto(read(client, List.of(key("held"))).get(0), "held").record())
        .isEqualTo(record("held", 10, 1));
  }

  @Test
  void writeOutcomesWithinOneBatchFollowLastWriteWins() {
    WriteReply r = write(client, List.of(
        proto(record("k", 10, 1)), proto(record("k", 12, 2)), proto(record("k", 11, 3)), proto(record("k", 12, 2))));
    assertThat(r.outcomes()).as("only the batch's winner is stored; an exact copy of it counts as held").containsExactly(
        WriteOutcome.WRITE_OUTCOME_NOT_STORED_NEWER,
        WriteOutcome.WRITE_OUTCOME_STORED,
        WriteOutcome.WRITE_OUTCOME_NOT_STORED_NEWER,
        WriteOutcome.WRITE_OUTCOME_NOT_STORED_EQUAL);
    assertThat(StoredProperties.fromProto(read(client, List.of(key("k"))).get(0), "k").record())
        .isEqualTo(record("k", 12, 2));
  }

  @Test
  void rejectsRecordsThatWouldCorruptTheReplica() {
    // Each record is answered on its own (REJECTED), with the reason of the first rejected one.
    StoredProperty good = proto(record("a", 10, 1));
    StoredProperty badSha = good.toBuilder().setSha(com.google.protobuf.ByteString.copyFrom(new byte[64])).build();
    WriteReply r = write(client, List.of(badSha));
    assertThat(r.outcomes()).containsExactly(WriteOutcome.WRITE_OUTCOME_REJECTED);
    assertThat(r.rejection()).contains("properties[0].sha");
    StoredProperty wrongShard = good.toBuilder().setShard((good.getShard() + 1) % SHARDS).build();
    assertThat(write(client, List.of(wrongShard)).rejection()).contains("properties[0].shard");
    StoredProperty otherGroup = good.toBuilder().setGroup("nope").build();
    assertThat(write(client, List.of(otherGroup)).rejection()).contains("properties[0].entity");
    StoredProperty unknownGroupRecord = StoredProperties.toProto("zz", 0,
        PropertyRecord.live(new EntityKey("zz", "n", "a"), 10, 10, new byte[] {1}));
    assertThat(write(client, List.of(unknownGroupRecord, unknownGroupRecord)).outcomes())
        .containsOnly(WriteOutcome.WRITE_OUTCOME_REJECTED);
    assertThat(read(client, List.of(key("a")))).as("no rejected record is stored").isEmpty();
    Key unknownGroup = Key.newBuilder().setGroup("zz").setShard(0).setEntity("zz/n/a").build();
    assertThatThrownBy(() -> read(client, List.of(unknownGroup))).isInstanceOf(NotFoundException.class);
  }

  @Test
  void rejectsRecordsOfAnotherIncarnationOfTheGroup() {
    var current = metadata.incarnation(G);
    assertThat(current).isPresent();
    PropertyRecord r = record("inc", 10, 1);
    var other = java.util.Optional.of(dev.arbor.property.GroupIncarnation.random());
    StoredProperty stale = StoredProperties.toProto(G, ShardRouter.shardOf(r.key(), SHARDS), r, other);
    WriteReply reply = write(client, List.of(stale));
    assertThat(reply.outcomes()).containsExactly(WriteOutcome.WRITE_OUTCOME_REJECTED);
    assertThat(reply.rejection()).contains("properties[0]").contains("incarnation " + current.get())
        .contains("not " + other.get()).contains("deleted and re-created");
    assertThat(read(client, List.of(key("inc")))).as("nothing of it is stored").isEmpty();

    StoredProperty good = StoredProperties.toProto(G, ShardRouter.shardOf(r.key(), SHARDS), r, current);
    assertThat(write(client, List.of(good)).outcomes()).containsExactly(WriteOutcome.WRITE_OUTCOME_STORED);
    assertThat(read(client, List.of(key("inc")))).singleElement()
        .satisfies(p -> assertThat(p.getGroupIncarnation().toByteArray()).isEqualTo(current.get().toBytes()));
  }

  @Test
  void anUnreachableNodeIsUnavailableNamingIt() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    try (DataNodeClient dead = new DataNodeClient(DataNode.of("d9", "127.0.0.1:" + port), Duration.ofSeconds(2))) {
      assertThatThrownBy(() -> read(dead, List.of(key("a"))))
          .isInstanceOf(UnavailableException.class)
          .hasMessageContaining("d9");
    }
  }

  /** This node's store behind a second service whose clock reads {@code now}, with a one-minute skew bound. */
  private final class BoundedNode implements AutoCloseable {
    final Server server;
    final ManagedChannel channel;

    BoundedNode(long now) throws Exception {
      SchemaLookup lookup = new SchemaLookup(metadata);
      server = BareServers.start("127.0.0.1", 0,
          new DataNodeGrpcService(lookup, store, new QueryPlanner(lookup, store),
              new IncarnationGate(store, new MetadataGroupIncarnations(metadata), Duration.ofSeconds(2)),
              dev.arbor.property.RevisionBound.of(() -> now, Duration.ofMinutes(1))));
      channel = ChannelFactory.plaintext().open("127.0.0.1:" + server.getPort(), MessageLimits.MAX_MESSAGE_BYTES);
    }

    @Override
    public void close() throws Exception {
      channel.shutdownNow();
      server.shutdownNow().awaitTermination();
    }
  }

  @Test
  void recordsTooFarAheadOfTheNodesClockAreRejected() throws Exception {
    long now = System.currentTimeMillis() * 1_000_000L;
    try (BoundedNode node = new BoundedNode(now)) {
      ManagedChannel ch = node.channel;
      StoredProperty ok = proto(record("near", now + Duration.ofSeconds(30).toNanos(), 1));
      StoredProperty ahead = proto(record("ahead", now + Duration.ofHours(1).toNanos(), 1));
      StoredProperty max = proto(record("max", Long.MAX_VALUE, 1));
      WriteResponse r = DataNodeServiceGrpc.newBlockingStub(ch).write(
          WriteRequest.newBuilder().addAllProperties(List.of(ok, ahead, max)).build());
      assertThat(r.getOutcomesList()).containsExactly(WriteOutcome.WRITE_OUTCOME_STORED,
          WriteOutcome.WRITE_OUTCOME_REJECTED, WriteOutcome.WRITE_OUTCOME_REJECTED);
      assertThat(r.getRejection()).contains("properties[1]").contains("ahead of this node's clock");
      assertThat(read(client, List.of(key("ahead"), key("max")))).isEmpty();
    }
  }

  @Test
  void aFreshDeleteStampedByAClockBehindIsRejectedButACopiedTombstoneIsNot() throws Exception {
    long now = System.currentTimeMillis() * 1_000_000L;
    try (BoundedNode node = new BoundedNode(now)) {
      ManagedChannel ch = node.channel;
      long hourAgo = now - Duration.ofHours(1).toNanos();
      StoredProperty oldTombstone = proto(record("behind", hourAgo - 5, 1).tombstoneAt(hourAgo, hourAgo));
      WriteResponse fresh = DataNodeServiceGrpc.newBlockingStub(ch).write(
          WriteRequest.newBuilder().addProperties(oldTombstone).setFresh(true).build());
      assertThat(fresh.getOutcomesList()).containsExactly(WriteOutcome.WRITE_OUTCOME_REJECTED);
      assertThat(fresh.getRejection()).contains("behind this node's clock");
      // The same tombstone copied from a replica (read repair, repair) is an old delete: stored.
      WriteResponse copied = DataNodeServiceGrpc.newBlockingStub(ch).write(
          WriteRequest.newBuilder().addProperties(oldTombstone).build());
      assertThat(copied.getOutcomesList()).containsExactly(WriteOutcome.WRITE_OUTCOME_STORED);
      // A fresh delete stamped now is stored.
      StoredProperty nowTombstone = proto(record("current", now - 5, 1).tombstoneAt(now, now));
      assertThat(DataNodeServiceGrpc.newBlockingStub(ch).write(
          WriteRequest.newBuilder().addProperties(nowTombstone).setFresh(true).build()).getOutcomesList())
          .containsExactly(WriteOutcome.WRITE_OUTCOME_STORED);
    }
  }

  @Test
  void aRecordWithATagKeyTwiceIsRejectedBeforeItIsLogged() {
    EntityKey key = new EntityKey(G, "n", "dup");
    Tag v = Tag.newBuilder().setKey("v").setValue(TagValue.newBuilder().setInt(Int.newBuilder().setValue(1))).build();
    Property p = Property.newBuilder()
        .setMetadata(Metadata.newBuilder().setGroup(G).setName("n").setCreateRevision(10).setModRevision(10))
        .setId("dup").addTags(v).addTags(v).build();
    StoredProperty dup = proto(PropertyRecord.live(key, 10, 10, p.toByteArray()));
    WriteResponse r = DataNodeServiceGrpc.newBlockingStub(channel).write(
        WriteRequest.newBuilder().addProperties(dup).addProperties(proto(record("fine", 10, 1))).build());
    // Found by the fuzz campaign: Lucene refused such a document after the WAL had it (INTERNAL).
    assertThat(r.getOutcomesList()).containsExactly(WriteOutcome.WRITE_OUTCOME_REJECTED, WriteOutcome.WRITE_OUTCOME_STORED);
    assertThat(r.getRejection()).contains("tag 'v' twice");
  }

  // ---------------------------------------------------------------------------------------------
  // Replies held to a byte budget: queries in pages, reads resumed.

  /** This node's store behind a second service whose replies are held to {@code budgetBytes}. */
  private final class BudgetNode implements AutoCloseable {
    final Server server;
    final ManagedChannel channel;
    final DataNodeClient client;

    BudgetNode(int budgetBytes) throws Exception {
      SchemaLookup lookup = new SchemaLookup(metadata);
      server = BareServers.start("127.0.0.1", 0,
          new DataNodeGrpcService(lookup, store, new QueryPlanner(lookup, store),
              new IncarnationGate(store, new MetadataGroupIncarnations(metadata), Duration.ofSeconds(2)),
              new ResponseBudget(budgetBytes)));
      channel = ChannelFactory.plaintext().open("127.0.0.1:" + server.getPort(), MessageLimits.MAX_MESSAGE_BYTES);
      client = new DataNodeClient(DataNode.of("small", "127.0.0.1:" + server.getPort()), Duration.ofSeconds(10));
    }

    DataNodeServiceGrpc.DataNodeServiceBlockingStub stub() {
      return DataNodeServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, java.util.concurrent.TimeUnit.SECONDS);
    }

    /** Every page of {@code query}, following the tokens until the node says it is done. */
    List<QueryShardsResponse> pages(QueryRequest query) {
      List<QueryShardsResponse> pages = new java.util.ArrayList<>();
      com.google.protobuf.ByteString token = com.google.protobuf.ByteString.EMPTY;
      do {
        QueryShardsResponse r = stub().queryShards(
            QueryShardsRequest.newBuilder().setQuery(query).setPageToken(token).build());
        pages.add(r);
        token = r.getNextPageToken();
        assertThat(pages).as("a page token that never ends").hasSizeLessThan(1000);
      } while (!token.isEmpty());
      return pages;
    }

    @Override
    public void close() throws Exception {
      client.close();
      channel.shutdownNow();
      server.shutdownNow().awaitTermination();
    }
  }

  /** A record whose string tag is {@code s} (none when null), padded to about {@code bytes}. */
  private static PropertyRecord sized(String id, long v, String s, int bytes) {
    Property.Builder p = Property.newBuilder()
        .setMetadata(Metadata.newBuilder().setGroup(G).setName("n").setCreateRevision(10).setModRevision(10))
        .setId(id)
        .addTags(Tag.newBuilder().setKey("v").setValue(TagValue.newBuilder().setInt(Int.newBuilder().setValue(v))));
    if (s != null) {
      p.addTags(Tag.newBuilder().setKey("s").setValue(TagValue.newBuilder()
          .setStr(dev.arbor.api.banyandb.model.v1.Str.newBuilder().setValue(s))));
    }
    p.addTags(Tag.newBuilder().setKey("pad").setValue(TagValue.newBuilder()
        .setBinaryData(com.google.protobuf.ByteString.copyFrom(new byte[Math.max(0, bytes)]))));
    return PropertyRecord.live(new EntityKey(G, "n", id), 10, 10, p.build().toByteArray());
  }

  private static List<String> entities(List<StoredProperty> props) {
    return props.stream().map(StoredProperty::getEntity).toList();
  }

  @Test
  void aResultLargerThanTheBudgetComesInPagesHoldingEachPropertyOnceInOrder() throws Exception {
    // 300 properties of ~300 bytes in 4 shards; int values repeat (ties broken by key), every
    // fifth has no string tag (sorted last both ways): a 4 KiB budget makes ~25 pages.
    write(client, java.util.stream.IntStream.range(0, 300).mapToObj(i -> proto(sized(
        String.format("p%03d", (i * 37) % 300), i % 7, i % 5 == 0 ? null : "s" + (i % 11), 300))).toList());
    QueryRequest byKey = QueryRequest.newBuilder().addGroups(G).setName("n").setLimit(1000).build();
    List<QueryRequest> orders = List.of(byKey,
        byKey.toBuilder().setOrderBy(dev.arbor.api.banyandb.property.v1.QueryOrder.newBuilder().setTagName("v")
            .setSort(dev.arbor.api.banyandb.model.v1.Sort.SORT_ASC)).build(),
        byKey.toBuilder().setOrderBy(dev.arbor.api.banyandb.property.v1.QueryOrder.newBuilder().setTagName("v")
            .setSort(dev.arbor.api.banyandb.model.v1.Sort.SORT_DESC)).build(),
        byKey.toBuilder().setOrderBy(dev.arbor.api.banyandb.property.v1.QueryOrder.newBuilder().setTagName("s")
            .setSort(dev.arbor.api.banyandb.model.v1.Sort.SORT_ASC)).build(),
        byKey.toBuilder().setOrderBy(dev.arbor.api.banyandb.property.v1.QueryOrder.newBuilder().setTagName("s")
            .setSort(dev.arbor.api.banyandb.model.v1.Sort.SORT_DESC)).build());
    try (BudgetNode small = new BudgetNode(4096)) {
      for (QueryRequest q : orders) {
        // The same query answered whole by the node with the default budget.
        List<String> whole = entities(queryShards(client, q, Map.of()));
        assertThat(whole).hasSize(300);
        List<QueryShardsResponse> pages = small.pages(q);
        assertThat(pages).as("order %s", q.getOrderBy()).hasSizeGreaterThan(10);
        List<String> paged = pages.stream().flatMap(p -> entities(p.getPropertiesList()).stream()).toList();
        assertThat(paged).as("order %s", q.getOrderBy()).containsExactlyElementsOf(whole);
        for (QueryShardsResponse p : pages) {
          assertThat(p.getSerializedSize() - p.getNextPageToken().size()).isLessThanOrEqualTo(4096);
          assertThat(p.getTruncated()).as("cut below the limit while more match").isEqualTo(!p.getNextPageToken().isEmpty());
        }
        assertThat(entities(queryShards(small.client, q, Map.of()))).as("the client pages by itself")
            .containsExactlyElementsOf(whole);
        QueryRequest first120 = q.toBuilder().setLimit(120).build();
        assertThat(entities(queryShards(small.client, first120, Map.of()))).containsExactlyElementsOf(whole.subList(0, 120));
      }
    }
  }

  @Test
  void aDirectQueryWithAHugeLimitGetsABoundedFlaggedReply() throws Exception {
    write(client, java.util.stream.IntStream.range(0, 60).mapToObj(i -> proto(sized("h" + i, i, "x", 1000))).toList());
    try (BudgetNode small = new BudgetNode(8192)) {
      // limit 2^32 - 1, read unsigned, from a caller that does not page.
      QueryShardsResponse r = small.stub().queryShards(QueryShardsRequest.newBuilder()
          .setQuery(QueryRequest.newBuilder().addGroups(G).setName("n").setLimit(-1)).build());
      assertThat(r.getPropertiesCount()).isBetween(1, 8);
      assertThat(r.getSerializedSize()).isLessThan(8192 + 512);
      assertThat(r.getTruncated()).isTrue();
      assertThat(r.getNextPageToken()).isNotEmpty();
    }
  }

  @Test
  void aPropertyLargerThanTheBudgetIsSentAloneAndPagingGoesOn() throws Exception {
    for (int i = 0; i < 5; i++) {
      write(client, List.of(proto(sized("big" + i, i, "x", 4096))));
    }
    try (BudgetNode small = new BudgetNode(1024)) {
      QueryRequest all = QueryRequest.newBuilder().addGroups(G).setName("n").build();
      List<QueryShardsResponse> pages = small.pages(all);
      assertThat(pages).hasSize(5).allSatisfy(p -> assertThat(p.getPropertiesCount()).isEqualTo(1));
      assertThat(queryShards(small.client, all, Map.of())).hasSize(5);
      List<Key> keys = java.util.stream.IntStream.range(0, 5).mapToObj(i -> key("big" + i)).toList();
      ReadResponse partial = small.stub().read(ReadRequest.newBuilder().addAllKeys(keys).setAllowPartial(true).build());
      assertThat(partial.getKeysRead()).isEqualTo(1);
      assertThat(partial.getPropertiesCount()).isEqualTo(1);
      assertThatThrownBy(() -> small.stub().read(ReadRequest.newBuilder().addAllKeys(keys).build()))
          .as("a caller that cannot see keys_read gets no silently short answer")
          .isInstanceOfSatisfying(io.grpc.StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.RESOURCE_EXHAUSTED);
            assertThat(e.getStatus().getDescription()).contains("--max-response-bytes");
          });
      assertThat(entities(read(small.client, keys))).as("the client resumes where a reply stopped")
          .containsExactlyElementsOf(keys.stream().map(Key::getEntity).toList());
    }
  }

  @Test
  void aReadOfTooManyKeysOrAForeignPageTokenIsRefusedNamingTheField() {
    List<Key> many = java.util.stream.IntStream.rangeClosed(0, InternalApiLimits.MAX_READ_KEYS)
        .mapToObj(i -> key(i == 7777 ? "a" : "k" + i)).toList();
    assertThatThrownBy(() -> DataNodeServiceGrpc.newBlockingStub(channel).read(ReadRequest.newBuilder().addAllKeys(many).build()))
        .isInstanceOfSatisfying(io.grpc.StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.INVALID_ARGUMENT);
          assertThat(e.getStatus().getDescription()).startsWith("keys: ").contains("10000");
        });
    write(client, List.of(proto(record("a", 10, 1))));
    assertThat(entities(read(client, many))).as("the client splits a large read").containsExactly(key("a").getEntity());

    QueryRequest byKey = QueryRequest.newBuilder().addGroups(G).setName("n").build();
    com.google.protobuf.ByteString keyToken = PageToken.encode(new Object[] {new org.apache.lucene.util.BytesRef("g/n/a")});
    QueryRequest byTag = byKey.toBuilder().setOrderBy(dev.arbor.api.banyandb.property.v1.QueryOrder.newBuilder()
        .setTagName("v")).build();
    for (com.google.protobuf.ByteString bad : List.of(keyToken, com.google.protobuf.ByteString.copyFromUtf8("garbage"))) {
      assertThatThrownBy(() -> DataNodeServiceGrpc.newBlockingStub(channel).queryShards(
          QueryShardsRequest.newBuilder().setQuery(byTag).setPageToken(bad).build()))
          .isInstanceOfSatisfying(io.grpc.StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.INVALID_ARGUMENT);
            assertThat(e.getStatus().getDescription()).startsWith("page_token");
          });
    }
    assertThat(DataNodeServiceGrpc.newBlockingStub(channel).queryShards(
        QueryShardsRequest.newBuilder().setQuery(byKey).setPageToken(keyToken).build()).getPropertiesCount())
        .as("strictly after the token's key").isZero();
  }

  // The client is asynchronous; these tests of the service wait for each answer.
  private static WriteReply write(DataNodeClient c, List<StoredProperty> records) {
    return PeerFutures.await(c.write(records, false, c.deadline()));
  }

  private static List<StoredProperty> read(DataNodeClient c, List<Key> keys) {
    return PeerFutures.await(c.read(keys, c.deadline()));
  }

  private static List<StoredProperty> queryShards(DataNodeClient c, QueryRequest q, Map<String, List<Integer>> shards) {
    return PeerFutures.await(c.queryShards(q, shards, c.deadline()));
  }
}
