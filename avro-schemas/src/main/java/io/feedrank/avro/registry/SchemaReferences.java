package io.feedrank.avro.registry;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;

/**
 * Parses schema text that uses named types of other subjects. Confluent's serializers in Python, Go
 * and Node register a record that uses a shared type (InteractionEvent's {@code Device}) with a
 * {@code references} list, each entry naming the type and the subject and version that define it;
 * the registry (Apicurio's {@code /apis/ccompat/v7} as much as Confluent's) answers the text as
 * stored, not dereferenced. So each referenced version is read ({@code GET
 * /subjects/{subject}/versions/{version}?deleted=true}), its own references first, and parsed into
 * the parser before the text that uses it, as a Confluent client does.
 *
 * <p>A version's text and references never change: each is read once. A reference the registry does
 * not have, one of another type than Avro, and a chain deeper than {@link #MAX_DEPTH} or back to
 * itself are an {@link SchemaRegistryException#isUnusableSchema unusable schema} naming the
 * reference: the registry answered, and asking again would answer the same. Text that does not
 * parse with its references is unparseable as text without references is, and not unusable: this
 * client's parser may be the limit. A reference that could not be read (the registry unreachable,
 * 5xx, refused credentials) fails as the call did.
 */
final class SchemaReferences {
  /** Chains of references deeper than this are refused (32 types nested through subjects). */
  static final int MAX_DEPTH = 32;

  /** Reads one subject version; the message of a failure says it was to {@code what}. */
  interface VersionReader {
    JsonNode read(String subject, String version, String what);
  }

  private final VersionReader reader;

  /** Subject versions read, by subject and version number. */
  private final Map<String, JsonNode> versions = new ConcurrentHashMap<>();

  SchemaReferences(VersionReader reader) {
    this.reader = reader;
  }

  /**
   * The schema of a registry answer ({@code schema}, {@code references}) about {@code what}
   * ("schema id 12"). Text without references that does not parse is not unusable: this client's
   * parser may be the limit, and the records would be lost for it.
   */
  Schema parse(JsonNode answer, String what) {
    String text = answer.path("schema").asText();
    JsonNode references = answer.path("references");
    if (references.isEmpty()) {
      try {
        return new Schema.Parser().parse(text);
      } catch (RuntimeException e) {
        throw new SchemaRegistryException(
            "registry returned an unparseable Avro schema for " + what + ": " + e.getMessage(),
            200,
            -1,
            e);
      }
    }
    Schema.Parser parser = new Schema.Parser();
    addAll(references, what, parser, new HashSet<>(), new ArrayList<>());
    try {
      return parser.parse(text);
    } catch (RuntimeException e) {
      throw unparseable(
          what
              + " does not parse with its references "
              + describe(references)
              + ": "
              + e.getMessage(),
          e);
    }
  }

  /**
   * Parses each reference into {@code parser}, after its own: {@code parsed} holds the versions
   * already in it (a type two references share is parsed once), {@code chain} the versions being
   * parsed, outermost first.
   */
  private void addAll(
      JsonNode references,
      String of,
      Schema.Parser parser,
      Set<String> parsed,
      List<String> chain) {
    for (JsonNode ref : references) {
      String subject = ref.path("subject").asText();
      String version = ref.path("version").asText();
      String key = subject + '\u0000' + version;
      if (parsed.contains(key)) {
        continue;
      }
      String what = "reference " + describe(ref) + " of " + of;
      if (chain.contains(key)) {
        throw unusable(what + " refers back to itself", null);
      }
      if (chain.size() >= MAX_DEPTH) {
        throw unusable(what + " is more than " + MAX_DEPTH + " references deep", null);
      }
      JsonNode answer = version(subject, version, what);
      String type = answer.path("schemaType").asText("AVRO");
      if (!"AVRO".equals(type)) {
        throw unusable(what + " is " + type + ", not AVRO", null);
      }
      chain.add(key);
      addAll(answer.path("references"), what, parser, parsed, chain);
      chain.remove(chain.size() - 1);
      try {
        parser.parse(answer.path("schema").asText());
      } catch (RuntimeException e) {
        throw unparseable(what + " does not parse: " + e.getMessage(), e);
      }
      parsed.add(key);
    }
  }

  private JsonNode version(String subject, String version, String what) {
    String key = subject + '\u0000' + version;
    JsonNode cached = versions.get(key);
    if (cached != null) {
      return cached;
    }
    JsonNode answer;
    try {
      answer = reader.read(subject, version, "fetch " + what);
    } catch (SchemaRegistryException e) {
      if (e.isNotFound()) {
        throw unusable(what + " is not in the registry: " + e.getMessage(), e);
      }
      throw e;
    }
    // "latest" (or Confluent's -1) is not a version that stays what it is
    if (version.matches("[1-9][0-9]{0,9}")) {
      versions.put(key, answer);
    }
    return answer;
  }

  /** {@code io.feedrank.events.Device (subject 'device', version 1)}, or each of a list. */
  private static String describe(JsonNode ref) {
    if (ref.isArray()) {
      List<String> each = new ArrayList<>();
      ref.forEach(r -> each.add(describe(r)));
      return String.join(", ", each);
    }
    return ref.path("name").asText()
        + " (subject '"
        + ref.path("subject").asText()
        + "', version "
        + ref.path("version").asText()
        + ")";
  }

  /**
   * Text the registry gave that this client's parser refuses, with its references or in one of
   * them: not unusable, as for text without references ({@link #parse}): the parser may be the
   * limit (a producer's library accepted it), and the records would be lost for it.
   */
  private static SchemaRegistryException unparseable(String message, Throwable cause) {
    return new SchemaRegistryException(
        "registry returned an unparseable Avro schema: " + message, 200, -1, cause);
  }

  private static SchemaRegistryException unusable(String message, Throwable cause) {
    return new SchemaRegistryException(message, SchemaRegistryException.UNUSABLE_SCHEMA, -1, cause);
  }
}
