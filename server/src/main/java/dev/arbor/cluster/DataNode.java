package dev.arbor.cluster;

import java.util.Objects;

/** A registered data node: its identity and the address of its internal gRPC endpoint. */
public record DataNode(NodeId id, String grpcAddress) {
  public DataNode {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(grpcAddress, "grpcAddress");
    if (grpcAddress.isBlank()) {
      throw new IllegalArgumentException("data node " + id + " has an empty gRPC address");
    }
  }

  public static DataNode of(String id, String grpcAddress) {
    return new DataNode(new NodeId(id), grpcAddress);
  }

  @Override
  public String toString() {
    return id + "@" + grpcAddress;
  }
}
