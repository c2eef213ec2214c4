package dev.arbor.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import dev.arbor.api.banyandb.common.v1.Catalog;
import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.api.banyandb.common.v1.Metadata;
import dev.arbor.api.banyandb.common.v1.ResourceOpts;
import dev.arbor.api.banyandb.database.v1.*;
import dev.arbor.api.banyandb.model.v1.Condition;
import dev.arbor.api.banyandb.model.v1.Criteria;
import dev.arbor.api.banyandb.model.v1.Int;
import dev.arbor.api.banyandb.model.v1.LogicalExpression;
import dev.arbor.api.banyandb.model.v1.Str;
import dev.arbor.api.banyandb.model.v1.StrArray;
import dev.arbor.api.banyandb.model.v1.Tag;
import dev.arbor.api.banyandb.model.v1.TagValue;
import dev.arbor.api.banyandb.property.v1.ApplyRequest;
import dev.arbor.api.banyandb.property.v1.DeleteRequest;
import dev.arbor.api.banyandb.property.v1.Property;
import dev.arbor.api.banyandb.property.v1.PropertyServiceGrpc;
import dev.arbor.api.banyandb.property.v1.QueryOrder;
import dev.arbor.api.banyandb.property.v1.QueryRequest;
import dev.arbor.server.ServerConfig;
import dev.arbor.server.StandaloneServer;
import dev.arbor.transport.ChannelFactory;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutated public requests (property Apply/Query/Delete, group and schema registry calls) against
 * one real standalone server over real gRPC. Every answer must be OK or a client-error status
 * (never UNKNOWN or INTERNAL, never a timeout), and canary properties written before the campaign
 * stay readable and unchanged.
 */
class PublicApiFuzzTest {
  private static final String TARGET = "public-api";
  private static final int CI_INPUTS = 10_000;
  /** What a bad request may get; INTERNAL, UNKNOWN, UNAVAILABLE or DEADLINE_EXCEEDED is a crash or hang. */
  private static final Set<Status.Code> ALLOWED = EnumSet.of(Status.Code.OK, Status.Code.INVALID_ARGUMENT,
      Status.Code.NOT_FOUND, Status.Code.ALREADY_EXISTS, Status.Code.FAILED_PRECONDITION,
      Status.Code.RESOURCE_EXHAUSTED, Status.Code.OUT_OF_RANGE, Status.Code.ABORTED);
  private static final String CANARY_GROUP = "canarygrp";
  private static final String GROUP = "fz";
  private static final String SCHEMA = "s";

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

  private GroupRegistryServiceGrpc.GroupRegistryServiceBlockingStub groups;
  private PropertyRegistryServiceGrpc.PropertyRegistryServiceBlockingStub schemas;
  private PropertyServiceGrpc.PropertyServiceBlockingStub props;

  /** One kind of call: a valid request to mutate and how to send it. */
  private record Op(String name, Message base, Function<Message, Object> call) {}

  @Test
  void mutatedRequestsGetClearStatusesAndLoseNothing() throws Exception {
    int planned = Fuzz.iterations(CI_INPUTS);
    Mutator m = new Mutator(Fuzz.random(TARGET));
    ProtoMutator pm = new ProtoMutator(m);
    Fuzz.Run run = new Fuzz.Run(TARGET);
    StandaloneServer server =
        StandaloneServer.start(ServerConfig.defaults(dir).withHost("127.0.0.1").withPorts(0, 0));
    ManagedChannel channel = ChannelFactory.plaintext().withInterceptors(Deadlines.PER_CALL)
        .open("127.0.0.1:" + server.grpcPort(), 64 << 20);
    try {
      groups = GroupRegistryServiceGrpc.newBlockingStub(channel);
      schemas = PropertyRegistryServiceGrpc.newBlockingStub(channel);
      props = PropertyServiceGrpc.newBlockingStub(channel);
      createGroupAndSchema(CANARY_GROUP);
      createGroupAndSchema(GROUP);
      Map<String, Property> canaries = writeCanaries();
      List<Op> ops = ops();
      Map<String, Integer> codes = new TreeMap<>();
      for (int i = 0; i < planned; i++) {
        Op op = ops.get(m.random().nextInt(ops.size()));
        Message req = pm.either(op.base(), null);
        if (req.toByteString().toStringUtf8().contains(CANARY_GROUP)) {
          continue; // a mutation may not aim at the canaries themselves; that would be a real change
        }
        Status status = send(op, req);
        Status.Code code = status.getCode();
        codes.merge(op.name() + ":" + code, 1, Integer::sum);
        assertThat(code).as("%s #%d: %s (%s) for %s", op.name(), i, code,
            Fuzz.abbreviate(status.getDescription()), Fuzz.abbreviate(req)).isIn(ALLOWED);
        run.tried();
        if (i % 2_000 == 1_999) {
          assertCanaries(canaries);
        }
      }
      System.out.println("[fuzz] " + TARGET + " statuses " + codes);
      assertCanaries(canaries);
      run.finish(planned - planned / 100);
    } finally {
      channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      server.close();
    }
  }

