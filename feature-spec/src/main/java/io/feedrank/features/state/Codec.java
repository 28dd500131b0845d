package io.feedrank.features.state;

import io.feedrank.features.FeatureSchema;
import java.util.Map;

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

  static double doubleField(Map<String, String> h, String field) {
    String v = h.get(field);
    if (v == null) {
      throw new IllegalArgumentException("hash field '" + field + "' is missing");
    }
    try {
      return Double.parseDouble(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "hash field '" + field + "' is not a number: '" + v + "'", e);
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

  private Codec() {}
}
