package io.feedrank.drift.job;

import io.feedrank.events.ReferenceProfile;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.file.DataFileConstants;
import org.apache.avro.file.DataFileStream;
import org.apache.avro.file.DataFileWriter;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;

/**
 * The bytes of {@link ServingReference#profile}, which the evaluator keeps in broadcast state and
 * so in every checkpoint and savepoint: an Avro object container file, which carries the schema it
 * was written with, so that a later build whose {@code ReferenceProfile} (or a record or an enum in
 * it) has changed resolves them against its own schema, and without the schema registry. Builds
 * before this one kept Avro's single-object encoding, which names its schema by a fingerprint only:
 * a build with another schema cannot read it, and restored into one, the first window evaluated
 * threw and failed the task at every restart.
 */
public final class ProfileBytes {
  private ProfileBytes() {}

  /** {@code p} with this build's schema. */
  public static byte[] of(ReferenceProfile p) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (DataFileWriter<ReferenceProfile> w =
        new DataFileWriter<>(new SpecificDatumWriter<>(ReferenceProfile.class))) {
      w.create(ReferenceProfile.getClassSchema(), out);
      w.append(p);
    }
    return out.toByteArray();
  }

  /**
   * The profile in {@code bytes}, resolved into this build's schema. Single-object bytes (state of
   * an earlier build) are read only with this build's schema: those of another one throw {@code
   * MissingSchemaException}.
   *
   * @throws IOException or {@link AvroRuntimeException} when they cannot be read
   */
  public static ReferenceProfile read(byte[] bytes) throws IOException {
    if (!carriesSchema(bytes)) {
      return ReferenceProfile.fromByteBuffer(ByteBuffer.wrap(bytes));
    }
    try (DataFileStream<ReferenceProfile> in =
        new DataFileStream<>(
            new ByteArrayInputStream(bytes), new SpecificDatumReader<>(ReferenceProfile.class))) {
      if (!in.hasNext()) {
        throw new IOException("no reference profile in its " + bytes.length + " bytes");
      }
      return in.next();
    }
  }

  /** Whether {@code bytes} are of {@link #of} (else single-object encoded, by an earlier build). */
  static boolean carriesSchema(byte[] bytes) {
    return bytes.length >= DataFileConstants.MAGIC.length
        && Arrays.equals(
            bytes,
            0,
            DataFileConstants.MAGIC.length,
            DataFileConstants.MAGIC,
            0,
            DataFileConstants.MAGIC.length);
  }
}
