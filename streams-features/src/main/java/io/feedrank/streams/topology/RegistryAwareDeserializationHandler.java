package io.feedrank.streams.topology;

import io.feedrank.avro.serde.RegistryUnavailableException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.LogAndContinueExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * For the records Kafka Streams deserializes itself (the items and users tables, internal topics):
 * a record that cannot be read is logged and skipped, as {@link LogAndContinueExceptionHandler}
 * does, unless the registry is why ({@link RegistryUnavailableException}). That record is fine and
 * fails its thread instead, to be read again once the registry answers, rather than leave an item's
 * or a user's update out of the tables.
 */
public final class RegistryAwareDeserializationHandler extends LogAndContinueExceptionHandler {
  private static final Logger log =
      LoggerFactory.getLogger(RegistryAwareDeserializationHandler.class);

  @Override
  public Response handleError(
      ErrorHandlerContext context, ConsumerRecord<byte[], byte[]> record, Exception exception) {
    if (RegistryUnavailableException.isCauseOf(exception)) {
      log.error(
          "features: the schema registry could not give the writer schema of {}-{}@{}; failing"
              + " the thread so that the record is read again: {}",
          context.topic(),
          context.partition(),
          context.offset(),
          exception.getMessage());
      return Response.fail();
    }
    return super.handleError(context, record, exception);
  }
}
