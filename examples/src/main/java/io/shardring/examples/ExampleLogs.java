package io.shardring.examples;

/** What the examples' mains share. */
public final class ExampleLogs {
    private static final String LEVEL = "org.slf4j.simpleLogger.defaultLogLevel";

    private ExampleLogs() {
    }

    /**
     * Keeps the libraries' INFO lines (Flyway, HikariCP, the embedded servers, the router) out of a main's output,
     * so that what the example prints stands out; warnings and errors still show.
     * {@code -D}{@value #LEVEL}{@code =info} brings them back. Call it first in {@code main}, before anything logs.
     */
    public static void quiet() {
        if (System.getProperty(LEVEL) == null) {
            System.setProperty(LEVEL, "warn");
        }
    }
}
