package io.shardring.router.topology;

import java.util.List;
import java.util.Locale;

/** How messages about configuration values show them: never a password, credentials in URLs masked. */
final class ConfigValues {

    private ConfigValues() {
    }

    /** Whether the field at {@code path} holds a secret, whose value no message shows. */
    static boolean isSecret(String path) {
        return path.toLowerCase(Locale.ROOT).contains("password");
    }

    /** Text for a message: hidden for password fields, credentials in URLs masked, cut at 80 characters. */
    static String shown(String path, String text) {
        if (isSecret(path)) {
            return "(hidden)";
        }
        String s = NodeConfig.maskUrl(text);
        if (s.length() > 80) {
            s = s.substring(0, 80) + "...";
        }
        return "'" + s + "'";
    }

    /** The allowed name closest to a misspelt one (same letters ignoring case, or at most two edits), or null. */
    static String suggestion(String given, List<String> allowed) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String a : allowed) {
            if (a.equalsIgnoreCase(given)) {
                return a;
            }
            int d = editDistance(given.toLowerCase(Locale.ROOT), a.toLowerCase(Locale.ROOT));
            if (d < bestDistance) {
                bestDistance = d;
                best = a;
            }
        }
        return bestDistance <= 2 ? best : null;
    }

    private static int editDistance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