  private Status send(Op op, Message req) {
    try {
      op.call().apply(req);
      return Status.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus();
    }
  }

  private List<Op> ops() {
    Property prop = property(GROUP, "p1", 7);
    QueryRequest query = QueryRequest.newBuilder().addGroups(GROUP).setName(SCHEMA).addIds("p1")
        .setCriteria(Criteria.newBuilder().setLe(LogicalExpression.newBuilder()
            .setOp(LogicalExpression.LogicalOp.LOGICAL_OP_AND)
            .setLeft(cond("k", Condition.BinaryOp.BINARY_OP_EQ, str("v")))
            .setRight(cond("n", Condition.BinaryOp.BINARY_OP_GE, TagValue.newBuilder()
                .setInt(Int.newBuilder().setValue(1)).build()))))
        .addTagProjection("k").setLimit(10).setOrderBy(QueryOrder.newBuilder().setTagName("n")).build();
    Group group = group("g1");
    Metadata schemaMeta = Metadata.newBuilder().setGroup(GROUP).setName(SCHEMA).build();
    dev.arbor.api.banyandb.database.v1.Property schema = schema(GROUP, "s2");
    List<Op> ops = new ArrayList<>();
    ops.add(new Op("apply", ApplyRequest.newBuilder().setProperty(prop)
        .setStrategy(ApplyRequest.Strategy.STRATEGY_MERGE).build(), r -> props.apply((ApplyRequest) r)));
    ops.add(new Op("apply-replace", ApplyRequest.newBuilder().setProperty(prop)
        .setStrategy(ApplyRequest.Strategy.STRATEGY_REPLACE).build(), r -> props.apply((ApplyRequest) r)));
    ops.add(new Op("query", query, r -> props.query((QueryRequest) r)));
    ops.add(new Op("delete", DeleteRequest.newBuilder().setGroup(GROUP).setName(SCHEMA).setId("p1").build(),
        r -> props.delete((DeleteRequest) r)));
    ops.add(new Op("group-create", GroupRegistryServiceCreateRequest.newBuilder().setGroup(group).build(),
        r -> groups.create((GroupRegistryServiceCreateRequest) r)));
    ops.add(new Op("group-update", GroupRegistryServiceUpdateRequest.newBuilder().setGroup(group("g1")).build(),
        r -> groups.update((GroupRegistryServiceUpdateRequest) r)));
    ops.add(new Op("group-delete", GroupRegistryServiceDeleteRequest.newBuilder().setGroup("g1").build(),
        r -> groups.delete((GroupRegistryServiceDeleteRequest) r)));
    ops.add(new Op("group-get", GroupRegistryServiceGetRequest.newBuilder().setGroup(GROUP).build(),
        r -> groups.get((GroupRegistryServiceGetRequest) r)));
    ops.add(new Op("group-list", GroupRegistryServiceListRequest.getDefaultInstance(),
        r -> groups.list((GroupRegistryServiceListRequest) r)));
    ops.add(new Op("group-exist", GroupRegistryServiceExistRequest.newBuilder().setGroup(GROUP).build(),
        r -> groups.exist((GroupRegistryServiceExistRequest) r)));
    ops.add(new Op("schema-create", PropertyRegistryServiceCreateRequest.newBuilder().setProperty(schema).build(),
        r -> schemas.create((PropertyRegistryServiceCreateRequest) r)));
    ops.add(new Op("schema-update", PropertyRegistryServiceUpdateRequest.newBuilder().setProperty(schema).build(),
        r -> schemas.update((PropertyRegistryServiceUpdateRequest) r)));
    ops.add(new Op("schema-delete", PropertyRegistryServiceDeleteRequest.newBuilder()
        .setMetadata(Metadata.newBuilder().setGroup(GROUP).setName("s2")).build(),
        r -> schemas.delete((PropertyRegistryServiceDeleteRequest) r)));
    ops.add(new Op("schema-get", PropertyRegistryServiceGetRequest.newBuilder().setMetadata(schemaMeta).build(),
        r -> schemas.get((PropertyRegistryServiceGetRequest) r)));
    ops.add(new Op("schema-list", PropertyRegistryServiceListRequest.newBuilder().setGroup(GROUP).build(),
        r -> schemas.list((PropertyRegistryServiceListRequest) r)));
    ops.add(new Op("schema-exist", PropertyRegistryServiceExistRequest.newBuilder().setMetadata(schemaMeta).build(),
        r -> schemas.exist((PropertyRegistryServiceExistRequest) r)));
    return ops;
  }

