package io.shardring.examples.tenant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardring.router.StaleTopologyException;
import io.shardring.testkit.PgCluster;
import io.shardring.testkit.PgShard;
import io.shardring.testkit.PgShards;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The tenant DAO on three real shards: what it writes through the router it reads back, every row is on its
 * tenant's ring owner and nowhere else (checked by plain SQL on each shard, not through the router), and a shard
 * refuses rows of tenants it does not own.
 */
@PgShards(3)
class TenantDaoTest {
    private static final int TENANTS = 1000;
    private static final int THREADS = 8;

    private static PgCluster cluster;
    private static TenantApp app;
    private static TenantDao dao;

    /** What the test wrote, to compare with what comes back; customers and orders in creation order. */
    record WrittenOrder(UUID id, UUID customerId, long amountCents) {
    }

    record WrittenCustomer(UUID id, String name, String email) {
    }

    record WrittenTenant(long tenantId, List<WrittenCustomer> customers, List<WrittenOrder> orders) {
        long totalCents() {
            return orders.stream().mapToLong(WrittenOrder::amountCents).sum();
        }

        List<WrittenOrder> ordersOf(UUID customerId) {
            return orders.stream().filter(o -> o.customerId().equals(customerId)).toList();
        }
    }

    @BeforeAll
    static void start(PgCluster c) {
        cluster = c;
        app = TenantApp.start(TenantApp.initialized(c.shards()), new SimpleMeterRegistry());
        dao = app.dao();
    }

    @AfterAll
    static void stop() {
        if (app != null) {
            app.close();
        }
    }

    /** Every test starts from empty tables; TRUNCATE fires no row triggers, so the guard does not object. */
    @BeforeEach
    void emptyTables() throws SQLException {
        for (PgShard s : cluster.shards()) {
            try (Connection c = s.connect(); Statement st = c.createStatement()) {
                st.execute("TRUNCATE orders, customers");
            }
        }
    }

    @Test
    void thousandTenantsWrittenConcurrentlyReadBackAndLieOnTheirOwnersOnly() throws Exception {
        List<Long> tenantIds = tenantIds(TENANTS);

        // write: one task per tenant, 8 at a time over pools of 4 connections per shard
        List<WrittenTenant> written = inParallel(tenantIds, TenantDaoTest::writeTenant);
        int customersWritten = written.stream().mapToInt(t -> t.customers().size()).sum();
        int ordersWritten = written.stream().mapToInt(t -> t.orders().size()).sum();

        // read back through the router, also concurrently
        inParallel(written, t -> {
            readBack(t);
            return null;
        });

        // plain SQL on every shard: exactly the rows of the tenants the ring gives it
        Map<String, Set<String>> expectedCustomers = new HashMap<>();
        Map<String, Set<String>> expectedOrders = new HashMap<>();
        for (PgShard s : cluster.shards()) {
            expectedCustomers.put(s.name(), new HashSet<>());
            expectedOrders.put(s.name(), new HashSet<>());
        }
        for (WrittenTenant t : written) {
            String owner = app.shards().nodeFor(t.tenantId());
            assertThat(expectedCustomers).as("owner of tenant %s", t.tenantId()).containsKey(owner);
            t.customers().forEach(c -> expectedCustomers.get(owner).add(t.tenantId() + "/" + c.id() + "/" + c.name()));
            t.orders().forEach(o -> expectedOrders.get(owner).add(t.tenantId() + "/" + o.id() + "/" + o.customerId()
                    + "/" + o.amountCents()));
        }
        Map<String, List<String>> customersOn = new HashMap<>();
        Map<String, List<String>> ordersOn = new HashMap<>();
        for (PgShard s : cluster.shards()) {
            customersOn.put(s.name(), strings(s, "SELECT tenant_id || '/' || id || '/' || name FROM customers"));
            ordersOn.put(s.name(), strings(s, "SELECT tenant_id || '/' || id || '/' || customer_id || '/' || amount_cents"
                    + " FROM orders"));
        }
        // nothing lost, nothing written twice
        assertThat(customersOn.values().stream().mapToInt(List::size).sum()).as("customers on all shards")
                .isEqualTo(customersWritten);
        assertThat(ordersOn.values().stream().mapToInt(List::size).sum()).as("orders on all shards")
                .isEqualTo(ordersWritten);
        for (PgShard s : cluster.shards()) {
            // a third of the keyspace each, give or take: every shard must have a real share to prove anything
            assertThat(expectedCustomers.get(s.name())).as("customers the ring gives %s", s.name())
                    .hasSizeGreaterThan(customersWritten / 5);
            assertThat(customersOn.get(s.name())).as("customers on %s", s.name())
                    .containsExactlyInAnyOrderElementsOf(expectedCustomers.get(s.name()));
            assertThat(ordersOn.get(s.name())).as("orders on %s", s.name())
                    .containsExactlyInAnyOrderElementsOf(expectedOrders.get(s.name()));
        }
        assertThat(dao.countAllCustomers()).as("countAllCustomers()").isEqualTo(customersWritten);
    }

