package io.feedrank.localstack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/** Loopback addresses and ports. Every listener of the local stack binds to 127.0.0.1. */
public final class Ports {
  public static final String LOOPBACK = "127.0.0.1";

  /** The lowest port this class hands out. */
  static final int LOWEST = 10_000;

  /** The OS's ephemeral (local) port range when it cannot be read: Linux's default. */
  private static final int[] DEFAULT_EPHEMERAL = {32_768, 60_999};

  private static final Path EPHEMERAL_RANGE = Paths.get("/proc/sys/net/ipv4/ip_local_port_range");

  /** Ports handed out by this JVM, never handed out twice. */
  private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();

  /** The start of the OS's ephemeral range, read once. */
  private static final int EPHEMERAL_LOW = ephemeralRange()[0];

  /**
   * A port that is free on 127.0.0.1 right now, below the OS's ephemeral range (10,000 up to its
   * start) and not handed out before by this JVM. The caller binds it later, often in another
   * process; a port the OS would pick for an outgoing connection or a bind to port 0 (as {@code new
   * ServerSocket(0)} does) can be taken in between, and with the dozens of client connections of a
   * test run it was (CI, 2026-11-24: Flink's REST endpoint could not bind its port). When the
   * ephemeral range leaves no room below it, the OS picks.
   */
  public static int freePort() {
    if (EPHEMERAL_LOW - LOWEST >= 1_000) {
      int p = claim(EPHEMERAL_LOW, 0);
      if (p > 0) {
        return p;
      }
    }
    try {
      return bind(0);
    } catch (IOException e) {
      throw new UncheckedIOException("no free port on " + LOOPBACK, e);
    }
  }

  /** The OS's ephemeral port range {@code [low, high]}: on Linux from /proc, else its default. */
  static int[] ephemeralRange() {
    try {
      String[] f = Files.readString(EPHEMERAL_RANGE).trim().split("\\s+");
      return new int[] {Integer.parseInt(f[0]), Integer.parseInt(f[1])};
    } catch (IOException | RuntimeException e) {
      return DEFAULT_EPHEMERAL.clone();
    }
  }

  /**
   * A free port {@code p} on 127.0.0.1 whose {@code p + 10000} is free too: a Redis Cluster node
   * listens on both (the cluster bus). Both below the ephemeral range when it leaves room, as in
   * {@link #freePort()}; else anywhere up to 55,535.
   */
  static int freePortWithBus() {
    int below = EPHEMERAL_LOW - 10_000;
    int p = claim(below - LOWEST >= 1_000 ? below : 65_536 - 10_000, 10_000);
    if (p < 0) {
      throw new IllegalStateException("no free port pair (p, p + 10000) on " + LOOPBACK);
    }
    return p;
  }

  /**
   * Claims a random port {@code p} in {@code [LOWEST, bound)} that is free and not handed out, and
   * {@code p + bus} with it when {@code bus > 0}; −1 after 200 tries.
   */
  private static int claim(int bound, int bus) {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    for (int attempt = 0; attempt < 200; attempt++) {
      int p = LOWEST + r.nextInt(bound - LOWEST);
      boolean free =
          !HANDED_OUT.contains(p)
              && canBind(p)
              && (bus == 0 || (!HANDED_OUT.contains(p + bus) && canBind(p + bus)));
      if (free && HANDED_OUT.add(p) && (bus == 0 || HANDED_OUT.add(p + bus))) {
        return p;
      }
    }
    return -1;
  }

  private static boolean canBind(int port) {
    try {
      bind(port);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** Binds {@code port} (0: any) on 127.0.0.1 and releases it; the port that was bound. */
  private static int bind(int port) throws IOException {
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(true);
      s.bind(new InetSocketAddress(InetAddress.getByName(LOOPBACK), port));
      return s.getLocalPort();
    }
  }

  /** {@code port} when it is non-zero, else a free one. */
  static int orFree(int port) {
    return port != 0 ? port : freePort();
  }

  /** Whether something accepts TCP connections on 127.0.0.1:port. */
  public static boolean isListening(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(LOOPBACK, port), 500);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private Ports() {}
}
