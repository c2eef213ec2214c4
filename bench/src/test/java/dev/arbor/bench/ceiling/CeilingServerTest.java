package dev.arbor.bench.ceiling;

import dev.arbor.transport.ChannelFactory;
import dev.arbor.transport.MessageLimits;
import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.api.banyandb.common.v1.Metadata;
import dev.arbor.api.banyandb.model.v1.Str;
import dev.arbor.api.banyandb.model.v1.Tag;
import dev.arbor.api.banyandb.model.v1.TagValue;
import dev.arbor.api.banyandb.property.v1.ApplyRequest;
import dev.arbor.api.banyandb.property.v1.ApplyResponse;
import dev.arbor.api.banyandb.property.v1.Property;
import dev.arbor.api.banyandb.property.v1.PropertyServiceGrpc;
import dev.arbor.api.banyandb.property.v1.QueryRequest;
import dev.arbor.server.ServingEndpoints;
import io.grpc.ManagedChannel;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The ceiling speaks the property API (valid answers, nothing stored) and reports healthy. */
class CeilingServerTest {

  @Test
  void answersApplyAndQueryWithoutStoringAndIsHealthy() throws Exception {
    ServingEndpoints endpoints = CeilingServer.start("127.0.0.1", 0, 0);
    ManagedChannel channel = ChannelFactory.plaintext()
        .open("127.0.0.1:" + endpoints.grpcPort(), MessageLimits.MAX_MESSAGE_BYTES);
    try {
      PropertyServiceGrpc.PropertyServiceBlockingStub stub = PropertyServiceGrpc
          .newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
      Tag tag = Tag.newBuilder().setKey("data")
          .setValue(TagValue.newBuilder().setStr(Str.newBuilder().setValue("x"))).build();
      ApplyResponse r = stub.apply(ApplyRequest.newBuilder().setProperty(Property.newBuilder()
          .setMetadata(Metadata.newBuilder().setGroup("g").setName("n")).setId("1")
          .addTags(tag).addTags(tag.toBuilder().setKey("other"))).build());
      assertThat(r.getCreated()).isTrue();
      assertThat(r.getTagsNum()).isEqualTo(2);
      assertThat(stub.query(QueryRequest.newBuilder().addGroups("g").setName("n").addIds("1")
          .build()).getPropertiesCount()).isZero();

      HttpResponse<String> health = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + endpoints.httpPort() + "/health")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(health.statusCode()).isEqualTo(200);
    } finally {
      channel.shutdownNow();
      endpoints.close();
    }
  }
}