    /** 1-3 customers and 1-5 orders spread over them, drawn from a generator seeded by the tenant id. */
    private static WrittenTenant writeTenant(long tenantId) {
        SplittableRandom r = new SplittableRandom(tenantId);
        List<WrittenCustomer> customers = new ArrayList<>();
        int nCustomers = r.nextInt(1, 4);
        for (int i = 0; i < nCustomers; i++) {
            String name = "Zoë " + i + " of tenant " + tenantId; // non-ASCII: round-trips as UTF-8
            String email = i == 1 ? null : "c" + i + "@t" + tenantId + ".example";
            customers.add(new WrittenCustomer(dao.createCustomer(tenantId, name, email), name, email));
        }
        List<WrittenOrder> orders = new ArrayList<>();
        int nOrders = r.nextInt(1, 6);
        for (int i = 0; i < nOrders; i++) {
            UUID customer = customers.get(r.nextInt(customers.size())).id();
            long amount = r.nextLong(1, 10_000_000_000L); // beyond int range: bigint all the way
            orders.add(new WrittenOrder(dao.placeOrder(tenantId, customer, amount), customer, amount));
        }
        return new WrittenTenant(tenantId, customers, orders);
    }

    private static void readBack(WrittenTenant t) {
        long tenant = t.tenantId();
        List<Customer> customers = dao.customers(tenant);
        assertThat(customers).as("customers of tenant %s", tenant)
                .extracting(Customer::id, Customer::name, Customer::email)
                .containsExactlyElementsOf(t.customers().stream().sorted(Comparator.comparing(WrittenCustomer::id))
                        .map(c -> tuple(c.id(), c.name(), c.email())).toList());
        assertThat(customers).as("created_at of tenant %s's customers", tenant)
                .allSatisfy(c -> assertThat(c.createdAt()).isNotNull());
        for (WrittenCustomer c : t.customers()) {
            List<Tuple> expected = t.ordersOf(c.id()).stream().sorted(Comparator.comparing(WrittenOrder::id))
                    .map(o -> tuple(o.id(), c.id(), o.amountCents(), TenantDao.NEW)).toList();
            assertThat(dao.ordersOf(tenant, c.id())).as("orders of customer %s of tenant %s", c.id(), tenant)
                    .extracting(Order::id, Order::customerId, Order::amountCents, Order::status)
                    .containsExactlyElementsOf(expected);
        }
        assertThat(dao.totalCents(tenant)).as("total of tenant %s", tenant).isEqualTo(t.totalCents());
    }

    @Test
    void updateOrderStatusChangesOnlyThatOrderOfThatTenant() throws SQLException {
        long tenant = 31_337;
        long neighbour = sameShardAs(tenant, tenant + 1); // same shard: only the WHERE keeps them apart
        UUID customer = dao.createCustomer(tenant, "Ada", "ada@example.com");
        UUID first = dao.placeOrder(tenant, customer, 1_250);
        UUID second = dao.placeOrder(tenant, customer, 399);
        UUID neighbours = dao.placeOrder(neighbour, dao.createCustomer(neighbour, "Bob", null), 500);

        assertThat(dao.updateOrderStatus(tenant, first, "shipped")).isTrue();

        assertThat(dao.ordersOf(tenant, customer)).extracting(Order::id, Order::status)
                .containsExactlyInAnyOrder(tuple(first, "shipped"), tuple(second, TenantDao.NEW));
        assertThat(statusOn(owner(tenant), tenant, first)).as("status on the owner, by plain SQL").isEqualTo("shipped");
        assertThat(statusOn(owner(neighbour), neighbour, neighbours)).isEqualTo(TenantDao.NEW);

        // another tenant's order id, or an unknown one, changes nothing
        assertThat(dao.updateOrderStatus(neighbour, first, "cancelled")).isFalse();
        assertThat(dao.updateOrderStatus(tenant, UUID.randomUUID(), "cancelled")).isFalse();
        assertThat(statusOn(owner(tenant), tenant, first)).isEqualTo("shipped");
        assertThat(statusOn(owner(tenant), tenant, second)).isEqualTo(TenantDao.NEW);
    }

