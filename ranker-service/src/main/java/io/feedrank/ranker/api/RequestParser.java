package io.feedrank.ranker.api;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.feedrank.events.Device;
import java.io.IOException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.LongSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses and validates {@code POST /v1/rank} bodies: the common valid request straight from its
 * bytes ({@link RequestFastPath}), any other through Jackson's tokens. Every refusal is a {@link
 * BadRequestException} naming the field ({@code body}, {@code user_id}, {@code item_ids[3]}, {@code
 * context.device}, ...) and the bound it violated. Unknown fields are ignored, so clients may send
 * more than this version reads.
 */
public final class RequestParser {
  /**
   * Field names are not canonicalized: the names a request uses are few and read once, and a body
   * of thousands of distinct unknown names took several times longer to parse with the symbol table
   * than without it (measured by hand; not a benchmark).
   */
  private static final ObjectMapper JSON =
      new ObjectMapper(
              JsonFactory.builder().disable(JsonFactory.Feature.CANONICALIZE_FIELD_NAMES).build())
          .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  private final LongSupplier clock;
  private final long maxAheadMillis;

  public RequestParser(LongSupplier clockMillis) {
    this(clockMillis, DEFAULT_MAX_AHEAD_MILLIS);
  }

  /**
   * @param maxAheadMillis how far ahead of the clock a request's {@code context.timestamp} may be
   */
  public RequestParser(LongSupplier clockMillis, long maxAheadMillis) {
    this.maxAheadMillis = maxAheadMillis;
    this.clock = clockMillis;
  }

  public RankRequest parse(byte[] body) {
    if (body != null) {
      RankRequest common = RequestFastPath.read(body, clock, maxAheadMillis);
      if (common != null) {
        return common;
      }
    }
    return parseGeneral(body);
  }

  /**
   * Any body through Jackson's tokens, without the fast path for the common request ({@link
   * RequestFastPath}); what that path must agree with, and the baseline it is measured against.
   */
  public RankRequest parseGeneral(byte[] body) {
    if (body == null || body.length == 0) {
      throw new BadRequestException("body", "is empty; expected a JSON object");
    }
    Fields f;
    try (JsonParser p = JSON.createParser(body)) {
      f = read(p);
      if (f != null && p.nextToken() != null) {
        throw new BadRequestException("body", "content after the JSON object");
      }
    } catch (JsonProcessingException e) {
      throw new BadRequestException("body", "malformed JSON: " + parserMessage(e));
    } catch (IOException e) {
      throw new BadRequestException("body", "is unreadable");
    }
    if (f == null) {
      throw new BadRequestException("body", "expected a JSON object");
    }
    // validated only once the whole body has been read, in a fixed order: a malformed body is
    // refused as such, and the field named does not depend on the order the client wrote them
    long userId = id(f.userId, "user_id");
    long[] items = f.items.validated();
    Device device = Device.UNKNOWN;
    long at = clock.getAsLong();
    JsonNode ctx = f.context;
    if (ctx != null && !ctx.isNull()) {
      if (!ctx.isObject()) {
        throw new BadRequestException("context", "must be an object");
      }
      device = device(ctx.get("device"));
      at = timestamp(ctx.get("timestamp"), at, at, maxAheadMillis);
    }
    int topK = topK(f.topK, items.length);
    String requestId = requestId(f.requestId);
    return new RankRequest(requestId, userId, items, device, at, topK);
  }

