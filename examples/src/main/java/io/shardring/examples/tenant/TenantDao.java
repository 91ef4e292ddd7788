package io.shardring.examples.tenant;

import static io.shardring.examples.tenant.Tables.CUSTOMERS;
import static io.shardring.examples.tenant.Tables.CUSTOMER_CREATED_AT;
import static io.shardring.examples.tenant.Tables.CUSTOMER_EMAIL;
import static io.shardring.examples.tenant.Tables.CUSTOMER_ID;
import static io.shardring.examples.tenant.Tables.CUSTOMER_NAME;
import static io.shardring.examples.tenant.Tables.CUSTOMER_TENANT_ID;
import static io.shardring.examples.tenant.Tables.ORDERS;
import static io.shardring.examples.tenant.Tables.ORDER_AMOUNT_CENTS;
import static io.shardring.examples.tenant.Tables.ORDER_CREATED_AT;
import static io.shardring.examples.tenant.Tables.ORDER_CUSTOMER_ID;
import static io.shardring.examples.tenant.Tables.ORDER_ID;
import static io.shardring.examples.tenant.Tables.ORDER_STATUS;
import static io.shardring.examples.tenant.Tables.ORDER_TENANT_ID;

import io.shardring.router.ids.Ids;
import io.shardring.router.jdbc.ReadPreference;
import io.shardring.router.jdbc.ShardResult;
import io.shardring.router.jooq.ShardedDsl;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.jooq.impl.DSL;

/**
 * Customers and orders of tenants, on the shard that owns each tenant.
 *
 * <p>Every method takes the tenant id first because it is the shard key: it picks the shard, and it is
 * also in every {@code WHERE}, so that a wrong id can never reach another tenant's rows on the same
 * shard. Writes go through {@link ShardedDsl#inTransaction}, even single statements, because only there
 * does the router retry on the new owner when a shard rejects a key it no longer owns (after a
 * rebalance); reads of the tenant's own writes use {@link ShardedDsl#forKey} (the primary), one pooled connection
 * per statement, and reports read a secondary copy within a staleness bound ({@link #orderReport}).
 */
public final class TenantDao {
    /** The status of a newly placed order. */
    public static final String NEW = "new";

    private final ShardedDsl dsl;

    public TenantDao(ShardedDsl dsl) {
        this.dsl = dsl;
    }

    /** Adds a customer to the tenant and returns its id (a UUIDv7 made here, so no round trip reads it back). */
    public UUID createCustomer(long tenantId, String name, String email) {
        UUID id = Ids.uuidV7();
        dsl.inTransaction(tenantId, ctx -> ctx.insertInto(CUSTOMERS)
                .set(CUSTOMER_TENANT_ID, tenantId)
                .set(CUSTOMER_ID, id)
                .set(CUSTOMER_NAME, name)
                .set(CUSTOMER_EMAIL, email)
                .execute());
        return id;
    }

    /**
     * Places an order of the tenant's customer with status {@value #NEW} and returns its id. The foreign
     * key includes the tenant id, so a customer of another tenant is refused by the database.
     */
    public UUID placeOrder(long tenantId, UUID customerId, long amountCents) {
        UUID id = Ids.uuidV7();
        dsl.inTransaction(tenantId, ctx -> ctx.insertInto(ORDERS)
                .set(ORDER_TENANT_ID, tenantId)
                .set(ORDER_ID, id)
                .set(ORDER_CUSTOMER_ID, customerId)
                .set(ORDER_AMOUNT_CENTS, amountCents)
                .set(ORDER_STATUS, NEW)
                .execute());
        return id;
    }

    /** The tenant's customers in id order, which for UUIDv7 ids is creation order to the millisecond. */
    public List<Customer> customers(long tenantId) {
        return dsl.forKey(tenantId)
                .select(CUSTOMER_ID, CUSTOMER_NAME, CUSTOMER_EMAIL, CUSTOMER_CREATED_AT)
                .from(CUSTOMERS)
                .where(CUSTOMER_TENANT_ID.eq(tenantId))
                .orderBy(CUSTOMER_ID)
                .fetch(r -> new Customer(tenantId, r.value1(), r.value2(), r.value3(), r.value4()));
    }

