package dev.arbor.server;

import dev.arbor.transport.Role;
import java.util.Map;

/**
 * The role each public gRPC method needs. {@code read}: query, get, list, exist and the API
 * version; {@code write}: apply and delete properties; everything else — creating, changing and
 * deleting groups and schemas, tree and repair administration, and any method not listed here —
 * needs {@code admin}, so a service added later is closed until someone decides otherwise.
 */
final class ApiRoles {
  private static final Map<String, Role> ROLES = Map.ofEntries(
      Map.entry("banyandb.property.v1.PropertyService/Query", Role.READ),
      Map.entry("banyandb.property.v1.PropertyService/Apply", Role.WRITE),
      Map.entry("banyandb.property.v1.PropertyService/Delete", Role.WRITE),
      Map.entry("banyandb.database.v1.GroupRegistryService/Get", Role.READ),
      Map.entry("banyandb.database.v1.GroupRegistryService/List", Role.READ),
      Map.entry("banyandb.database.v1.GroupRegistryService/Exist", Role.READ),
      Map.entry("banyandb.database.v1.PropertyRegistryService/Get", Role.READ),
      Map.entry("banyandb.database.v1.PropertyRegistryService/List", Role.READ),
      Map.entry("banyandb.database.v1.PropertyRegistryService/Exist", Role.READ),
      Map.entry("banyandb.common.v1.Service/GetAPIVersion", Role.READ));

  private ApiRoles() {}

  static Role required(String fullMethodName) {
    return ROLES.getOrDefault(fullMethodName, Role.ADMIN);
  }
}
