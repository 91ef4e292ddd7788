package io.shardring.migration.move;

import io.shardring.router.ring.TokenRange;
import java.util.ArrayList;
import java.util.List;

/** The journal's JSON form of a list of arcs (their arithmetic is {@link io.shardring.router.ring.HashIntervals}). */
public final class Intervals {
    private Intervals() {
    }

    static String json(List<TokenRange> ranges) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < ranges.size(); i++) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append('[').append(ranges.get(i).startExclusive()).append(',').append(ranges.get(i).endInclusive())
                    .append(']');
        }
        return sb.append(']').toString();
    }

    static List<TokenRange> parseJson(String json) {
        List<TokenRange> out = new ArrayList<>();
        String body = json.trim();
        body = body.substring(1, body.length() - 1).trim();
        if (body.isEmpty()) {
            return out;
        }
        for (String pair : body.split("\\],\\s*\\[")) {
            String p = pair.replace("[", "").replace("]", "");
            String[] parts = p.split(",");
            out.add(new TokenRange(Long.parseLong(parts[0].trim()), Long.parseLong(parts[1].trim())));
        }
        return out;
    }
}