    /** One customer's orders in id order (creation order to the millisecond). */
    public List<Order> ordersOf(long tenantId, UUID customerId) {
        return dsl.forKey(tenantId)
                .select(ORDER_ID, ORDER_AMOUNT_CENTS, ORDER_STATUS, ORDER_CREATED_AT)
                .from(ORDERS)
                .where(ORDER_TENANT_ID.eq(tenantId).and(ORDER_CUSTOMER_ID.eq(customerId)))
                .orderBy(ORDER_ID)
                .fetch(r -> new Order(tenantId, r.value1(), customerId, r.value2(), r.value3(), r.value4()));
    }

    /** The sum of all the tenant's orders in cents; 0 without orders. */
    public long totalCents(long tenantId) {
        BigDecimal sum = dsl.forKey(tenantId)
                .select(DSL.coalesce(DSL.sum(ORDER_AMOUNT_CENTS), BigDecimal.ZERO))
                .from(ORDERS)
                .where(ORDER_TENANT_ID.eq(tenantId))
                .fetchSingle()
                .value1();
        return sum.longValueExact(); // PostgreSQL sums bigint as numeric; fail rather than wrap around
    }

    /** What a report may read: a copy at most a second behind, or the primary when no copy is that fresh. */
    public static final ReadPreference REPORTING = ReadPreference.secondaryPreferred()
            .maxStaleness(Duration.ofSeconds(1));

    /** A tenant's orders by status: count and sum of cents. */
    public record StatusTotal(String status, int orders, long cents) {
    }

    /**
     * The tenant's orders by status, for a report: read from a secondary copy (ring.replicationFactor >= 2) at most
     * {@link #REPORTING}'s bound behind, so reports take no load off the primary's writers; a report may miss the
     * last second of orders. The methods above read the tenant's own writes, so they read the primary.
     */
    public List<StatusTotal> orderReport(long tenantId) {
        return orderReport(tenantId, REPORTING);
    }

    /**
     * The same report read where {@code preference} allows: e.g. a tighter or looser staleness bound than
     * {@link #REPORTING}'s, or {@link ReadPreference#secondary()} to fail rather than load the primary.
     */
    public List<StatusTotal> orderReport(long tenantId, ReadPreference preference) {
        return dsl.read(tenantId, preference, ctx -> ctx
                .select(ORDER_STATUS, DSL.count(), DSL.coalesce(DSL.sum(ORDER_AMOUNT_CENTS), BigDecimal.ZERO))
                .from(ORDERS)
                .where(ORDER_TENANT_ID.eq(tenantId))
                .groupBy(ORDER_STATUS)
                .orderBy(ORDER_STATUS)
                .fetch(r -> new StatusTotal(r.value1(), r.value2(), r.value3().longValueExact())));
    }

    /** Sets an order's status; false when the tenant has no such order. */
    public boolean updateOrderStatus(long tenantId, UUID orderId, String status) {
        int updated = dsl.inTransaction(tenantId, ctx -> ctx.update(ORDERS)
                .set(ORDER_STATUS, status)
                .where(ORDER_TENANT_ID.eq(tenantId).and(ORDER_ID.eq(orderId)))
                .execute());
        return updated == 1;
    }

    /** Rows removed by {@link #deleteTenant}. */
    public record Deleted(int orders, int customers) {
    }

    /**
     * Removes all the tenant's data in one transaction: orders first, since they reference customers.
     * Either both are gone or, on any error, neither.
     */
    public Deleted deleteTenant(long tenantId) {
        return dsl.inTransaction(tenantId, ctx -> {
            int orders = ctx.deleteFrom(ORDERS).where(ORDER_TENANT_ID.eq(tenantId)).execute();
            int customers = ctx.deleteFrom(CUSTOMERS).where(CUSTOMER_TENANT_ID.eq(tenantId)).execute();
            return new Deleted(orders, customers);
        });
    }

    /**
     * Customers of all tenants on all shards. A cross-tenant query has no shard key, so it runs on every
     * shard in parallel and adds up; one unreachable shard makes it fail (naming the shard) rather than
     * return a count that is silently too small.
     */
    public long countAllCustomers() {
        long total = 0;
        for (ShardResult<Integer> r : dsl.onAllShards(ctx -> ctx.fetchCount(CUSTOMERS)).values()) {
            total += r.get();
        }
        return total;
    }
}
