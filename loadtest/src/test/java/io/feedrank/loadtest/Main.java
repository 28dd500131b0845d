package io.feedrank.loadtest;

import io.feedrank.loadtest.config.LoadConfig;
import io.feedrank.loadtest.endpoints.Fallbacks;
import io.feedrank.loadtest.preflight.Preflight;
import io.feedrank.loadtest.simulations.RankRamp;
import io.feedrank.loadtest.simulations.RankSoak;
import io.feedrank.loadtest.simulations.RankSpike;
import io.feedrank.loadtest.simulations.RankSteady;
import java.io.PrintStream;
import java.util.Map;
import java.util.function.Function;

/**
 * A load test's entry point ({@code ./feedrank loadtest}'s JVM; RankSmokeIT calls {@link #run}):
 * the settings, the {@link Preflight pre-flight}, then Gatling's own entry point with the same
 * arguments ({@code --simulation CLASS --results-folder DIR}).
 *
 * <p>Exit codes: 0 the run passed; 1 Gatling's own failures (arguments it refuses, a simulation
 * that throws); {@value #REFUSED} a setting refused, or an assertion failed (p99, errors, {@link
 * Fallbacks fallbacks}); 3 an OutOfMemoryError (the JVM's {@code -XX:+ExitOnOutOfMemoryError});
 * {@value #PREFLIGHT_FAILED} the pre-flight failed, and no load was sent.
 */
public final class Main {
  /** A setting refused (as the launcher's own refusals), or an assertion failed (Gatling's 2). */
  public static final int REFUSED = 2;

  /**
   * The target failed the pre-flight: down, not a ranker, the key refused, not ready, or its rate
   * limit below the run's peak.
   */
  public static final int PREFLIGHT_FAILED = 4;

  /** A simulation's peak arrival rate, requests/s, and the setting it comes from. */
  record Peak(double rate, String setting) {}

  private static final Map<String, Function<LoadConfig, Peak>> PEAKS =
      Map.of(
          RankSteady.class.getName(), c -> new Peak(c.rate(), "rate"),
          RankSoak.class.getName(), c -> new Peak(c.rate(), "rate"),
          RankRamp.class.getName(), c -> new Peak(c.rampEndRate(), "the ramp's max.rate"),
          RankSpike.class.getName(),
              c -> new Peak(c.rate() * c.spikeFactor(), "the spike's rate × spike.factor"));

  private Main() {}

  public static void main(String[] args) throws InterruptedException {
    int code = run(System.out, System.err, args);
    System.out.flush();
    System.exit(code);
  }

  /**
   * Runs the load test Gatling's {@code args} name, returning the exit code: Gatling's, or {@value
   * #REFUSED} when its run passed with more fallbacks than {@code assert.fallback.percent}. Why a
   * run failed goes to {@code err}, the fallbacks of one that passed to {@code out}.
   */
  public static int run(PrintStream out, PrintStream err, String... args)
      throws InterruptedException {
    String simulation = simulation(args);
    Function<LoadConfig, Peak> peakOf = PEAKS.get(simulation);
    if (peakOf == null) {
      err.println(
          "feedrank loadtest: --simulation must be one of "
              + PEAKS.keySet()
              + ", got "
              + simulation);
      return REFUSED;
    }
    LoadConfig c;
    try {
      c = LoadConfig.fromSystemProperties();
      Peak peak = peakOf.apply(c);
      Preflight.check(c, peak.rate(), peak.setting());
    } catch (IllegalArgumentException e) {
      err.println("feedrank loadtest: " + e.getMessage());
      return REFUSED;
    } catch (Preflight.Failed e) {
      err.println("feedrank loadtest: pre-flight: " + e.getMessage() + "; no load sent");
      return PREFLIGHT_FAILED;
    }
    Fallbacks.OF_RUN.reset();
    int exit = io.gatling.app.Gatling$.MODULE$.fromArgs(args);
    Fallbacks.Summary fallbacks = Fallbacks.OF_RUN.summary();
    if (fallbacks.percent() > c.maxFallbackPercent()) {
      err.println(
          "feedrank loadtest: "
              + fallbacks
              + "; over assert.fallback.percent "
              + c.maxFallbackPercent()
              + ": the run measured the ranker's fallbacks");
      return exit == 0 ? REFUSED : exit;
    }
    out.println("feedrank loadtest: " + fallbacks);
    return exit;
  }

  private static String simulation(String[] args) {
    for (int i = 0; i + 1 < args.length; i++) {
      if (args[i].equals("--simulation") || args[i].equals("-s")) {
        return args[i + 1];
      }
    }
    return null;
  }
}
