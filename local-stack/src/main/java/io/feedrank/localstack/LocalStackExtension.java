package io.feedrank.localstack;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.platform.commons.support.AnnotationSupport;

/**
 * Resolves {@link LocalStack} parameters. The stack lives in a JUnit store, which closes it when
 * its scope ends: the root store (whole run) for the shared stack, the class's store for a
 * dedicated one. Closing stops every process and deletes the stack's directory, whatever the test
 * outcome; the stack's own shutdown hook and child-process watchers cover a JVM that is killed.
 */
public final class LocalStackExtension implements ParameterResolver {
  private static final ExtensionContext.Namespace NS =
      ExtensionContext.Namespace.create(LocalStackExtension.class);

  @Override
  public boolean supportsParameter(
      ParameterContext parameterContext, ExtensionContext extensionContext) {
    return parameterContext.getParameter().getType() == LocalStack.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameterContext, ExtensionContext context) {
    try {
      return stack(context);
    } catch (RuntimeException e) {
      throw new ParameterResolutionException(
          "could not start the local stack: " + e.getMessage(), e);
    }
  }

  /** The stack for this test context, started on first use. */
  public static LocalStack stack(ExtensionContext context) {
    Class<?> testClass = context.getRequiredTestClass();
    LocalStackTest ann =
        AnnotationSupport.findAnnotation(testClass, LocalStackTest.class).orElse(null);
    boolean dedicated = ann != null && ann.dedicated();
    ExtensionContext owner = dedicated ? classContext(context) : context.getRoot();
    int partitions = dedicated ? ann.partitions() : 0;
    return owner
        .getStore(NS)
        .getOrComputeIfAbsent(
            dedicated ? "stack:" + testClass.getName() : "stack",
            k -> LocalStack.builder().partitions(partitions).build().start(),
            LocalStack.class);
  }

  private static ExtensionContext classContext(ExtensionContext context) {
    ExtensionContext c = context;
    while (c.getTestMethod().isPresent() && c.getParent().isPresent()) {
      c = c.getParent().get();
    }
    return c;
  }
}
