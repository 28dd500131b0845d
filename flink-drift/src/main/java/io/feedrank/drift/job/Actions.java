package io.feedrank.drift.job;

import java.time.Instant;
import java.util.Locale;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One INFO line per retrain command and per alert the job issues, where it issues them: what the
 * operator reads in the log when the job acts (model, reason, the features with their statistics
 * and windows). A replay after a restart logs a replayed record again, with its same id.
 */
final class Actions {
  private static final Logger log = LoggerFactory.getLogger(Actions.class);

  private Actions() {}

  static void command(Command c) {
    log.info(
        "drift: retrain command {} for model {} ({}, reference {}) at {}: {}{}",
        c.commandId,
        c.modelName,
        c.reason,
        c.referenceVersion,
        Instant.ofEpochMilli(c.issuedAt),
        c.message,
        c.evidence.isEmpty()
            ? ""
            : c.evidence.stream()
                .map(Actions::evidence)
                .collect(Collectors.joining("; ", " [", "]")));
  }

  static void alert(AlertEvent a) {
    log.info(
        "drift: alert {} {} ({}){} reference {} at {}: {}",
        a.kind,
        a.alertId,
        a.severity,
        a.feature == null ? "" : " feature " + a.feature,
        a.referenceVersion,
        Instant.ofEpochMilli(a.time),
        a.message);
  }

  private static String evidence(Command.Evidence e) {
    return String.format(
        Locale.ROOT,
        "%s window [%s, %s) n %d PSI %.3f%s%s, %d windows",
        e.feature,
        Instant.ofEpochMilli(e.windowStart),
        Instant.ofEpochMilli(e.windowEnd),
        e.n,
        e.psi,
        e.ksStatistic == null
            ? ""
            : String.format(Locale.ROOT, " KS %.3f (p %.2g)", e.ksStatistic, e.ksPValue),
        e.chi2PValue == null ? "" : String.format(Locale.ROOT, " chi2 p %.2g", e.chi2PValue),
        e.consecutiveWindows);
  }
}
