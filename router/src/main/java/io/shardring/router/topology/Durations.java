package io.shardring.router.topology;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The configuration's durations: {@code 500ms}, {@code 5s}, {@code 2m}, {@code 1h}, {@code 1d} or ISO-8601. */
final class Durations {
    private static final Pattern DURATION = Pattern.compile("(\\d{1,18})(ms|s|m|h|d)");

    private Durations() {
    }

    /** The duration written as {@code text}, or null if it is none. */
    static Duration parse(String text) {
        String s = text.trim();
        Matcher m = DURATION.matcher(s);
        try {
            if (m.matches()) {
                long n = Long.parseLong(m.group(1));
                switch (m.group(2)) {
                    case "ms":
                        return Duration.ofMillis(n);
                    case "s":
                        return Duration.ofSeconds(n);
                    case "m":
                        return Duration.ofMinutes(n);
                    case "h":
                        return Duration.ofHours(n);
                    default:
                        return Duration.ofDays(n);
                }
            }
            if (s.length() > 1 && (s.charAt(0) == 'P' || s.charAt(0) == 'p')) {
                return Duration.parse(s);
            }
        } catch (ArithmeticException | DateTimeParseException e) {
            return null;
        }
        return null;
    }

    /** The shortest exact form that {@link #parse} reads back: 5s, 10m, 250ms, or ISO-8601. */
    static String format(Duration d) {
        String s = shortForm(d);
        return d.equals(parse(s)) ? s : d.toString();
    }

    private static String shortForm(Duration d) {
        if (d.isNegative()) {
            return d.toString();
        }
        if (d.isZero()) {
            return "0s";
        }
        if (d.getNano() % 1_000_000 != 0) {
            return d.toString();
        }
        long seconds = d.getSeconds();
        if (d.getNano() != 0) {
            return seconds > Long.MAX_VALUE / 1000 ? d.toString() : d.toMillis() + "ms";
        }
        if (seconds % 86_400 == 0) {
            return seconds / 86_400 + "d";
        }
        if (seconds % 3600 == 0) {
            return seconds / 3600 + "h";
        }
        if (seconds % 60 == 0) {
            return seconds / 60 + "m";
        }
        return seconds + "s";
    }
}
