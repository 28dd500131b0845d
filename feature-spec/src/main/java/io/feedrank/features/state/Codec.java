package io.feedrank.features.state;

import com.fasterxml.jackson.core.io.NumberOutput;
import io.feedrank.features.FeatureSchema;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.function.Function;

/** Reading the Redis hashes and state bytes: each failure names the field. */
final class Codec {

  static void requireVersion(Map<String, String> h, String entity) {
    String v = h.get("_v");
    if (v == null || !FeatureSchema.canBuild(parseInt(v, "_v"))) {
      throw new IllegalArgumentException(
          entity
              + " hash has feature schema version "
              + v
              + "; this code builds version "
              + FeatureSchema.VERSION);
    }
  }

  static void requireCodec(byte got, byte expected, String what) {
    if (got != expected) {
      throw new IllegalArgumentException(
          what + " bytes of codec version " + got + ", expected " + expected);
    }
  }

  /**
   * A double as the shortest decimal that reads back as exactly that double ({@link
   * Double#parseDouble}), in Java's literal syntax: Jackson's Schubfach writer, what {@link
   * Double#toString} is since JDK 19. On JDK 17, {@code Double.toString} took about half of the
   * time the features app spent rendering hashes for Redis.
   */
  static String number(double v) {
    return NumberOutput.toString(v, true);
  }

  static double doubleField(Map<String, String> h, String field) {
    String v = h.get(field);
    if (v == null) {
      throw new IllegalArgumentException("hash field '" + field + "' is missing");
    }
    double d;
    try {
      d = Double.parseDouble(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "hash field '" + field + "' is not a number: '" + v + "'", e);
    }
    // the app writes finite numbers only; NaN or an infinity would reach the model and every
    // score computed from it (parseDouble takes "NaN", "Infinity" and "1e999")
    if (!Double.isFinite(d)) {
      throw new IllegalArgumentException(
          "hash field '" + field + "' is not a finite number: '" + v + "'");
    }
    return d;
  }

  /**
   * A decayed counter: a {@link #doubleField} not below 0. The app adds only amounts of 0 or more
   * (an impression, a click, seconds of dwell, which the streams app validates) and decays them by
   * positive factors, so a negative counter was written by something else (a manual edit, another
   * writer, a damaged restore); the smoothed rates refuse one ({@link
   * io.feedrank.features.decay.SmoothedRate}), so features could not be computed from it.
   */
  static double counterField(Map<String, String> h, String field) {
    double d = doubleField(h, field);
    if (d < 0) {
      throw new IllegalArgumentException(
          "hash field '" + field + "' is a counter below 0: '" + h.get(field) + "'");
    }
    return d;
  }

  /**
   * Requires counter {@code part} (clicks, likes, shares) not above counter {@code whole} (the
   * impressions of the same half-life), as read from fields {@code partField} and {@code
   * wholeField}. Every event adds one impression and at most one click, like and share, at the same
   * time and decayed by the same factor, and rounding is monotonic, so the app's counters keep this
   * bit for bit (also when every impression was clicked). A user's clicks above their impressions
   * would make the prior of their category click rate above 1, which the smoothed rate refuses.
   */
  static void requireAtMost(double part, String partField, double whole, String wholeField) {
    if (part > whole) {
      throw new IllegalArgumentException(
          "hash field '"
              + partField
              + "' is "
              + number(part)
              + ", above '"
              + wholeField
              + "' "
              + number(whole));
    }
  }

  static long longField(Map<String, String> h, String field) {
    String v = h.get(field);
    if (v == null) {
      throw new IllegalArgumentException("hash field '" + field + "' is missing");
    }
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "hash field '" + field + "' is not an integer: '" + v + "'", e);
    }
  }

  static int parseInt(String v, String field) {
    try {
      return Integer.parseInt(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "hash field '" + field + "' is not an integer: '" + v + "'", e);
    }
  }

  // ---- state-store bytes ----
  //
  // The state codecs write big-endian primitives and DataOutput#writeUTF strings (the format they
  // had when written through DataOutputStream), into one exactly sized array: a DataOutputStream
  // over a ByteArrayOutputStream made each 8-byte write a synchronized, bounds-checked call, and
  // encoding user states was 15% of the stream threads' time.

  /**
   * A string as {@link java.io.DataOutput#writeUTF} writes it: a 2-byte length, then modified
   * UTF-8.
   */
  static byte[] utf(String s) {
    int n = s.length();
    boolean plain = n <= 0xFFFF;
    for (int i = 0; i < n && plain; i++) {
      char c = s.charAt(i);
      plain = c >= 0x01 && c <= 0x7F;
    }
    if (plain) {
      byte[] b = new byte[2 + n];
      b[0] = (byte) (n >>> 8);
      b[1] = (byte) n;
      for (int i = 0; i < n; i++) {
        b[2 + i] = (byte) s.charAt(i);
      }
      return b;
    }
    try { // the rare string with a character outside 0x01-0x7F: let the JDK encode it
      ByteArrayOutputStream out = new ByteArrayOutputStream(2 + 3 * n);
      new DataOutputStream(out).writeUTF(s);
      return out.toByteArray();
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "a string of " + n + " characters is too long to encode", e);
    }
  }

  /** Reads what {@link #utf} (or {@link java.io.DataOutput#writeUTF}) wrote. */
  static String readUtf(ByteBuffer in) {
    int n = in.getShort() & 0xFFFF;
    int at = in.position();
    if (n > in.remaining()) {
      throw new BufferUnderflowException();
    }
    byte[] a = in.array();
    int start = in.arrayOffset() + at;
    boolean plain = true;
    for (int i = 0; i < n && plain; i++) {
      plain = a[start + i] > 0;
    }
    in.position(at + n);
    if (plain) {
      return new String(a, start, n, StandardCharsets.ISO_8859_1);
    }
    byte[] b = new byte[2 + n];
    b[0] = (byte) (n >>> 8);
    b[1] = (byte) n;
    System.arraycopy(a, start, b, 2, n);
    try {
      return new DataInputStream(new ByteArrayInputStream(b)).readUTF();
    } catch (IOException e) {
      throw new IllegalArgumentException("malformed string in state bytes", e);
    }
  }

  /**
   * Reads state bytes with {@code reader}; truncated or malformed bytes fail with an {@link
   * UncheckedIOException} naming {@code what}, as reading them through a DataInputStream did.
   */
  static <T> T read(byte[] data, String what, Function<ByteBuffer, T> reader) {
    try {
      return reader.apply(ByteBuffer.wrap(data));
    } catch (BufferUnderflowException e) {
      throw new UncheckedIOException(
          "corrupt " + what + " bytes", new EOFException("truncated: " + data.length + " bytes"));
    }
  }

  private Codec() {}
}
