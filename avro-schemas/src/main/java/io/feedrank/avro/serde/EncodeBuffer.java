package io.feedrank.avro.serde;

import java.io.IOException;
import java.io.OutputStream;
import java.util.Arrays;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DatumWriter;
import org.apache.avro.io.EncoderFactory;

/**
 * Avro binary encoding into a buffer and encoder kept per thread, for serializers that one or more
 * producer threads call for every record. A new {@code ByteArrayOutputStream} and direct encoder
 * per record grew the array two or three times for a training example and made every primitive a
 * synchronized write: about 3% of the features app's stream threads.
 */
public final class EncodeBuffer {
  private static final int INITIAL_BYTES = 1024;

  /** A thread keeps a buffer grown past this only for the record that grew it. */
  private static final int KEPT_BYTES = 1 << 20;

  private final ThreadLocal<PerThread> local = ThreadLocal.withInitial(PerThread::new);

  /**
   * The bytes of {@code headerLength} zero bytes (for the caller to fill in) followed by {@code
   * datum} in Avro binary.
   */
  public <T> byte[] encode(int headerLength, DatumWriter<T> writer, T datum) throws IOException {
    PerThread t = local.get();
    // configure first: a reused encoder hands what a failed earlier record left in it to the
    // stream, which the reset below then drops
    t.encoder = EncoderFactory.get().binaryEncoder(t.out, t.encoder);
    t.out.reset(headerLength);
    writer.write(datum, t.encoder);
    t.encoder.flush();
    byte[] bytes = t.out.toByteArray();
    if (t.out.capacity() > KEPT_BYTES) {
      local.remove();
    }
    return bytes;
  }

  private static final class PerThread {
    final Output out = new Output();
    BinaryEncoder encoder;
  }

  /** An unsynchronized growable byte array. */
  private static final class Output extends OutputStream {
    private byte[] buf = new byte[INITIAL_BYTES];
    private int count;

    void reset(int zeros) {
      ensure(zeros);
      Arrays.fill(buf, 0, zeros, (byte) 0);
      count = zeros;
    }

    int capacity() {
      return buf.length;
    }

    byte[] toByteArray() {
      return Arrays.copyOf(buf, count);
    }

    @Override
    public void write(int b) {
      ensure(count + 1);
      buf[count++] = (byte) b;
    }

    @Override
    public void write(byte[] b, int off, int len) {
      ensure(count + len);
      System.arraycopy(b, off, buf, count, len);
      count += len;
    }

    private void ensure(int size) {
      if (size > buf.length) {
        buf = Arrays.copyOf(buf, Math.max(size, buf.length * 2));
      }
    }
  }
}
