package io.feedrank.drift;

import org.apache.flink.configuration.Configuration;

/**
 * Flink in this process (a MiniCluster: {@code ./feedrank drift}, {@code up}, the demo, the drift
 * benchmark and the tests) with every listener on 127.0.0.1. By default a MiniCluster's blob server
 * and its data exchange listen on every interface, open to the network, and an enabled web UI would
 * be unbound too.
 */
public final class LocalFlink {
  private LocalFlink() {}

  /** Sets the bind and advertised addresses of {@code c} to 127.0.0.1; returns {@code c}. */
  public static Configuration loopback(Configuration c) {
    c.setString("rest.bind-address", "127.0.0.1");
    c.setString("rest.address", "127.0.0.1");
    c.setString("jobmanager.bind-host", "127.0.0.1");
    c.setString("jobmanager.rpc.address", "127.0.0.1");
    c.setString("taskmanager.bind-host", "127.0.0.1");
    c.setString("taskmanager.host", "127.0.0.1");
    return c;
  }

  /** A new configuration with {@link #loopback}. */
  public static Configuration loopback() {
    return loopback(new Configuration());
  }
}
