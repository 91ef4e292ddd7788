package io.shardring.examples.spring;

import static org.jooq.impl.DSL.count;
import static org.jooq.impl.DSL.field;
import static org.jooq.impl.DSL.sum;
import static org.jooq.impl.DSL.table;

import io.shardring.spring.ShardKey;
import io.shardring.spring.ShardedBy;
import java.math.BigDecimal;
import java.util.List;
import java.util.UUID;
import org.jooq.DSLContext;
import org.jooq.Field;
import org.jooq.Record;
import org.jooq.Table;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/** The tenant app's business logic, written as if there were one database. */
@Service
public class OrderService {
    static final Table<Record> CUSTOMERS = table("customers");
    static final Table<Record> ORDERS = table("orders");
    static final Field<Long> TENANT_ID = field("tenant_id", Long.class);
    static final Field<UUID> ID = field("id", UUID.class);
    static final Field<String> NAME = field("name", String.class);
    static final Field<UUID> CUSTOMER_ID = field("customer_id", UUID.class);
    static final Field<Long> AMOUNT_CENTS = field("amount_cents", Long.class);

    /** An order as the API returns it. */
    public record OrderView(UUID id, UUID customerId, long amountCents) {
    }

    /** An order to place: the tenant travels inside the request, so {@code @ShardedBy} names it. */
    public record NewOrder(long tenantId, UUID customerId, long amountCents) {
    }

    /** A tenant's totals. */
    public record Summary(long tenantId, long orders, long totalCents) {
    }

    private final DSLContext db;

    public OrderService(DSLContext db) {
        this.db = db;
    }

    @Transactional
    public UUID createCustomer(@ShardKey long tenantId, String name) {
        return db.insertInto(CUSTOMERS).set(TENANT_ID, tenantId).set(NAME, name).returning(ID).fetchOne(ID);
    }

    @Transactional
    @ShardedBy("#order.tenantId")
    public UUID placeOrder(NewOrder order) {
        return db.insertInto(ORDERS).set(TENANT_ID, order.tenantId()).set(CUSTOMER_ID, order.customerId())
                .set(AMOUNT_CENTS, order.amountCents()).returning(ID).fetchOne(ID);
    }

    @Transactional(readOnly = true)
    public List<OrderView> orders(@ShardKey long tenantId) {
        return db.select(ID, CUSTOMER_ID, AMOUNT_CENTS).from(ORDERS).where(TENANT_ID.eq(tenantId)).orderBy(ID)
                .fetch(r -> new OrderView(r.get(ID), r.get(CUSTOMER_ID), r.get(AMOUNT_CENTS)));
    }

    /**
     * The bound tenant's totals: no key parameter, so the tenant comes from the web request
     * ({@code shardring.web.header: X-Tenant-Id}) or from the caller's binding.
     */
    @Transactional(readOnly = true)
    public Summary summary(long tenantId) {
        Record r = db.select(count(), sum(AMOUNT_CENTS)).from(ORDERS).where(TENANT_ID.eq(tenantId)).fetchOne();
        BigDecimal cents = r.get(1, BigDecimal.class);
        return new Summary(tenantId, r.get(0, Long.class), cents == null ? 0 : cents.longValue());
    }
}