  private void createGroupAndSchema(String name) {
    groups.create(GroupRegistryServiceCreateRequest.newBuilder().setGroup(group(name)).build());
    schemas.create(PropertyRegistryServiceCreateRequest.newBuilder().setProperty(schema(name, SCHEMA)).build());
  }

  private Map<String, Property> writeCanaries() {
    Map<String, Property> out = new TreeMap<>();
    for (int i = 0; i < 16; i++) {
      Property p = property(CANARY_GROUP, "c" + i, i);
      props.apply(ApplyRequest.newBuilder().setProperty(p).build());
      out.put(p.getId(), p);
    }
    return out;
  }

  private void assertCanaries(Map<String, Property> canaries) {
    List<Property> got = props.query(QueryRequest.newBuilder().addGroups(CANARY_GROUP).setName(SCHEMA)
        .setLimit(100).build()).getPropertiesList();
    Map<String, List<Tag>> byId = new TreeMap<>();
    got.forEach(p -> byId.put(p.getId(), p.getTagsList()));
    Map<String, List<Tag>> want = new TreeMap<>();
    canaries.forEach((id, p) -> want.put(id, p.getTagsList()));
    assertThat(byId).as("canary properties after fuzzing").isEqualTo(want);
  }

  private static Group group(String name) {
    return Group.newBuilder().setMetadata(Metadata.newBuilder().setName(name)).setCatalog(Catalog.CATALOG_PROPERTY)
        .setResourceOpts(ResourceOpts.newBuilder().setShardNum(2)).build();
  }

  private static dev.arbor.api.banyandb.database.v1.Property schema(String group, String name) {
    return dev.arbor.api.banyandb.database.v1.Property.newBuilder()
        .setMetadata(Metadata.newBuilder().setGroup(group).setName(name))
        .addTags(TagSpec.newBuilder().setName("k").setType(TagType.TAG_TYPE_STRING))
        .addTags(TagSpec.newBuilder().setName("n").setType(TagType.TAG_TYPE_INT))
        .addTags(TagSpec.newBuilder().setName("a").setType(TagType.TAG_TYPE_STRING_ARRAY))
        .addTags(TagSpec.newBuilder().setName("b").setType(TagType.TAG_TYPE_DATA_BINARY))
        .build();
  }

  private static Property property(String group, String id, long n) {
    return Property.newBuilder().setMetadata(Metadata.newBuilder().setGroup(group).setName(SCHEMA)).setId(id)
        .addTags(Tag.newBuilder().setKey("k").setValue(str("v" + n)))
        .addTags(Tag.newBuilder().setKey("n").setValue(TagValue.newBuilder().setInt(Int.newBuilder().setValue(n))))
        .addTags(Tag.newBuilder().setKey("a").setValue(TagValue.newBuilder()
            .setStrArray(StrArray.newBuilder().addValue("x").addValue("y"))))
        .addTags(Tag.newBuilder().setKey("b").setValue(TagValue.newBuilder()
            .setBinaryData(ByteString.copyFromUtf8("bin" + n))))
        .build();
  }

  private static TagValue str(String v) {
    return TagValue.newBuilder().setStr(Str.newBuilder().setValue(v)).build();
  }

  private static Criteria cond(String name, Condition.BinaryOp op, TagValue value) {
    return Criteria.newBuilder().setCondition(Condition.newBuilder().setName(name).setOp(op).setValue(value))
        .build();
  }
}
