package io.shardring.migration.adopt;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The sessions on a node's database that do not come through a shardring router: an application that still connects
 * to the adopted database directly. Until the first cutover every key is its, so nothing stops it; after that its writes
 * to moved keys are refused by the guard (SQLSTATE SR001). Routers and the tool name themselves in
 * {@code application_name} ("shardring..."); logical replication's workers are not client backends.
 */
public final class UnroutedClients {
    /** Sessions of one application from one address. */
    public record Client(String application, String address, int sessions, int writing) {
        @Override
        public String toString() {
            return "'" + application + "' from " + address + ": " + sessions + (sessions == 1 ? " session" : " sessions")
                    + (writing > 0 ? ", " + writing + " writing" : "");
        }
    }

    private UnroutedClients() {
    }

    /**
     * The clients connected to the connection's database that are not routers or the tool, grouped by application and
     * address. A session counts as writing when it holds a transaction id (it wrote, or locked rows) in any of the
     * samples taken over {@code sample}: a write is a moment, so one look would miss most of them.
     */
    public static List<Client> list(Connection c, Duration sample) throws SQLException {
        Map<Integer, String[]> seen = new LinkedHashMap<>();
        Set<Integer> writing = new HashSet<>();
        long end = System.nanoTime() + sample.toNanos();
        do {
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT pid,"
                    + " coalesce(nullif(application_name, ''), '(no application_name)'),"
                    + " coalesce(host(client_addr), 'local socket'), backend_xid IS NOT NULL FROM pg_stat_activity"
                    + " WHERE datname = current_database() AND backend_type = 'client backend'"
                    + " AND pid <> pg_backend_pid() AND coalesce(application_name, '') NOT LIKE 'shardring%'")) {
                while (rs.next()) {
                    seen.putIfAbsent(rs.getInt(1), new String[] {rs.getString(2), rs.getString(3)});
                    if (rs.getBoolean(4)) {
                        writing.add(rs.getInt(1));
                    }
                }
            }
            if (System.nanoTime() < end) {
                sleep(25);
            }
        } while (System.nanoTime() < end);
        Map<String, int[]> groups = new LinkedHashMap<>();
        Map<String, String[]> names = new LinkedHashMap<>();
        seen.forEach((pid, who) -> {
            String key = who[0] + "\0" + who[1];
            names.putIfAbsent(key, who);
            int[] n = groups.computeIfAbsent(key, k -> new int[2]);
            n[0]++;
            if (writing.contains(pid)) {
                n[1]++;
            }
        });
        List<Client> out = new ArrayList<>();
        groups.forEach((key, n) -> out.add(new Client(names.get(key)[0], names.get(key)[1], n[0], n[1])));
        return out;
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
