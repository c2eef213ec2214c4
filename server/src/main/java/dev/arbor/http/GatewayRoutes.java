package dev.arbor.http;

import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * BanyanDB 0.9's gateway routes for the property API (and the group, schema and version routes
 * a property user needs), with the paths and field bindings of their {@code google.api.http}
 * annotations. The registries' {@code Exist} methods have no route upstream either (clients are
 * told to use {@code HEAD} on {@code Get}), so none here.
 */
public final class GatewayRoutes {
  private static final String PROPERTY = "banyandb.property.v1.PropertyService/";
  private static final String GROUPS = "banyandb.database.v1.GroupRegistryService/";
  private static final String SCHEMAS = "banyandb.database.v1.PropertyRegistryService/";

  /** Every route; a literal segment wins over a variable (the group named "lists" is reached by Get). */
  public static final List<ApiRoute> BANYANDB = List.of(
      new ApiRoute("PUT", "/api/v1/property/data/{property.metadata.group}/{property.metadata.name}/{property.id}",
          PROPERTY + "Apply", true),
      new ApiRoute("DELETE", "/api/v1/property/data/{group}/{name}/{id}", PROPERTY + "Delete", false),
      new ApiRoute("POST", "/api/v1/property/data/query", PROPERTY + "Query", true),
      new ApiRoute("POST", "/api/v1/property/schema", SCHEMAS + "Create", true),
      new ApiRoute("PUT", "/api/v1/property/schema/{property.metadata.group}/{property.metadata.name}",
          SCHEMAS + "Update", true),
      new ApiRoute("DELETE", "/api/v1/property/schema/{metadata.group}/{metadata.name}", SCHEMAS + "Delete", false),
      new ApiRoute("GET", "/api/v1/property/schema/{metadata.group}/{metadata.name}", SCHEMAS + "Get", false),
      new ApiRoute("GET", "/api/v1/property/schema/lists/{group}", SCHEMAS + "List", false),
      new ApiRoute("POST", "/api/v1/group/schema", GROUPS + "Create", true),
      new ApiRoute("PUT", "/api/v1/group/schema/{group.metadata.name}", GROUPS + "Update", true),
      new ApiRoute("DELETE", "/api/v1/group/schema/{group}", GROUPS + "Delete", false),
      new ApiRoute("GET", "/api/v1/group/schema/{group}", GROUPS + "Get", false),
      new ApiRoute("GET", "/api/v1/group/schema/lists", GROUPS + "List", false),
      new ApiRoute("GET", "/api/v1/common/api/version", "banyandb.common.v1.Service/GetAPIVersion", false));

  private GatewayRoutes() {}

  /** A route that matched a path, with the field values the path fills. */
  public record Match(ApiRoute route, Map<String, String> fields) {}

  /**
   * The route of {@code method} that matches {@code segments}, the most specific first; empty
   * when none of that method does.
   */
  public static Optional<Match> find(List<ApiRoute> routes, String method, List<String> segments) {
    return routes.stream()
        .filter(r -> r.httpMethod().equals(method))
        .sorted(Comparator.comparingInt(ApiRoute::literalSegments).reversed())
        .flatMap(r -> r.match(segments).map(f -> new Match(r, f)).stream())
        .findFirst();
  }

  /** The HTTP methods some route answers for {@code segments} (for a 405's Allow header). */
  public static List<String> methodsFor(List<ApiRoute> routes, List<String> segments) {
    return routes.stream().filter(r -> r.match(segments).isPresent()).map(ApiRoute::httpMethod).distinct().toList();
  }
}
