package io.shardring.router.jooq;

import io.shardring.router.jdbc.CrossShard;
import io.shardring.router.jdbc.Merged;
import io.shardring.router.jdbc.ReadPreference;
import io.shardring.router.jdbc.ShardResult;
import io.shardring.router.jdbc.ShardedDataSource;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;
import java.util.function.Function;
import javax.sql.DataSource;
import org.jooq.DSLContext;
import org.jooq.Record;
import org.jooq.ResultQuery;
import org.jooq.SQLDialect;
import org.jooq.conf.Settings;
import org.jooq.impl.DSL;

/**
 * jOOQ on a sharded cluster: {@code dsl.forKey(tenantId)} is a {@link DSLContext} on the key's shard.
 * jOOQ is an optional dependency of shardring; this class needs it on the class path.
 *
 * <pre>{@code
 * ShardedDsl dsl = ShardedDsl.of(shards);
 * dsl.forKey(tenantId).insertInto(ORDERS).set(...).execute();
 * long n = dsl.read(tenantId, ReadPreference.secondaryPreferred().maxStaleness(Duration.ofSeconds(1)),
 *         ctx -> ctx.fetchCount(ORDERS));
 * List<Order> orders = dsl.inTransaction(tenantId, ctx -> ctx.selectFrom(ORDERS).fetchInto(Order.class));
 * }</pre>
 */
public final class ShardedDsl {
    private final ShardedDataSource router;
    private final SQLDialect dialect;
    private final Settings settings;
    /** One context per node pool; contexts are thread-safe and cheap to keep. */
    private final Map<DataSource, DSLContext> contexts = new ConcurrentHashMap<>();

    private ShardedDsl(ShardedDataSource router, SQLDialect dialect, Settings settings) {
        this.router = router;
        this.dialect = dialect;
        this.settings = settings;
    }

    public static ShardedDsl of(ShardedDataSource router) {
        return new ShardedDsl(router, SQLDialect.POSTGRES, new Settings());
    }

    public static ShardedDsl of(ShardedDataSource router, SQLDialect dialect, Settings settings) {
        return new ShardedDsl(router, dialect, settings);
    }

    /**
     * A context on the key's primary shard; each statement borrows a pooled connection in auto-commit.
     * Use it for reads: writes belong in {@link #inTransaction}, which retries on the new owner after a
     * rebalance moved the key.
     */
    public DSLContext forKey(Object key) {
        return contextFor(router.forKey(key));
    }

    /**
     * A context for reads of the key by {@code preference}: its primary, a secondary store of its arc or a standby,
     * within the preference's staleness bound (see {@link ReadPreference}). The target is chosen now; for a read
     * that also fails over when the target dies mid-call, use {@link #read}.
     */
    public DSLContext forKey(Object key, ReadPreference preference) {
        return contextFor(router.forKey(key, preference));
    }

    /**
     * Runs a read of the key by {@code preference}; a target that cannot be reached is marked down and the read runs
     * on the next one the preference allows.
     */
    public <T> T read(Object key, ReadPreference preference, Function<DSLContext, T> work) {
        return router.read(key, preference, c -> work.apply(DSL.using(c, dialect, settings)));
    }

    /** A context on one node's primary. */
    public DSLContext forNode(String nodeId) {
        return contextFor(router.node(nodeId));
    }

    private DSLContext contextFor(DataSource ds) {
        DSLContext ctx = contexts.get(ds);
        if (ctx == null) {
            if (contexts.size() > 64) {
                contexts.clear(); // pools of nodes that left the topology; rebuilt on demand
            }
            ctx = DSL.using(ds, dialect, settings);
            DSLContext raced = contexts.putIfAbsent(ds, ctx);
            if (raced != null) {
                ctx = raced;
            }
        }
        return ctx;
    }

    /**
     * Runs {@code work} in one transaction on the key's shard, with the router's rollback and its retries after a
     * stale-topology rejection (on the new owner, until {@code router.cutoverWait} runs out).
     */
    public <T> T inTransaction(Object key, Function<DSLContext, T> work) {
        return router.inTransaction(key, c -> work.apply(DSL.using(c, dialect, settings)));
    }

    /** Runs {@code work} on every shard in parallel; one result or error per node. */
    public <T> Map<String, ShardResult<T>> onAllShards(Function<DSLContext, T> work) {
        return router.onAllShards(c -> work.apply(DSL.using(c, dialect, settings)));
    }

    /**
     * A top-k over all shards ({@link CrossShard#sorted}): {@code query} gets each shard's context and the number of
     * rows that shard must return at most, for its {@code limit(n)}, and must sort as {@code order} does.
     */
    public <R extends Record> Merged<List<R>> sorted(Comparator<? super R> order, int offset, int limit,
            BiFunction<DSLContext, Integer, ? extends ResultQuery<R>> query) {
        return sorted(CrossShard.on(router), order, offset, limit, query);
    }

    /**
     * The same top-k read from the copies {@code preference} chooses; the query must keep its rows with
     * {@link #ownedRows(ReadPreference, String)} of the same preference.
     */
    public <R extends Record> Merged<List<R>> sorted(ReadPreference preference, Comparator<? super R> order,
            int offset, int limit, BiFunction<DSLContext, Integer, ? extends ResultQuery<R>> query) {
        return sorted(CrossShard.on(router, preference), order, offset, limit, query);
    }

    private <R extends Record> Merged<List<R>> sorted(CrossShard cross, Comparator<? super R> order, int offset,
            int limit, BiFunction<DSLContext, Integer, ? extends ResultQuery<R>> query) {
        return cross.sorted(order, offset, limit, (c, n) -> query.apply(DSL.using(c, dialect, settings), n).fetch());
    }

    /** Aggregates over all shards ({@link CrossShard#aggregate}), one {@code Agg} per selected field. */
    public Merged<List<CrossShard.AggregateRow>> aggregate(Function<DSLContext, ? extends ResultQuery<?>> query,
            CrossShard.Agg... columns) {
        return aggregate(CrossShard.on(router), query, columns);
    }

    /** The same aggregates read from the copies {@code preference} chooses; see {@link #ownedRows}. */
    public Merged<List<CrossShard.AggregateRow>> aggregate(ReadPreference preference,
            Function<DSLContext, ? extends ResultQuery<?>> query, CrossShard.Agg... columns) {
        return aggregate(CrossShard.on(router, preference), query, columns);
    }

    private Merged<List<CrossShard.AggregateRow>> aggregate(CrossShard cross,
            Function<DSLContext, ? extends ResultQuery<?>> query, CrossShard.Agg... columns) {
        return cross.aggregateRows(
                c -> query.apply(DSL.using(c, dialect, settings)).fetch().stream().map(Record::intoArray).toList(),
                columns);
    }

    /**
     * The condition that keeps a cross-shard query to the rows it must count ({@link CrossShard#ownedRows}): the
     * keys each primary owns (a null preference), or the arcs each copy was chosen for.
     */
    public org.jooq.Condition ownedRows(ReadPreference preference, String keyColumn) {
        CrossShard cross = preference == null ? CrossShard.on(router) : CrossShard.on(router, preference);
        return DSL.condition(cross.ownedRows(keyColumn));
    }

    public ShardedDataSource router() {
        return router;
    }
}
