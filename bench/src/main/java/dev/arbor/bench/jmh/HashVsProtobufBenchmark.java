package dev.arbor.bench.jmh;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.arbor.api.banyandb.common.v1.Metadata;
import dev.arbor.api.banyandb.model.v1.Int;
import dev.arbor.api.banyandb.model.v1.Str;
import dev.arbor.api.banyandb.model.v1.Tag;
import dev.arbor.api.banyandb.model.v1.TagValue;
import dev.arbor.api.banyandb.property.v1.Property;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What hashing a ~2 KB property costs next to serializing it: the per-property work of a
 * repair-tree leaf (digest of the serialized property) versus the protobuf work every apply and
 * query does anyway. Run: {@code java -jar bench/target/arbor-bench.jar jmh HashVsProtobuf}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class HashVsProtobufBenchmark {

  @Param({"2048"})
  public int payloadBytes;

  private Property property;
  private byte[] serialized;
  private MessageDigest sha512;
  private MessageDigest sha256;

  @Setup
  public void setUp() throws NoSuchAlgorithmException {
    Random r = new Random(42);
    char[] chars = new char[payloadBytes];
    for (int i = 0; i < chars.length; i++) {
      chars[i] = (char) ('a' + r.nextInt(26));
    }
    property = Property.newBuilder()
        .setMetadata(Metadata.newBuilder().setGroup("g").setName("bench").setModRevision(7))
        .setId("q-12345")
        .addTags(Tag.newBuilder().setKey("data")
            .setValue(TagValue.newBuilder().setStr(Str.newBuilder().setValue(new String(chars)))))
        .addTags(Tag.newBuilder().setKey("ts")
            .setValue(TagValue.newBuilder().setInt(Int.newBuilder().setValue(1234567))))
        .addTags(Tag.newBuilder().setKey("kind")
            .setValue(TagValue.newBuilder().setStr(Str.newBuilder().setValue("kind-3"))))
        .build();
    serialized = property.toByteArray();
    sha512 = MessageDigest.getInstance("SHA-512");
    sha256 = MessageDigest.getInstance("SHA-256");
  }

  @Benchmark
  public byte[] sha512OfSerialized() {
    return sha512.digest(serialized);
  }

  @Benchmark
  public byte[] sha256OfSerialized() {
    return sha256.digest(serialized);
  }

  @Benchmark
  public byte[] protobufSerialize() {
    return property.toByteArray();
  }

  @Benchmark
  public Property protobufParse() throws InvalidProtocolBufferException {
    return Property.parseFrom(serialized);
  }

  @Benchmark
  public byte[] serializeThenSha512() {
    return sha512.digest(property.toByteArray());
  }
}
