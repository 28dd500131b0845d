package io.feedrank.streams.topology;

import io.feedrank.events.DeadLetter;
import io.feedrank.events.InteractionEvent;

/** The outcome of validating one input record: the event, or its dead letter. */
record Checked(InteractionEvent event, DeadLetter deadLetter) {
  static Checked ok(InteractionEvent e) {
    return new Checked(e, null);
  }

  static Checked dead(DeadLetter d) {
    return new Checked(null, d);
  }

  boolean valid() {
    return event != null;
  }
}
