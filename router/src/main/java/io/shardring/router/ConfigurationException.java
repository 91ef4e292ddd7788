package io.shardring.router;

/** A configuration value is missing, out of range or inconsistent; the message names it. */
public class ConfigurationException extends ShardringException {
    private static final long serialVersionUID = 1L;

    public ConfigurationException(String message) {
        super(ErrorCode.INVALID_CONFIGURATION, message);
    }

    public ConfigurationException(String message, Throwable cause) {
        super(ErrorCode.INVALID_CONFIGURATION, message, cause);
    }
}
