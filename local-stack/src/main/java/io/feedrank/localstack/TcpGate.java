package io.feedrank.localstack;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP forwarder on 127.0.0.1 in front of a real server, for cutting a client off from it: while
 * shut, it resets every open and new connection, as a network partition or a server that went away
 * would, or for moving its new connections to another server ({@link #retarget}). Not a fake of the
 * server: open, every byte goes to the real one and back. For tests.
 */
public final class TcpGate implements AutoCloseable {
  private final ServerSocket server;
  private volatile InetSocketAddress target;
  private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
  private final AtomicInteger refused = new AtomicInteger();
  private final AtomicInteger turns = new AtomicInteger();
  private volatile boolean open = true;

  /**
   * Runs on the acceptor thread between the first look at {@link #open} and the tracking of the new
   * connection; a test holds it there to shut the gate in between. Does nothing otherwise.
   */
  volatile Runnable beforeTrack = () -> {};

  /** A gate, open, on a free port of 127.0.0.1, in front of {@code host:port}. */
  public TcpGate(String host, int port) throws IOException {
    this.target = new InetSocketAddress(host, port);
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread acceptor = new Thread(this::accept, "tcp-gate-" + server.getLocalPort());
    acceptor.setDaemon(true);
    acceptor.start();
  }

  public int port() {
    return server.getLocalPort();
  }

  /** Connections reset while the gate was shut, over the gate's life (not reset when it opens). */
  public int refused() {
    return refused.get();
  }

  /**
   * The clients' turns so far, over every connection: each time a client sends after the server has
   * answered it (or sends first). A batch of commands written at once and then answered, such as a
   * Redis pipeline, is one turn; the same commands each waiting for its answer are one turn each.
   */
  public int turns() {
    return turns.get();
  }

  /**
   * Resets every open connection, and from now on every new one. Under the same lock as the
   * tracking of a new connection: one accepted while the gate was open but tracked only after this
   * ran would otherwise escape the reset and forward through a shut gate.
   */
  public synchronized void shut() {
    open = false;
    sockets.forEach(TcpGate::reset);
  }

  /** Forwards new connections again. */
  public void open() {
    open = true;
  }

  /**
   * Forwards new connections to {@code host:port} from now on, and leaves the open ones to the old
   * server, as a Kubernetes Service or a DNS name re-pointed at a promoted replica does.
   */
  public void retarget(String host, int port) {
    target = new InetSocketAddress(host, port);
  }

  private void accept() {
    while (!server.isClosed()) {
      Socket in;
      try {
        in = server.accept();
      } catch (IOException e) {
        return; // closed
      }
      if (!open) {
        refused.incrementAndGet();
        reset(in);
        continue;
      }
      Socket out = new Socket();
      try {
        out.connect(target, 5_000);
      } catch (IOException e) {
        reset(in);
        continue;
      }
      beforeTrack.run();
      if (!track(in, out)) {
        refused.incrementAndGet();
        reset(in);
        reset(out);
        continue;
      }
      // which side sent last on this connection: a client's bytes after the server's start a turn
      AtomicInteger clientSentLast = new AtomicInteger(0);
      pump(
          in,
          out,
          () -> {
            if (clientSentLast.getAndSet(1) == 0) {
              turns.incrementAndGet();
            }
          });
      pump(out, in, () -> clientSentLast.set(0));
    }
  }

  /** Tracks a new connection for {@link #shut()} to reset, unless the gate has been shut. */
  private synchronized boolean track(Socket in, Socket out) {
    if (!open) {
      return false;
    }
    sockets.add(in);
    sockets.add(out);
    return true;
  }

  private void pump(Socket from, Socket to, Runnable onBytes) {
    Thread t =
        new Thread(
            () -> {
              byte[] buf = new byte[16 * 1024];
              try (InputStream i = from.getInputStream();
                  OutputStream o = to.getOutputStream()) {
                for (int n; (n = i.read(buf)) >= 0; ) {
                  onBytes.run(); // before they are passed on, and so before any answer to them
                  o.write(buf, 0, n);
                }
              } catch (IOException e) {
                // reset or closed: end both directions
              } finally {
                reset(from);
                reset(to);
                sockets.remove(from);
                sockets.remove(to);
              }
            },
            "tcp-gate-pump");
    t.setDaemon(true);
    t.start();
  }

  private static void reset(Socket s) {
    try {
      s.setSoLinger(true, 0); // RST, not FIN
      s.close();
    } catch (IOException e) {
      // already closed
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
    sockets.forEach(TcpGate::reset);
  }
}
