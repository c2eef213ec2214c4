package dev.arbor.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
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
import dev.arbor.api.cluster.v1.ReadRequest;
import dev.arbor.api.cluster.v1.ShardList;
import dev.arbor.api.cluster.v1.StoredProperty;
import dev.arbor.api.cluster.v1.WriteOutcome;
import dev.arbor.api.cluster.v1.WriteRequest;
import dev.arbor.api.cluster.v1.WriteResponse;
import dev.arbor.cluster.StoredProperties;
import dev.arbor.datanode.DataNodeGrpcService;
import dev.arbor.metadata.EmbeddedMetadataStore;
import dev.arbor.metadata.MetadataGroupIncarnations;
import dev.arbor.metadata.SchemaLookup;
import dev.arbor.property.ContentHash;
import dev.arbor.property.EntityKey;
import dev.arbor.property.GroupIncarnation;
import dev.arbor.property.HybridClock;
import dev.arbor.property.PropertyRecord;
import dev.arbor.property.ShardRouter;
import dev.arbor.query.QueryPlanner;
import dev.arbor.storage.IncarnationGate;
import dev.arbor.storage.PropertyStore;
import dev.arbor.storage.StoreEvents;
import dev.arbor.transport.ChannelFactory;
import dev.arbor.transport.BareServers;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutated internal {@code DataNodeService} calls (Write, Read, QueryShards) against a real data
 * node service and store over loopback gRPC. A record the service answers STORED must be one a
 * correct peer could have sent (right group, entity, shard, incarnation, non-negative delete time,
 * hash of its source); anything else must be REJECTED. Canary records written first stay intact.
 */
class InternalRpcFuzzTest {
  private static final String TARGET = "internal-rpc";
  private static final int CI_INPUTS = 10_000;
  private static final String G = "g";
  private static final int SHARDS = 4;
  private static final Set<Status.Code> ALLOWED = EnumSet.of(Status.Code.OK, Status.Code.INVALID_ARGUMENT,
      Status.Code.NOT_FOUND, Status.Code.FAILED_PRECONDITION, Status.Code.RESOURCE_EXHAUSTED,
      Status.Code.OUT_OF_RANGE, Status.Code.ABORTED);

  /**
   * How long the service waits for metadata to show an unknown group or a claimed incarnation.
   * Nothing changes metadata here, so the wait (2 s in production) would only turn each mutated
   * group name or incarnation into a 2 s call.
   */
  private static final Duration METADATA_LAG = Duration.ZERO;

  @TempDir Path tmp;
  private Scratch scratch;
  private Path dir;

  @BeforeEach
  void scratch() throws IOException {
    scratch = Scratch.in(tmp);
    dir = scratch.dir();
  }

  @AfterEach
  void cleanUp() throws IOException {
    scratch.close();
  }

  @Test
  void invalidRecordsAreRejectedAndCanariesSurvive() throws Exception {
    int planned = Fuzz.iterations(CI_INPUTS);
    Random rnd = Fuzz.random(TARGET);
    Mutator m = new Mutator(rnd);
    ProtoMutator pm = new ProtoMutator(m);
    Fuzz.Run run = new Fuzz.Run(TARGET);
    EmbeddedMetadataStore metadata = EmbeddedMetadataStore.open(dir.resolve("meta"), HybridClock.system());
    metadata.createGroup(Group.newBuilder().setMetadata(Metadata.newBuilder().setName(G))
        .setCatalog(Catalog.CATALOG_PROPERTY).setResourceOpts(ResourceOpts.newBuilder().setShardNum(SHARDS)).build());
    metadata.createSchema(dev.arbor.api.banyandb.database.v1.Property.newBuilder()
        .setMetadata(Metadata.newBuilder().setGroup(G).setName("n"))
        .addTags(TagSpec.newBuilder().setName("v").setType(TagType.TAG_TYPE_INT)).build());
    GroupIncarnation incarnation = metadata.incarnation(G).orElseThrow();
    PropertyStore store = PropertyStore.open(dir, new MetadataGroupIncarnations(metadata), new StoreEvents());
    SchemaLookup lookup = new SchemaLookup(metadata);
    Server server = BareServers.start("127.0.0.1", 0,
        new DataNodeGrpcService(lookup, store, new QueryPlanner(lookup, store),
            new IncarnationGate(store, new MetadataGroupIncarnations(metadata), METADATA_LAG), METADATA_LAG));
    ManagedChannel channel = ChannelFactory.plaintext().withInterceptors(Deadlines.PER_CALL)
        .open("127.0.0.1:" + server.getPort(), 64 << 20);
    try {
      var stub = DataNodeServiceGrpc.newBlockingStub(channel);
      List<StoredProperty> canaries = new ArrayList<>();
      for (int i = 0; i < 16; i++) {
        canaries.add(proto(record("canary" + i, 100 + i, i), Optional.of(incarnation)));
      }
      WriteResponse first = stub.write(WriteRequest.newBuilder().addAllProperties(canaries).build());
      assertThat(first.getStored()).isEqualTo(16);
      Map<String, Integer> stats = new TreeMap<>();
      for (int i = 0; i < planned; i++) {
        int kind = rnd.nextInt(10);
        Status status;
        if (kind < 7) {
          WriteRequest req = mutatedWrite(pm, m, i, incarnation);
          if (req.toByteString().toStringUtf8().contains("canary")) {
            run.tried();
            continue; // aimed at a canary key: a legitimate overwrite, not what this checks
          }
          status = call(() -> checkWrite(stub.write(req), req, incarnation, stub));
        } else if (kind < 9) {
          ReadRequest read = pm.either(ReadRequest.newBuilder().addKeys(key("x" + i)).addKeys(key("canary1")).build(),
              null);
          status = call(() -> stub.read(read));
        } else {
          QueryShardsRequest q = pm.either(QueryShardsRequest.newBuilder()
              .setQuery(QueryRequest.newBuilder().addGroups(G).setName("n").setLimit(5))
              .putShards(G, ShardList.newBuilder().addShards(1).build()).build(), null);
          status = call(() -> stub.queryShards(q));
        }
        stats.merge(String.valueOf(status.getCode()), 1, Integer::sum);
        assertThat(status.getCode()).as("input #%d: %s", i, Fuzz.abbreviate(status.getDescription()))
            .isIn(ALLOWED);
        run.tried();
        if (i % 2_000 == 1_999) {
          assertCanaries(stub, canaries);
        }
      }
      System.out.println("[fuzz] " + TARGET + " statuses " + stats);
      assertCanaries(stub, canaries);
      run.finish(planned);
    } finally {
      channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      store.close();
    }
  }