    @Test
    void anOrderForAnotherTenantsCustomerIsRefused() {
        long tenant = 4_711;
        long neighbour = sameShardAs(tenant, tenant + 1);
        UUID customer = dao.createCustomer(tenant, "Ada", null);

        assertThatThrownBy(() -> dao.placeOrder(neighbour, customer, 100))
                .satisfies(e -> assertThat(sqlStates(e)).as("SQLSTATEs in the cause chain").contains("23503"));
        assertThat(dao.totalCents(neighbour)).isZero();
        assertThat(dao.placeOrder(tenant, customer, 100)).isNotNull(); // the same order for its own tenant is fine
        assertThat(dao.totalCents(tenant)).isEqualTo(100);
    }

    @Test
    void deleteTenantRemovesItsRowsFromEveryShardAndNothingElse() throws SQLException {
        List<Long> tenants = tenantIds(12);
        long doomed = tenants.get(0);
        long sameShard = sameShardAs(doomed, 1);
        List<Long> kept = new ArrayList<>(tenants.subList(1, tenants.size()));
        kept.add(sameShard);
        for (long t : tenants) {
            writeTenant(t);
        }
        writeTenant(sameShard);
        Map<Long, long[]> before = new HashMap<>();
        for (long t : kept) {
            before.put(t, rowsOn(owner(t), t));
        }
        long[] doomedRows = rowsOn(owner(doomed), doomed);
        assertThat(doomedRows[0]).isPositive();
        assertThat(doomedRows[1]).isPositive();

        assertThat(dao.deleteTenant(doomed)).isEqualTo(new TenantDao.Deleted((int) doomedRows[1], (int) doomedRows[0]));

        for (PgShard s : cluster.shards()) {
            assertThat(rowsOn(s, doomed)).as("rows of the deleted tenant on %s", s.name()).containsExactly(0, 0);
        }
        assertThat(dao.customers(doomed)).isEmpty();
        assertThat(dao.totalCents(doomed)).isZero();
        for (long t : kept) {
            assertThat(rowsOn(owner(t), t)).as("rows of tenant %s, kept", t).containsExactly(before.get(t));
        }
        assertThat(dao.deleteTenant(doomed)).isEqualTo(new TenantDao.Deleted(0, 0));
    }

