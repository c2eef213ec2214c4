package dev.arbor.http;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One route of the gateway: an HTTP method and path template bound to a gRPC method, as a
 * {@code google.api.http} annotation declares it. A template segment {@code {a.b}} fills the
 * request field at that path; {@code body} says whether the JSON body is the whole request
 * ({@code body: "*"}); without a body, query parameters fill request fields.
 *
 * @param httpMethod GET, PUT, POST or DELETE
 * @param template the path, e.g. {@code /api/v1/group/schema/{group}}
 * @param grpcMethod the full gRPC method name, e.g. {@code banyandb.database.v1.GroupRegistryService/Get}
 * @param body whether the request body carries the request message
 */
public record ApiRoute(String httpMethod, String template, String grpcMethod, boolean body) {
  public ApiRoute {
    if (!template.startsWith("/")) {
      throw new IllegalArgumentException("route template must start with '/': " + template);
    }
  }

  /** The template's segments; a variable segment is {@code {field.path}}. */
  List<String> segments() {
    return List.of(template.substring(1).split("/"));
  }

  /**
   * The field paths and values a request path fills, or empty when the path does not match.
   *
   * @param segments the request path's decoded segments (after the leading '/')
   */
  Optional<Map<String, String>> match(List<String> segments) {
    List<String> mine = segments();
    if (mine.size() != segments.size()) {
      return Optional.empty();
    }
    Map<String, String> vars = new LinkedHashMap<>();
    for (int i = 0; i < mine.size(); i++) {
      String t = mine.get(i);
      String s = segments.get(i);
      if (isVariable(t)) {
        if (s.isEmpty()) {
          return Optional.empty();
        }
        vars.put(t.substring(1, t.length() - 1), s);
      } else if (!t.equals(s)) {
        return Optional.empty();
      }
    }
    return Optional.of(vars);
  }

  /** How many literal segments the template has: the more, the more specific. */
  int literalSegments() {
    int n = 0;
    for (String t : segments()) {
      if (!isVariable(t)) {
        n++;
      }
    }
    return n;
  }

  /** The field paths the template's variables fill, in order. */
  List<String> variables() {
    List<String> vars = new ArrayList<>();
    for (String t : segments()) {
      if (isVariable(t)) {
        vars.add(t.substring(1, t.length() - 1));
      }
    }
    return vars;
  }

  private static boolean isVariable(String segment) {
    return segment.startsWith("{") && segment.endsWith("}");
  }
}