  /** A valid three-record batch, mutated; half the time the hashes are fixed up to reach the later checks. */
  private static WriteRequest mutatedWrite(ProtoMutator pm, Mutator m, int i, GroupIncarnation inc) {
    WriteRequest base = WriteRequest.newBuilder()
        .addProperties(proto(record("a" + i, 10, 1), Optional.of(inc)))
        .addProperties(proto(record("b" + i, 11, 2), Optional.empty()))
        .addProperties(proto(record("c" + i, 12, 3).tombstone(500), Optional.of(inc)))
        .build();
    WriteRequest req = pm.either(base, null);
    if (m.random().nextBoolean()) {
      WriteRequest.Builder b = req.toBuilder();
      for (int k = 0; k < b.getPropertiesCount(); k++) {
        StoredProperty p = b.getProperties(k);
        b.setProperties(k, p.toBuilder().setSha(ByteString.copyFrom(
            ContentHash.of(p.getSource().toByteArray(), p.getDeleteTime()))));
      }
      req = b.build();
    }
    return req;
  }

  /** Every STORED record must be valid, and must read back as sent. */
  private static Object checkWrite(WriteResponse resp, WriteRequest req, GroupIncarnation inc,
      DataNodeServiceGrpc.DataNodeServiceBlockingStub stub) {
    assertThat(resp.getOutcomesCount()).isEqualTo(req.getPropertiesCount());
    for (int k = 0; k < req.getPropertiesCount(); k++) {
      StoredProperty p = req.getProperties(k);
      String problem = invalidity(p, inc);
      WriteOutcome o = resp.getOutcomes(k);
      if (problem != null) {
        assertThat(o).as("record %d is invalid (%s) yet answered %s: %s", k, problem, o, Fuzz.abbreviate(p))
            .isEqualTo(WriteOutcome.WRITE_OUTCOME_REJECTED);
      }
      if (o == WriteOutcome.WRITE_OUTCOME_STORED) {
        List<StoredProperty> back = stub.read(ReadRequest.newBuilder().addKeys(Key.newBuilder().setGroup(p.getGroup())
            .setShard(p.getShard()).setEntity(p.getEntity())).build()).getPropertiesList();
        assertThat(back).as("a STORED record reads back").isNotEmpty();
      }
    }
    return resp;
  }

  /** Why a correct peer could not have sent {@code p}, or null. */
  static String invalidity(StoredProperty p, GroupIncarnation inc) {
    if (!p.getGroup().equals(G)) {
      return "unknown group";
    }
    EntityKey key;
    try {
      key = EntityKey.parse(p.getEntity());
    } catch (IllegalArgumentException e) {
      return "entity";
    }
    if (!key.group().equals(G)) {
      return "entity of another group";
    }
    if (!dev.arbor.property.Names.isValidName(key.name()) || dev.arbor.property.Names.idProblem(key.id()).isPresent()) {
      return "name or id";
    }
    if (p.getShard() != ShardRouter.shardOf(key, SHARDS)) {
      return "shard";
    }
    if (p.getDeleteTime() < 0) {
      return "delete time";
    }
    if (!Arrays.equals(p.getSha().toByteArray(), ContentHash.of(p.getSource().toByteArray(), p.getDeleteTime()))) {
      return "sha";
    }
    if (p.getDeleteTime() == 0 && !parses(p.getSource())) {
      return "source is not a property";
    }
    if (!p.getGroupIncarnation().isEmpty() && !Arrays.equals(p.getGroupIncarnation().toByteArray(), inc.toBytes())) {
      return "incarnation";
    }
    return null;
  }

  private static boolean parses(ByteString source) {
    try {
      Property.parseFrom(source);
      return true;
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      return false;
    }
  }

  private static Status call(java.util.function.Supplier<?> r) {
    try {
      r.get();
      return Status.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus();
    }
  }

  private static void assertCanaries(DataNodeServiceGrpc.DataNodeServiceBlockingStub stub,
      List<StoredProperty> canaries) {
    ReadRequest.Builder read = ReadRequest.newBuilder();
    for (int i = 0; i < canaries.size(); i++) {
      read.addKeys(key("canary" + i));
    }
    List<StoredProperty> got = new ArrayList<>(stub.read(read.build()).getPropertiesList());
    got.sort((a, b) -> a.getModRevision() < b.getModRevision() ? -1 : 1);
    assertThat(got).as("canary records after fuzzing").containsExactlyElementsOf(canaries);
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

  private static StoredProperty proto(PropertyRecord r, Optional<GroupIncarnation> inc) {
    return StoredProperties.toProto(G, ShardRouter.shardOf(r.key(), SHARDS), r, inc);
  }

  private static Key key(String id) {
    EntityKey k = new EntityKey(G, "n", id);
    return Key.newBuilder().setGroup(G).setShard(ShardRouter.shardOf(k, SHARDS)).setEntity(k.entity()).build();
  }

}
