package io.feedrank.localstack;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Gives an integration test a started {@link LocalStack}: declare a {@code LocalStack} parameter on
 * a test, lifecycle method or constructor.
 *
 * <p>By default one stack is shared by every test class of the test JVM (started on first use,
 * stopped when the run ends, also when tests fail). {@code dedicated = true} gives the class its
 * own stack, stopped after the class.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(LocalStackExtension.class)
public @interface LocalStackTest {
  /** Own stack for this class instead of the shared one. */
  boolean dedicated() default false;

  /** Partitions of multi-partition topics of a dedicated stack (0 = DESIGN defaults). */
  int partitions() default 0;
}
