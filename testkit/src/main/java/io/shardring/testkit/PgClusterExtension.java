package io.shardring.testkit;

import java.util.Optional;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ExtensionContext.Namespace;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.platform.commons.support.AnnotationSupport;

/**
 * JUnit 5 side of {@link PgShards}: starts one {@link PgCluster} per annotated test class and injects it into
 * {@code PgCluster} parameters.
 *
 * <p>The cluster lives in the class-level {@link ExtensionContext.Store}, keyed by the annotated class, so that
 * {@code @Nested} classes find their enclosing class's cluster through the store's parent lookup, while a nested
 * class with its own {@code @PgShards} gets its own. {@link #afterAll} closes it when the owning class is done; as a
 * safety net the store also closes it (JUnit closes {@link AutoCloseable} store values when their context ends), and
 * a JVM shutdown hook covers the rest.
 *
 * <p>Starting is also done lazily from {@link #resolveParameter} because with {@code @TestInstance(PER_CLASS)} the
 * constructor is resolved before any {@code BeforeAllCallback} runs.
 */
public final class PgClusterExtension implements BeforeAllCallback, AfterAllCallback, ParameterResolver {

    private static final Namespace NAMESPACE = Namespace.create(PgClusterExtension.class);

    @Override
    public void beforeAll(ExtensionContext context) {
        cluster(context);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        // remove() looks at this context only, so a nested class never closes its enclosing class's cluster
        PgCluster cluster = context.getStore(NAMESPACE).remove(key(context), PgCluster.class);
        if (cluster != null) {
            cluster.close();
        }
    }

    @Override
    public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return parameterContext.getParameter().getType() == PgCluster.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return cluster(extensionContext);
    }

    /** The cluster for the test class of {@code context}, started on first use. */
    private static PgCluster cluster(ExtensionContext context) {
        ExtensionContext classContext = classContext(context);
        int shards = annotation(classContext).map(PgShards::value).orElse(PgCluster.DEFAULT_SHARDS);
        return classContext.getStore(NAMESPACE)
                .getOrComputeIfAbsent(key(classContext), key -> PgCluster.start(shards), PgCluster.class);
    }

    /** The context of the innermost test class: method-level contexts delegate to it. */
    private static ExtensionContext classContext(ExtensionContext context) {
        ExtensionContext current = context;
        while (current.getTestMethod().isPresent() && current.getParent().isPresent()) {
            current = current.getParent().get();
        }
        return current;
    }

    /** Key = the class that carries {@code @PgShards} (the test class or an enclosing one), else the test class. */
    private static String key(ExtensionContext context) {
        Class<?> testClass = context.getRequiredTestClass();
        return "cluster:" + annotatedClass(testClass).orElse(testClass).getName();
    }

    private static Optional<PgShards> annotation(ExtensionContext context) {
        return annotatedClass(context.getRequiredTestClass())
                .flatMap(type -> AnnotationSupport.findAnnotation(type, PgShards.class));
    }

    private static Optional<Class<?>> annotatedClass(Class<?> testClass) {
        for (Class<?> type = testClass; type != null; type = type.getEnclosingClass()) {
            if (AnnotationSupport.isAnnotated(type, PgShards.class)) {
                return Optional.of(type);
            }
        }
        return Optional.empty();
    }
}
