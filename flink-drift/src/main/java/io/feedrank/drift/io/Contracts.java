package io.feedrank.drift.io;

import io.feedrank.drift.job.AlertEvent;
import io.feedrank.drift.job.Command;
import io.feedrank.drift.job.OnlineCtr;
import io.feedrank.drift.job.Report;
import io.feedrank.events.Alert;
import io.feedrank.events.DriftEvidence;
import io.feedrank.events.DriftKind;
import io.feedrank.events.DriftReport;
import io.feedrank.events.OnlineCtrReport;
import io.feedrank.events.RetrainCommand;
import io.feedrank.events.RetrainReason;
import io.feedrank.events.Severity;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/**
 * The job's records as the Avro contracts of {@code drift-reports}, {@code retrain-commands},
 * {@code alerts}, {@code online-ctr}.
 */
public final class Contracts {
  private Contracts() {}

  public static DriftReport report(Report r) {
    return DriftReport.newBuilder()
        .setWindowStart(Instant.ofEpochMilli(r.windowStart))
        .setWindowEnd(Instant.ofEpochMilli(r.windowEnd))
        .setModelName(r.modelName)
        .setReferenceVersion(r.referenceVersion)
        .setFeature(r.feature)
        .setKind(DriftKind.valueOf(r.kind))
        .setN(r.n)
        .setReferenceN(r.referenceN)
        .setPsi(r.psi)
        .setKsStatistic(r.ksStatistic)
        .setKsPValue(r.ksPValue)
        .setChi2Statistic(r.chi2Statistic)
        .setChi2PValue(r.chi2PValue)
        .setMean(r.mean)
        .setReferenceMean(r.referenceMean)
        .setMeanRelativeChange(r.meanRelativeChange)
        .setDrifted(r.drifted)
        .setPsiThreshold(r.psiThreshold)
        .setKsThreshold(r.ksThreshold)
        .setPValueThreshold(r.pValueThreshold)
        .setLateEvents(r.lateEvents)
        .setSampleSize(r.sampleSize)
        .setReferenceHour(r.referenceHour)
        .build();
  }

  public static RetrainCommand command(Command c) {
    return RetrainCommand.newBuilder()
        .setCommandId(c.commandId)
        .setModelName(c.modelName)
        .setIssuedAt(Instant.ofEpochMilli(c.issuedAt))
        .setReason(RetrainReason.valueOf(c.reason))
        .setEvidence(
            c.evidence.stream()
                .map(
                    e ->
                        DriftEvidence.newBuilder()
                            .setFeature(e.feature)
                            .setKind(DriftKind.valueOf(e.kind))
                            .setWindowStart(Instant.ofEpochMilli(e.windowStart))
                            .setWindowEnd(Instant.ofEpochMilli(e.windowEnd))
                            .setN(e.n)
                            .setPsi(e.psi)
                            .setKsStatistic(e.ksStatistic)
                            .setKsPValue(e.ksPValue)
                            .setChi2PValue(e.chi2PValue)
                            .setConsecutiveWindows(e.consecutiveWindows)
                            .setSampleSize(e.sampleSize)
                            .build())
                .toList())
        .setReferenceVersion(c.referenceVersion)
        .setMessage(c.message == null ? "" : c.message)
        .build();
  }

  public static Alert alert(AlertEvent a) {
    Map<String, String> details = new HashMap<>();
    if (a.feature != null) {
      details.put("feature", a.feature);
    }
    if (a.referenceVersion != null) {
      details.put("reference_version", a.referenceVersion);
    }
    return Alert.newBuilder()
        .setAlertId(a.alertId)
        .setTime(Instant.ofEpochMilli(a.time))
        .setSeverity(Severity.valueOf(a.severity))
        .setKind(a.kind)
        .setMessage(a.message)
        .setDetails(details)
        .build();
  }

  public static OnlineCtrReport onlineCtr(
      OnlineCtr.Window w, String modelName, long attributionWindowMs) {
    return OnlineCtrReport.newBuilder()
        .setWindowStart(Instant.ofEpochMilli(w.windowStart))
        .setWindowEnd(Instant.ofEpochMilli(w.windowEnd))
        .setModelName(modelName)
        .setModelVersion(w.modelVersion)
        .setVariant(w.variant)
        .setImpressions(w.impressions)
        .setClicks(w.clicks)
        .setCtr(w.ctr)
        .setAttributionWindowMs(attributionWindowMs)
        .setFallbackImpressions(w.fallbackImpressions)
        .setFallbackClicks(w.fallbackClicks)
        .build();
  }
}
