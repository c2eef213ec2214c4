package dev.arbor.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.MethodDescriptor;
import com.google.protobuf.Descriptors.ServiceDescriptor;
import dev.arbor.api.banyandb.common.v1.Common;
import dev.arbor.api.banyandb.database.v1.Database;
import dev.arbor.api.banyandb.property.v1.PropertyOuterClass;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The route table against the BanyanDB services Arbor serves and against BanyanDB 0.9's gateway. */
class GatewayRoutesTest {
  /** Methods BanyanDB's gateway has no route for (its docs: use HEAD on Get instead). */
  private static final List<String> NO_UPSTREAM_ROUTE = List.of(
      "banyandb.database.v1.GroupRegistryService/Exist", "banyandb.database.v1.PropertyRegistryService/Exist");

  private static Map<String, MethodDescriptor> publicMethods() {
    Map<String, MethodDescriptor> methods = new HashMap<>();
    Stream.of(Common.getDescriptor(), Database.getDescriptor(), PropertyOuterClass.getDescriptor())
        .flatMap(f -> f.getServices().stream())
        .forEach((ServiceDescriptor s) -> s.getMethods()
            .forEach(m -> methods.put(s.getFullName() + "/" + m.getName(), m)));
    return methods;
  }

  @Test
  void everyPublicRpcWithAnUpstreamRouteHasItsHttpTwin() {
    Map<String, MethodDescriptor> methods = publicMethods();
    assertThat(methods).hasSizeGreaterThanOrEqualTo(16);
    List<String> routed = GatewayRoutes.BANYANDB.stream().map(ApiRoute::grpcMethod).toList();
    for (String m : methods.keySet()) {
      if (NO_UPSTREAM_ROUTE.contains(m)) {
        assertThat(routed).as(m).doesNotContain(m);
      } else {
        assertThat(routed).as("HTTP route of " + m).containsOnlyOnce(m);
      }
    }
    assertThat(methods.keySet()).containsAll(routed);
  }

  /** The paths and methods of BanyanDB 0.9's google.api.http annotations, under /api. */
  @Test
  void routesAreBanyanDbGatewayRoutes() {
    List<String> actual = new ArrayList<>();
    for (ApiRoute r : GatewayRoutes.BANYANDB) {
      actual.add(r.httpMethod() + " " + r.template() + (r.body() ? " body" : ""));
    }
    assertThat(actual).containsExactlyInAnyOrder(
        "PUT /api/v1/property/data/{property.metadata.group}/{property.metadata.name}/{property.id} body",
        "DELETE /api/v1/property/data/{group}/{name}/{id}",
        "POST /api/v1/property/data/query body",
        "POST /api/v1/property/schema body",
        "PUT /api/v1/property/schema/{property.metadata.group}/{property.metadata.name} body",
        "DELETE /api/v1/property/schema/{metadata.group}/{metadata.name}",
        "GET /api/v1/property/schema/{metadata.group}/{metadata.name}",
        "GET /api/v1/property/schema/lists/{group}",
        "POST /api/v1/group/schema body",
        "PUT /api/v1/group/schema/{group.metadata.name} body",
        "DELETE /api/v1/group/schema/{group}",
        "GET /api/v1/group/schema/{group}",
        "GET /api/v1/group/schema/lists",
        "GET /api/v1/common/api/version");
  }

  @Test
  void everyPathVariableIsAStringFieldOfTheRequest() {
    Map<String, MethodDescriptor> methods = publicMethods();
    for (ApiRoute r : GatewayRoutes.BANYANDB) {
      Descriptor input = methods.get(r.grpcMethod()).getInputType();
      for (String path : r.variables()) {
        Descriptor d = input;
        FieldDescriptor f = null;
        for (String part : path.split("\\.")) {
          assertThat(d).as(r.template() + ": " + path).isNotNull();
          f = d.findFieldByName(part);
          assertThat(f).as(r.template() + ": " + part + " in " + d.getName()).isNotNull();
          d = f.getJavaType() == FieldDescriptor.JavaType.MESSAGE ? f.getMessageType() : null;
        }
        assertThat(f.getType()).as(r.template() + ": " + path).isEqualTo(FieldDescriptor.Type.STRING);
      }
    }
  }

  @Test
  void aLiteralSegmentWinsOverAVariable() {
    GatewayRoutes.Match m = GatewayRoutes.find(GatewayRoutes.BANYANDB, "GET",
        List.of("api", "v1", "group", "schema", "lists")).orElseThrow();
    assertThat(m.route().grpcMethod()).endsWith("GroupRegistryService/List");
    GatewayRoutes.Match g = GatewayRoutes.find(GatewayRoutes.BANYANDB, "GET",
        List.of("api", "v1", "group", "schema", "sw")).orElseThrow();
    assertThat(g.fields()).containsEntry("group", "sw");
    assertThat(GatewayRoutes.find(GatewayRoutes.BANYANDB, "GET", List.of("api", "v1", "group", "schema", "")))
        .as("an empty variable does not match").isEmpty();
  }
}
