package io.shardring.examples.tenant;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * What an example's {@code run} prints: kept for the test's assertions, and passed on to {@code System.out} as it
 * comes (Surefire's {@code *-output.txt}), so a run that fails half-way still shows how far it got.
 */
final class Printed {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

    /** The stream to give the example. */
    final PrintStream out = new PrintStream(new OutputStream() {
        @Override
        public synchronized void write(int b) {
            bytes.write(b);
            System.out.write(b);
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            bytes.write(b, off, len);
            System.out.write(b, off, len);
        }
    }, true, StandardCharsets.UTF_8);

    /** Everything printed so far. */
    @Override
    public String toString() {
        out.flush();
        synchronized (out) {
            return bytes.toString(StandardCharsets.UTF_8);
        }
    }
}