    @Test
    void aShardRefusesRowsOfATenantItDoesNotOwn() throws SQLException {
        long tenant = 90_210;
        PgShard owner = owner(tenant);
        List<PgShard> others = cluster.shards().stream().filter(s -> s != owner).toList();
        assertThat(others).hasSize(2);
        UUID customer = UUID.randomUUID();
        for (PgShard other : others) {
            try (Connection c = other.connect()) {
                assertThatThrownBy(() -> insertCustomer(c, tenant, customer))
                        .as("customer insert on %s", other.name())
                        .isInstanceOf(SQLException.class)
                        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo(StaleTopologyException.SQLSTATE));
                // a BEFORE trigger, so the guard speaks before the foreign key would
                assertThatThrownBy(() -> insertOrder(c, tenant, UUID.randomUUID(), customer))
                        .as("order insert on %s", other.name())
                        .isInstanceOf(SQLException.class)
                        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo(StaleTopologyException.SQLSTATE));
            }
            assertThat(rowsOn(other, tenant)).containsExactly(0, 0);
        }
        // the same statements are fine on the owner
        try (Connection c = owner.connect()) {
            assertThat(insertCustomer(c, tenant, customer)).isEqualTo(1);
            assertThat(insertOrder(c, tenant, UUID.randomUUID(), customer)).isEqualTo(1);
        }
        assertThat(rowsOn(owner, tenant)).containsExactly(1, 1);
    }

    @Test
    void theExampleMainPutsEachTenantOnTheShardItPrints() throws SQLException {
        Printed printed = new Printed();
        TenantApp.run(cluster, printed.out);
        String out = printed.toString();

        assertThat(out).contains("3 shards [shard0, shard1, shard2], topology version 1, catalog on shard0");
        for (long tenant : TenantApp.EXAMPLE_TENANTS) {
            Matcher m = Pattern.compile("tenant " + tenant + " on (\\w+): customers 1, orders 2, total 1649 cents")
                    .matcher(out);
            assertThat(m.find()).as("line of tenant %s in:%n%s", tenant, out).isTrue();
            assertThat(m.group(1)).as("shard printed for tenant %s", tenant).isEqualTo(app.shards().nodeFor(tenant));
            // by plain SQL: the tenant's rows are on that shard, and on no other
            for (PgShard s : cluster.shards()) {
                assertThat(rowsOn(s, tenant)).as("{customers, orders} of tenant %s on %s", tenant, s.name())
                        .containsExactly(s.name().equals(m.group(1)) ? new long[] {1, 2} : new long[] {0, 0});
            }
        }
        for (PgShard s : cluster.shards()) {
            long customers = TenantApp.EXAMPLE_TENANTS.stream().filter(t -> owner(t) == s).count();
            assertThat(out).contains("customers on " + s.name() + ": " + customers + System.lineSeparator());
        }
        assertThat(out).endsWith("customers on all shards: 3" + System.lineSeparator());
    }

    // ---- helpers ----

    /** Distinct tenant ids over the whole bigint range, including its edges. */
    private static List<Long> tenantIds(int n) {
        Set<Long> ids = new LinkedHashSet<>(List.of(0L, -1L, Long.MIN_VALUE, Long.MAX_VALUE));
        SplittableRandom r = new SplittableRandom(20_240_601);
        while (ids.size() < n) {
            ids.add(r.nextLong());
        }
        return new ArrayList<>(ids).subList(0, n);
    }

    /** The first tenant id from {@code start} up that lives on the same shard as {@code tenant}. */
    private static long sameShardAs(long tenant, long start) {
        String node = app.shards().nodeFor(tenant);
        for (long t = start; ; t++) {
            if (t != tenant && app.shards().nodeFor(t).equals(node)) {
                return t;
            }
        }
    }

    private static PgShard owner(long tenant) {
        String node = app.shards().nodeFor(tenant);
        return cluster.shards().stream().filter(s -> s.name().equals(node)).findFirst().orElseThrow();
    }

    /**
     * Runs {@code work} for every item on {@value #THREADS} threads; results in input order, the first failure
     * rethrown. On a failure, tasks not yet started are cancelled but running ones are not interrupted: an
     * interrupt inside the pool's connection wait would make the router mark a healthy shard down, failing the
     * next tests too.
     */
    private static <T, R> List<R> inParallel(List<T> items, Function<T, R> work) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        List<Future<R>> futures = new ArrayList<>();
        try {
            for (T item : items) {
                futures.add(pool.submit((Callable<R>) () -> work.apply(item)));
            }
            List<R> out = new ArrayList<>();
            for (Future<R> f : futures) {
                try {
                    out.add(f.get(60, TimeUnit.SECONDS));
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof Error err) {
                        throw err; // an assertion failure, as it is
                    }
                    throw (Exception) e.getCause();
                }
            }
            return out;
        } finally {
            futures.forEach(f -> f.cancel(false));
            pool.shutdown();
            pool.awaitTermination(60, TimeUnit.SECONDS);
        }
    }

    private static List<String> strings(PgShard shard, String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = shard.connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    /** {customers, orders} of the tenant on one shard. */
    private static long[] rowsOn(PgShard shard, long tenant) throws SQLException {
        try (Connection c = shard.connect(); PreparedStatement ps = c.prepareStatement(
                "SELECT (SELECT count(*) FROM customers WHERE tenant_id = ?), (SELECT count(*) FROM orders WHERE tenant_id = ?)")) {
            ps.setLong(1, tenant);
            ps.setLong(2, tenant);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return new long[] {rs.getLong(1), rs.getLong(2)};
            }
        }
    }

    private static String statusOn(PgShard shard, long tenant, UUID order) throws SQLException {
        try (Connection c = shard.connect();
                PreparedStatement ps = c.prepareStatement("SELECT status FROM orders WHERE tenant_id = ? AND id = ?")) {
            ps.setLong(1, tenant);
            ps.setObject(2, order);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    private static int insertCustomer(Connection c, long tenant, UUID id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO customers (tenant_id, id, name) VALUES (?, ?, 'x')")) {
            ps.setLong(1, tenant);
            ps.setObject(2, id);
            return ps.executeUpdate();
        }
    }

    private static int insertOrder(Connection c, long tenant, UUID id, UUID customer) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO orders (tenant_id, id, customer_id, amount_cents,"
                + " status) VALUES (?, ?, ?, 1, 'new')")) {
            ps.setLong(1, tenant);
            ps.setObject(2, id);
            ps.setObject(3, customer);
            return ps.executeUpdate();
        }
    }

    private static List<String> sqlStates(Throwable e) {
        List<String> out = new ArrayList<>();
        int depth = 0;
        for (Throwable t = e; t != null && depth++ < 20; t = t.getCause()) {
            if (t instanceof SQLException s && s.getSQLState() != null) {
                out.add(s.getSQLState());
            }
        }
        return out;
    }
}
