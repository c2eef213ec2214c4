package dev.arbor.fuzz;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import java.util.List;

/**
 * Mutates protobuf messages two ways: structured (walks the descriptor and sets one field, at any
 * depth, to a boundary number, odd string, unknown enum number, cleared value or extra repeated
 * element) and raw (mutates the encoded bytes; what still parses is used, what does not is sent as
 * bytes where the caller can).
 */
final class ProtoMutator {
  private final Mutator m;

  ProtoMutator(Mutator m) {
    this.m = m;
  }

  /** 1–3 structured mutations. */
  @SuppressWarnings("unchecked")
  <T extends Message> T structured(T msg) {
    Message.Builder b = msg.toBuilder();
    int n = 1 + m.random().nextInt(3);
    for (int i = 0; i < n; i++) {
      mutateField(b, 0);
    }
    return (T) b.build();
  }

  /** Raw mutation of the encoding; null when the result no longer parses as {@code T}. */
  @SuppressWarnings("unchecked")
  <T extends Message> T raw(T msg, Message donor) {
    byte[] bytes = m.mutate(msg.toByteArray(), donor == null ? null : donor.toByteArray());
    try {
      return (T) msg.getParserForType().parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      return null;
    }
  }

  /** Structured or raw, half and half (raw falls back to structured when it no longer parses). */
  <T extends Message> T either(T msg, Message donor) {
    if (m.random().nextBoolean()) {
      T r = raw(msg, donor);
      if (r != null) {
        return r;
      }
    }
    return structured(msg);
  }

  private void mutateField(Message.Builder b, int depth) {
    List<FieldDescriptor> fields = b.getDescriptorForType().getFields();
    if (fields.isEmpty()) {
      return;
    }
    FieldDescriptor f = fields.get(m.random().nextInt(fields.size()));
    if (f.getJavaType() == FieldDescriptor.JavaType.MESSAGE && depth < 6 && !m.chance(5)) {
      if (f.isRepeated()) {
        int count = b.getRepeatedFieldCount(f);
        if (count == 0 || m.chance(4)) {
          Message.Builder child = b.newBuilderForField(f);
          mutateField(child, depth + 1);
          b.addRepeatedField(f, child.build());
        } else {
          int at = m.random().nextInt(count);
          Message.Builder child = ((Message) b.getRepeatedField(f, at)).toBuilder();
          mutateField(child, depth + 1);
          b.setRepeatedField(f, at, child.build());
        }
      } else if (f.isMapField()) {
        b.clearField(f);
      } else {
        Message.Builder child = b.hasField(f) ? ((Message) b.getField(f)).toBuilder() : b.newBuilderForField(f);
        mutateField(child, depth + 1);
        b.setField(f, child.build());
      }
      return;
    }
    if (m.chance(6) || f.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
      b.clearField(f);
      return;
    }
    Object v = value(f, b);
    if (v == null) {
      return;
    }
    if (f.isRepeated()) {
      int count = b.getRepeatedFieldCount(f);
      if (count > 0 && m.random().nextBoolean()) {
        b.setRepeatedField(f, m.random().nextInt(count), v);
      } else {
        int extra = m.chance(10) ? 1 + m.random().nextInt(300) : 1;
        for (int i = 0; i < extra; i++) {
          b.addRepeatedField(f, v);
        }
      }
    } else {
      b.setField(f, v);
    }
  }

  private Object value(FieldDescriptor f, Message.Builder b) {
    if (f.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
      return null;
    }
    Object current = f.isRepeated() || !b.hasField(f) ? f.getDefaultValue() : b.getField(f);
    switch (f.getJavaType()) {
      case INT:
        return m.boundaryInt();
      case LONG:
        return m.boundaryLong();
      case BOOLEAN:
        return m.random().nextBoolean();
      case FLOAT:
        return m.pick(new Float[] {Float.NaN, Float.POSITIVE_INFINITY, -0f, Float.MAX_VALUE, 1f});
      case DOUBLE:
        return m.pick(new Double[] {Double.NaN, Double.NEGATIVE_INFINITY, -0d, Double.MIN_VALUE, 1e300});
      case STRING:
        return m.string(f.isRepeated() ? "" : String.valueOf(current));
      case BYTE_STRING: {
        byte[] old = f.isRepeated() ? new byte[0] : ((ByteString) current).toByteArray();
        return ByteString.copyFrom(m.mutate(old, null));
      }
      case ENUM: {
        int number = m.chance(3) ? m.boundaryInt() : m.random().nextInt(8);
        return f.getEnumType().findValueByNumberCreatingIfUnknown(number);
      }
      default:
        return null;
    }
  }
}
