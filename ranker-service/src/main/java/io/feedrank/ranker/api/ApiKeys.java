package io.feedrank.ranker.api;

import io.feedrank.models.Checksums;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * API keys, stored hashed: the keys file holds one {@code <client-name> <sha256-hex-of-key>} per
 * line ({@code #} comments and blank lines ignored), so the file grants nothing to whoever reads
 * it. {@code printf %s "$KEY" | sha256sum} gives the hash.
 */
public final class ApiKeys {
  private final Map<String, String> clientByHash;

  public ApiKeys(Map<String, String> clientByHash) {
    this.clientByHash = Map.copyOf(clientByHash);
  }

  public static ApiKeys load(Path file) throws IOException {
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    Map<String, String> m = new HashMap<>();
    for (int n = 0; n < lines.size(); n++) {
      String line = lines.get(n).strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      String[] parts = line.split("\\s+");
      if (parts.length != 2 || !parts[1].matches("[0-9a-fA-F]{64}")) {
        throw new IllegalArgumentException(
            file + " line " + (n + 1) + ": expected '<client-name> <sha256-hex>'");
      }
      String other = m.put(parts[1].toLowerCase(java.util.Locale.ROOT), parts[0]);
      if (other != null) {
        // one key of two clients: whichever line came last would have been the client
        throw new IllegalArgumentException(
            file
                + " line "
                + (n + 1)
                + ": the same key hash as an earlier line (client "
                + other
                + ")");
      }
    }
    if (m.isEmpty()) {
      throw new IllegalArgumentException(file + " holds no keys");
    }
    return new ApiKeys(m);
  }

  /** The client a presented key belongs to. Compares hashes in constant time. */
  public Optional<String> client(String presentedKey) {
    if (presentedKey == null || presentedKey.isEmpty() || presentedKey.length() > 256) {
      return Optional.empty();
    }
    byte[] h =
        HexFormat.of().parseHex(Checksums.sha256(presentedKey.getBytes(StandardCharsets.UTF_8)));
    for (Map.Entry<String, String> e : clientByHash.entrySet()) {
      if (MessageDigest.isEqual(h, HexFormat.of().parseHex(e.getKey()))) {
        return Optional.of(e.getValue());
      }
    }
    return Optional.empty();
  }
}
