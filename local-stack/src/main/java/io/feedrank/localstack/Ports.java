package io.feedrank.localstack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.ThreadLocalRandom;

/** Loopback addresses and ports. Every listener of the local stack binds to 127.0.0.1. */
public final class Ports {
  public static final String LOOPBACK = "127.0.0.1";

  /** A port that is free on 127.0.0.1 right now (the OS picks it). */
  public static int freePort() {
    try {
      return bind(0);
    } catch (IOException e) {
      throw new UncheckedIOException("no free port on " + LOOPBACK, e);
    }
  }

  /**
   * A free port {@code p} on 127.0.0.1 below 55,536 whose {@code p + 10000} is free too: a Redis
   * Cluster node listens on both (the cluster bus), and an OS-picked port can be above 55,535.
   */
  static int freePortWithBus() {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    for (int attempt = 0; attempt < 200; attempt++) {
      int p = 20_000 + r.nextInt(35_536);
      if (canBind(p) && canBind(p + 10_000)) {
        return p;
      }
    }
    throw new IllegalStateException("no free port pair (p, p + 10000) on " + LOOPBACK);
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
