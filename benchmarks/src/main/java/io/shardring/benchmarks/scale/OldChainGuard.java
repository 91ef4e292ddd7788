package io.shardring.benchmarks.scale;

import io.shardring.router.Sql;
import io.shardring.router.StaleTopologyException;
import io.shardring.router.ring.KeyType;
import io.shardring.router.ring.TokenRange;
import io.shardring.router.topology.ShardedTable;
import java.util.List;

/**
 * The baseline of the scale suite's guard figures: the ownership guard's trigger function as
 * {@code OwnershipGuard.functionSql} generated it before the binary search, a linear chain
 * {@code h BETWEEN lo AND hi OR ...} over every owned interval in the order given. Copied verbatim from
 * {@code router/src/main/java/io/shardring/router/schema/OwnershipGuard.java} of commit 98d6045, so that the
 * suite keeps measuring the old guard whatever the router ships now.
 */
final class OldChainGuard {
    private OldChainGuard() {
    }

    /** {@code CREATE OR REPLACE FUNCTION shardring."fn"() ...}: the old guard for {@code owned}. */
    static String functionSql(String fn, String nodeId, KeyType keyType, ShardedTable t, List<TokenRange> owned) {
        StringBuilder check = new StringBuilder();
        for (TokenRange r : owned) {
            for (long[] iv : r.inclusiveIntervals()) {
                if (check.length() > 0) {
                    check.append(" OR ");
                }
                check.append("h BETWEEN ").append(iv[0]).append(" AND ").append(iv[1]);
            }
        }
        if (check.length() == 0) {
            check.append("false");
        }
        String col = t.quotedKeyColumn();
        String hash = keyType.sqlFunction();
        return "CREATE OR REPLACE FUNCTION shardring." + Sql.quote(fn) + "() RETURNS trigger LANGUAGE plpgsql AS $guard$\n"
                + "DECLARE h bigint; o bigint; ok boolean;\n"
                + "BEGIN\n"
                + "  IF TG_OP = 'DELETE' THEN h := " + hash + "(OLD." + col + ", 0);\n"
                + "  ELSE h := " + hash + "(NEW." + col + ", 0); END IF;\n"
                // a NULL key is left to the column's NOT NULL constraint, which names it better
                + "  ok := h IS NULL OR (" + check + ");\n"
                // an UPDATE that changes the key must own the old key too, or a stale router could move a row
                // out of a fenced range
                + "  IF ok AND TG_OP = 'UPDATE' AND OLD." + col + " IS DISTINCT FROM NEW." + col + " THEN\n"
                + "    o := " + hash + "(OLD." + col + ", 0);\n"
                + "    ok := o IS NULL OR (" + check.toString().replace("h BETWEEN", "o BETWEEN") + ");\n"
                + "  END IF;\n"
                // the bypass needs the setting AND membership of the tool's role: a setting alone is open to anyone
                + "  IF NOT ok AND NOT (coalesce(current_setting('shardring.bypass_guard', true), '') = 'on'\n"
                + "                     AND shardring.may_bypass_guard()) THEN\n"
                + "    RAISE EXCEPTION USING ERRCODE = '" + StaleTopologyException.SQLSTATE + "',\n"
                + "      MESSAGE = format('shard %s does not own key %s of %s.%s', " + Sql.literal(nodeId) + ", "
                + keyText(col) + ", TG_TABLE_SCHEMA, TG_TABLE_NAME),\n"
                + "      HINT = 'the router''s topology is stale: refresh it and retry on the key''s owner';\n"
                + "  END IF;\n"
                + "  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;\n"
                + "  RETURN NEW;\n"
                + "END\n$guard$";
    }

    private static String keyText(String col) {
        return "CASE WHEN TG_OP = 'DELETE' THEN OLD." + col + "::text ELSE NEW." + col + "::text END";
    }
}
