package io.shardring.examples.tenant;

import java.time.OffsetDateTime;
import java.util.UUID;
import org.jooq.Field;
import org.jooq.Record;
import org.jooq.Table;
import org.jooq.impl.DSL;

/**
 * The tables of {@code db/tenants} for jOOQ, written by hand instead of generated: two small tables do
 * not justify a code-generation step against a live database in the build. Names are quoted
 * ({@code DSL.name}), never spliced as SQL text, and fields are qualified so that they stay unambiguous
 * if a query joins both tables.
 */
public final class Tables {
    public static final Table<Record> CUSTOMERS = DSL.table(DSL.name("customers"));
    public static final Field<Long> CUSTOMER_TENANT_ID = DSL.field(DSL.name("customers", "tenant_id"), Long.class);
    public static final Field<UUID> CUSTOMER_ID = DSL.field(DSL.name("customers", "id"), UUID.class);
    public static final Field<String> CUSTOMER_NAME = DSL.field(DSL.name("customers", "name"), String.class);
    public static final Field<String> CUSTOMER_EMAIL = DSL.field(DSL.name("customers", "email"), String.class);
    public static final Field<OffsetDateTime> CUSTOMER_CREATED_AT =
            DSL.field(DSL.name("customers", "created_at"), OffsetDateTime.class);

    public static final Table<Record> ORDERS = DSL.table(DSL.name("orders"));
    public static final Field<Long> ORDER_TENANT_ID = DSL.field(DSL.name("orders", "tenant_id"), Long.class);
    public static final Field<UUID> ORDER_ID = DSL.field(DSL.name("orders", "id"), UUID.class);
    public static final Field<UUID> ORDER_CUSTOMER_ID = DSL.field(DSL.name("orders", "customer_id"), UUID.class);
    public static final Field<Long> ORDER_AMOUNT_CENTS = DSL.field(DSL.name("orders", "amount_cents"), Long.class);
    public static final Field<String> ORDER_STATUS = DSL.field(DSL.name("orders", "status"), String.class);
    public static final Field<OffsetDateTime> ORDER_CREATED_AT =
            DSL.field(DSL.name("orders", "created_at"), OffsetDateTime.class);

    private Tables() {
    }
}
