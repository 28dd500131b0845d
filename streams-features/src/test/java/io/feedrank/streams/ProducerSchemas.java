package io.feedrank.streams;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.EncoderFactory;

/**
 * Schemas of the tables' records other than the app's compiled ones, as producers built from
 * another version of the schemas write them, and their records in the wire format.
 */
final class ProducerSchemas {
  /** {@code schema} without the field {@code name}. */
  static Schema withoutField(Schema schema, String name) {
    return record(
        schema,
        schema.getFields().stream()
            .filter(f -> !f.name().equals(name))
            .map(f -> new Schema.Field(f, f.schema()))
            .toList());
  }

  /** {@code schema} with a string field {@code language} more, defaulting to "". */
  static Schema withLanguage(Schema schema) {
    List<Schema.Field> fields = new ArrayList<>();
    schema.getFields().forEach(f -> fields.add(new Schema.Field(f, f.schema())));
    fields.add(new Schema.Field("language", Schema.create(Schema.Type.STRING), null, ""));
    return record(schema, fields);
  }

  private static Schema record(Schema like, List<Schema.Field> fields) {
    return Schema.createRecord(like.getName(), like.getDoc(), like.getNamespace(), false, fields);
  }

  /**
   * {@code value} in the Confluent wire format under schema id {@code id}, as a producer writes.
   */
  static byte[] wire(int id, GenericRecord value) {
    try {
      var out = new ByteArrayOutputStream();
      out.write(0);
      out.write(ByteBuffer.allocate(4).putInt(id).array());
      var encoder = EncoderFactory.get().binaryEncoder(out, null);
      new GenericDatumWriter<GenericRecord>(value.getSchema()).write(value, encoder);
      encoder.flush();
      return out.toByteArray();
    } catch (IOException ex) {
      throw new UncheckedIOException(ex);
    }
  }

  private ProducerSchemas() {}
}
