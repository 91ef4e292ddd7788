package io.shardring.migration.cli;

/** The command is understood but refused as things are (exit code 3); the message says why and what to do. */
final class Refused extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Refused(String message) {
        super(message);
    }
}