  /** The body's fields as read; {@code null} when the body is not a JSON object. */
  private static Fields read(JsonParser p) throws IOException {
    JsonToken t = p.nextToken();
    if (t != JsonToken.START_OBJECT) {
      if (t != null) {
        p.readValueAsTree(); // a malformed non-object body is refused as malformed
      }
      return null;
    }
    Fields f = new Fields();
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      t = p.nextToken();
      switch (name) {
        case "item_ids" -> f.items.read(p, t);
        case "user_id" -> f.userId = p.readValueAsTree();
        case "context" -> f.context = p.readValueAsTree();
        case "top_k" -> f.topK = p.readValueAsTree();
        case "request_id" -> f.requestId = p.readValueAsTree();
        default -> p.skipChildren(); // unknown fields are ignored (still read, so checked)
      }
    }
    return f;
  }

  private static final class Fields {
    JsonNode userId;
    JsonNode context;
    JsonNode topK;
    JsonNode requestId;
    final Candidates items = new Candidates();
  }

  /**
   * {@code item_ids} read straight from the token stream into a {@code long[]}: the tree of a
   * 1,000-candidate request was a tenth of a two-tower request's time. The first element that is
   * not an id is kept as a node, so its error is the same as for any other id.
   */
  private static final class Candidates {
    private boolean present;
    private JsonNode notArray; // the value, when it is not an array

    /** This thread's scratch, so that reading grows no array; {@link #validated} copies it. */
    private static final ThreadLocal<long[]> SCRATCH =
        ThreadLocal.withInitial(() -> new long[RankRequest.MAX_CANDIDATES]);

    private final long[] ids = SCRATCH.get();
    private int count;
    private JsonNode bad;
    private int badIndex = -1;

    void read(JsonParser p, JsonToken t) throws IOException {
      present = t != JsonToken.VALUE_NULL;
      if (t != JsonToken.START_ARRAY) {
        notArray = p.readValueAsTree();
        return;
      }
      while ((t = p.nextToken()) != JsonToken.END_ARRAY && t != null) {
        int i = count++;
        if (badIndex < 0 && i < RankRequest.MAX_CANDIDATES) {
          if (t == JsonToken.VALUE_NUMBER_INT
              && p.getNumberType() != JsonParser.NumberType.BIG_INTEGER
              && p.getLongValue() >= 0) {
            ids[i] = p.getLongValue();
          } else {
            bad = p.readValueAsTree();
            badIndex = i;
          }
        } else {
          p.skipChildren();
        }
      }
    }

    long[] validated() {
      if (!present) {
        throw new BadRequestException("item_ids", "is required");
      }
      if (notArray != null) {
        throw new BadRequestException("item_ids", "must be an array, got " + describe(notArray));
      }
      if (count == 0) {
        throw new BadRequestException("item_ids", "must hold at least 1 id");
      }
      if (count > RankRequest.MAX_CANDIDATES) {
        throw new BadRequestException(
            "item_ids",
            "holds " + count + " ids; at most " + RankRequest.MAX_CANDIDATES + " allowed");
      }
      if (badIndex >= 0) {
        id(bad, "item_ids", badIndex); // throws the element's error
      }
      long[] out = Arrays.copyOf(ids, count); // the request's own: the scratch is reused
      if (Seen.repeats(out)) { // the first repeat is then named by index
        throw duplicate(out);
      }
      return out;
    }
  }

  /**
   * Whether ids repeat: open addressing in a per-thread table of 4,096 slots (a quarter full at
   * most), emptied by moving to the next generation. Sorting a copy for it was a tenth of a
   * 1,000-candidate two-tower request.
   */
  static final class Seen {
    private static final int BITS = 12;
    private static final ThreadLocal<Seen> PER_THREAD = ThreadLocal.withInitial(Seen::new);
    private final long[] keys = new long[1 << BITS];
    private final int[] generations = new int[1 << BITS];
    private int generation;

    static boolean repeats(long[] ids) {
      if (ids.length > (1 << BITS) / 2) {
        throw new IllegalArgumentException(ids.length + " ids");
      }
      Seen s = PER_THREAD.get();
      if (++s.generation == 0) {
        Arrays.fill(s.generations, 0);
        s.generation = 1;
      }
      int mask = (1 << BITS) - 1;
      for (long id : ids) {
        int h = (int) ((id * 0x9e3779b97f4a7c15L) >>> (64 - BITS));
        while (s.generations[h] == s.generation) {
          if (s.keys[h] == id) {
            return true;
          }
          h = (h + 1) & mask;
        }
        s.generations[h] = s.generation;
        s.keys[h] = id;
      }
      return false;
    }
  }

  private static long id(JsonNode n, String field) {
    return id(n, field, -1);
  }

  /**
   * An id, or the error naming {@code field} — {@code field[index]} for an array element; the name
   * is built only for an error (per element it was a tenth of a 1,000-candidate request's
   * allocation).
   */
  private static long id(JsonNode n, String field, int index) {
    if (n == null || n.isNull()) {
      throw new BadRequestException(name(field, index), "is required");
    }
    if (!n.isIntegralNumber()) {
      throw new BadRequestException(name(field, index), "must be an integer, got " + describe(n));
    }
    if (!n.canConvertToLong()) {
      throw new BadRequestException(name(field, index), "is out of range for a 64-bit id");
    }
    long v = n.longValue();
    if (v < 0) {
      throw new BadRequestException(name(field, index), "must be >= 0, got " + v);
    }
    return v;
  }

  private static String name(String field, int index) {
    return index < 0 ? field : field + "[" + index + "]";
  }

  /** The first id that repeats an earlier one, as the error naming its index. */
  private static BadRequestException duplicate(long[] ids) {
    Set<Long> seen = new HashSet<>();
    for (int i = 0; i < ids.length; i++) {
      if (!seen.add(ids[i])) {
        return new BadRequestException(name("item_ids", i), "duplicate id " + ids[i]);
      }
    }
    throw new IllegalStateException("no duplicate in " + ids.length + " ids");
  }

  private static Device device(JsonNode n) {
    if (n == null || n.isNull()) {
      return Device.UNKNOWN;
    }
    if (!n.isTextual()) {
      throw new BadRequestException("context.device", "must be a string, got " + describe(n));
    }
    try {
      return Device.valueOf(n.textValue().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new BadRequestException(
          "context.device",
          "unknown device '" + shown(n.textValue()) + "'; one of mobile, desktop, tablet, unknown");
    }
  }

  /**
   * How far ahead of the server's clock a request's time may be by default ({@code
   * request.max.ahead.ms}): what a broker accepts by default ({@code
   * log.message.timestamp.after.max.ms}); a simulation whose event time runs ahead of the clock
   * (the demo's) raises both. The time decays the features the request is scored with, and is the
   * event time of its ranking log, which the drift job's watermarks follow: a request from the year
   * 2099 would be scored on features decayed to nothing, and move the drift job's event time past
   * every window.
   */
  public static final long DEFAULT_MAX_AHEAD_MILLIS = 3_600_000;

  /**
   * Whether {@code atMillis} is a request time the ranker takes, with the server's clock at {@code
   * now}.
   */
  static boolean inRange(long atMillis, long now, long maxAheadMillis) {
    return atMillis >= 0 && atMillis - now <= maxAheadMillis;
  }

  private static long timestamp(JsonNode n, long dflt, long now, long maxAheadMillis) {
    if (n == null || n.isNull()) {
      return dflt;
    }
    if (!n.isTextual()) {
      throw new BadRequestException(
          "context.timestamp", "must be an ISO-8601 string, got " + describe(n));
    }
    long at;
    try {
      at = Instant.parse(n.textValue()).toEpochMilli();
    } catch (DateTimeParseException | ArithmeticException e) {
      throw new BadRequestException(
          "context.timestamp",
          "'" + shown(n.textValue()) + "' is not an ISO-8601 instant like 2026-11-15T10:30:00Z");
    }
    if (at < 0) {
      throw new BadRequestException(
          "context.timestamp", "'" + shown(n.textValue()) + "' is before 1970-01-01T00:00:00Z");
    }
    if (!inRange(at, now, maxAheadMillis)) {
      throw new BadRequestException(
          "context.timestamp",
          "'"
              + shown(n.textValue())
              + "' is more than "
              + java.time.Duration.ofMillis(maxAheadMillis)
                  .toString()
                  .substring(2)
                  .toLowerCase(java.util.Locale.ROOT)
              + " ahead of the server's clock ("
              + Instant.ofEpochMilli(now)
              + ")");
    }
    return at;
  }

  private static int topK(JsonNode n, int candidates) {
    if (n == null || n.isNull()) {
      return candidates;
    }
    if (!n.isIntegralNumber()) {
      throw new BadRequestException("top_k", "must be an integer, got " + describe(n));
    }
    if (n.bigIntegerValue().signum() < 1) {
      throw new BadRequestException(
          "top_k", "must be >= 1, got " + shown(n.bigIntegerValue().toString()));
    }
    // any k above the candidates asks for all of them, however large
    return n.canConvertToInt() ? Math.min(n.intValue(), candidates) : candidates;
  }

  private static String requestId(JsonNode n) {
    if (n == null || n.isNull()) {
      return randomId();
    }
    if (!n.isTextual() || n.textValue().isEmpty() || n.textValue().length() > 128) {
      throw new BadRequestException("request_id", "must be a string of 1 to 128 characters");
    }
    return n.textValue();
  }

  /**
   * A version-4 UUID drawn from this thread's {@link ThreadLocalRandom}: {@link UUID#randomUUID}
   * reads the shared {@code SecureRandom}, which on Linux takes a lock and reads {@code
   * /dev/urandom} — for an id that only has to tell the requests in the ranking logs apart.
   */
  public static String randomId() {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    long msb = (r.nextLong() & ~0xF000L) | 0x4000L; // version 4
    long lsb = (r.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L; // IETF variant
    return new UUID(msb, lsb).toString();
  }

  /** The most characters of a client's value a message repeats. */
  static final int SHOWN_CHARS = 64;

  /** A client's value as a message repeats it: cut to {@link #SHOWN_CHARS}, saying how long. */
  static String shown(String value) {
    if (value.length() <= SHOWN_CHARS) {
      return value;
    }
    int end =
        Character.isHighSurrogate(value.charAt(SHOWN_CHARS - 1)) ? SHOWN_CHARS - 1 : SHOWN_CHARS;
    return value.substring(0, end) + "... (" + value.length() + " characters)";
  }

  /**
   * A client's token or field name quoted in a parser's message, longer than {@link #SHOWN_CHARS}.
   * Only those: between two other quoted words of a message ({@code 'null', 'true'}) lies prose.
   */
  private static final Pattern LONG_QUOTED =
      Pattern.compile("((?:token|field) )'([^']{" + (SHOWN_CHARS + 1) + ",})'");

  /**
   * The parser's description of what is malformed, without its hints to Java programmers (the
   * limit's getter, the feature that would allow a token), the client's tokens it quotes cut as
   * {@link #shown} cuts them, on one line and at most 200 characters.
   */
  static String parserMessage(JsonProcessingException e) {
    String m =
        LONG_QUOTED
            .matcher(e.getOriginalMessage())
            .replaceAll(t -> Matcher.quoteReplacement(t.group(1) + "'" + shown(t.group(2)) + "'"))
            .replaceAll(",\\s*from `[^`]*`", "")
            .replaceAll(":?\\s*enable `[^`]*`( to allow)?", "")
            // a location names the parser's source setting: [Source: REDACTED
            // (StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION disabled); line: 1, column: 28]
            .replaceAll(
                "start marker at \\[Source: [^\\]]*?; line: (\\d+), column: (\\d+)\\]",
                "opened at line $1, column $2")
            .replaceAll(
                "\\[Source: [^\\]]*?; line: (\\d+), column: (\\d+)\\]", "line $1, column $2")
            .replace("`", "")
            .replaceAll("\\s+", " ")
            .trim();
    return m.length() <= 200 ? m : m.substring(0, 200) + "...";
  }

  private static String describe(JsonNode n) {
    return switch (n.getNodeType()) {
      case STRING -> "a string";
      case NUMBER -> "a non-integer number";
      case BOOLEAN -> "a boolean";
      case ARRAY -> "an array";
      case OBJECT -> "an object";
      default -> n.getNodeType().name().toLowerCase(Locale.ROOT);
    };
  }
}
