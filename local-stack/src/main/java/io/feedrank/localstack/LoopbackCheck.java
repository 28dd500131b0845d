package io.feedrank.localstack;

import java.io.IOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Reads Linux's /proc/net/tcp{,6} to see which addresses listening sockets are bound to: for tests
 * that check every listener is on 127.0.0.1.
 */
public final class LoopbackCheck {
  /** The textual forms of 127.0.0.1 this reports (IPv4, and IPv4-mapped on a dual-stack socket). */
  public static final List<String> LOOPBACK = List.of("127.0.0.1", "::ffff:127.0.0.1");

  private static final String LISTEN = "0A";

  /** Port → addresses bound by LISTEN sockets on that port. */
  public static Map<Integer, List<String>> listeningAddressesByPort() throws IOException {
    Map<Integer, List<String>> out = new HashMap<>();
    for (String[] row : listenRows()) {
      out.computeIfAbsent(port(row[1]), k -> new ArrayList<>()).add(address(row[1]));
    }
    return out;
  }

  /** Addresses of the LISTEN sockets a process holds (matched by socket inode). */
  public static List<String> listeningAddressesOfProcess(long pid) throws IOException {
    return listeningSocketsOfProcess(pid).stream()
        .map(s -> s.substring(0, s.lastIndexOf(':')))
        .toList();
  }

  /** The LISTEN sockets a process holds (matched by socket inode), each as {@code address:port}. */
  public static Set<String> listeningSocketsOfProcess(long pid) throws IOException {
    Set<String> inodes = new HashSet<>();
    Path fds = Paths.get("/proc", Long.toString(pid), "fd");
    try (Stream<Path> s = Files.list(fds)) {
      s.forEach(
          fd -> {
            try {
              String target = Files.readSymbolicLink(fd).toString();
              if (target.startsWith("socket:[")) {
                inodes.add(target.substring(8, target.length() - 1));
              }
            } catch (IOException e) {
              // fd closed meanwhile
            }
          });
    }
    Set<String> out = new HashSet<>();
    for (String[] row : listenRows()) {
      if (inodes.contains(row[9])) {
        out.add(address(row[1]) + ":" + port(row[1]));
      }
    }
    return out;
  }

  private static List<String[]> listenRows() throws IOException {
    List<String[]> rows = new ArrayList<>();
    for (String f : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
      Path p = Paths.get(f);
      if (!Files.exists(p)) {
        continue;
      }
      List<String> lines = Files.readAllLines(p);
      for (String line : lines.subList(1, lines.size())) {
        String[] cols = line.trim().split("\\s+");
        if (cols[3].equals(LISTEN)) {
          rows.add(cols);
        }
      }
    }
    return rows;
  }

  private static int port(String local) {
    return Integer.parseInt(local.substring(local.indexOf(':') + 1), 16);
  }

  /** /proc hex address (little-endian per 32-bit word) → textual address. */
  private static String address(String local) throws IOException {
    String hex = local.substring(0, local.indexOf(':'));
    byte[] raw = new byte[hex.length() / 2];
    for (int word = 0; word < raw.length / 4; word++) {
      for (int b = 0; b < 4; b++) {
        int src = (word * 4 + (3 - b)) * 2;
        raw[word * 4 + b] = (byte) Integer.parseInt(hex.substring(src, src + 2), 16);
      }
    }
    String text = InetAddress.getByAddress(raw).getHostAddress();
    if (raw.length == 16
        && new BigInteger(1, java.util.Arrays.copyOfRange(raw, 0, 12))
            .equals(BigInteger.valueOf(0xffff))) {
      return "::ffff:"
          + InetAddress.getByAddress(java.util.Arrays.copyOfRange(raw, 12, 16)).getHostAddress();
    }
    return text;
  }

  private LoopbackCheck() {}
}
