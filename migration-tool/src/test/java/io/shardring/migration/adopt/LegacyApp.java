package io.shardring.migration.adopt;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.shardring.router.jdbc.ShardedDataSource;
import io.shardring.testkit.PgShard;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An advertising application on one PostgreSQL database, made the usual way: {@code bigserial} ids, a foreign-key
 * chain keyed by the tenant ({@code companies <- campaigns <- ads}), a global lookup table ({@code plans}) and
 * {@code invoices}, whose primary key is its id alone (blocked until the DDL adopt prints is applied). Its writers
 * first connect to the database directly, as the application did before shardring, and switch to a router when told;
 * every write they see acknowledged is recorded, to be found again, once, on its owner.
 */
final class LegacyApp implements AutoCloseable {
    static final String SCHEMA = """
            CREATE TABLE plans (id bigserial PRIMARY KEY, name text NOT NULL UNIQUE, cents integer NOT NULL);
            CREATE TABLE companies (id bigserial PRIMARY KEY, name text NOT NULL,
                plan_id bigint NOT NULL REFERENCES plans (id));
            CREATE TABLE campaigns (company_id bigint NOT NULL REFERENCES companies (id), id bigserial,
                name text NOT NULL, PRIMARY KEY (company_id, id));
            CREATE TABLE ads (company_id bigint NOT NULL, id bigserial, campaign_id bigint NOT NULL, body text NOT NULL,
                clicks bigint NOT NULL DEFAULT 0, PRIMARY KEY (company_id, id),
                FOREIGN KEY (company_id, campaign_id) REFERENCES campaigns (company_id, id) ON DELETE CASCADE);
            CREATE TABLE invoices (id bigserial PRIMARY KEY, company_id bigint NOT NULL REFERENCES companies (id),
                cents bigint NOT NULL);
            """;
    static final List<String> SHARDED = List.of("companies", "campaigns", "ads", "invoices");

    /** A row an application write was acknowledged for. */
    record Row(String table, long company, long id) {
    }

    private final HikariDataSource direct;
    private volatile ShardedDataSource router;
    private final List<Long> companies = new CopyOnWriteArrayList<>();
    private final Map<Long, List<Long>> campaigns = new ConcurrentHashMap<>();
    private final Map<Long, List<Long>> ads = new ConcurrentHashMap<>();
    final Set<Row> acknowledged = ConcurrentHashMap.newKeySet();
    final Map<Row, AtomicLong> clicks = new ConcurrentHashMap<>();
    /** Rows inserted after {@link #markAfter()}: their ids must come from their owner's own range. */
    final Set<Row> insertedAfter = ConcurrentHashMap.newKeySet();
    private volatile boolean after;
    final AtomicLong ops = new AtomicLong();
    /** New companies made through the router, with when and where, to tell what happened to a lost one. */
    final ConcurrentLinkedQueue<String> events = new ConcurrentLinkedQueue<>();
    final AtomicLong errors = new AtomicLong();
    final ConcurrentLinkedQueue<String> errorSamples = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean stop = new AtomicBoolean();
    private final List<Thread> threads = new ArrayList<>();

    LegacyApp(PgShard legacy) {
        this(legacy.jdbcUrl(), legacy.user(), legacy.password());
    }

    LegacyApp(String jdbcUrl, String user, String password) {
        HikariConfig hc = new HikariConfig();
        hc.setJdbcUrl(jdbcUrl);
        hc.setUsername(user);
        if (password != null && !password.isEmpty()) {
            hc.setPassword(password);
        }
        hc.setMaximumPoolSize(8);
        hc.setPoolName("legacy-app");
        hc.addDataSourceProperty("ApplicationName", "legacy-app");
        this.direct = new HikariDataSource(hc);
    }

    /** The schema and the rows an application would have after a while, through plain SQL. */
    void create(int companyCount) throws SQLException {
        try (Connection c = direct.getConnection(); Statement s = c.createStatement()) {
            s.execute(SCHEMA);
            s.execute("INSERT INTO plans (name, cents) VALUES ('free', 0), ('team', 4900), ('enterprise', 99000)");
            s.execute("INSERT INTO companies (name, plan_id) SELECT 'company ' || g, 1 + g % 3"
                    + " FROM generate_series(1, " + companyCount + ") g");
            s.execute("INSERT INTO campaigns (company_id, name) SELECT c.id, 'campaign ' || g FROM companies c,"
                    + " generate_series(1, 3) g");
            s.execute("INSERT INTO ads (company_id, campaign_id, body) SELECT k.company_id, k.id, 'ad ' || g"
                    + " FROM campaigns k, generate_series(1, 5) g");
            s.execute("INSERT INTO invoices (company_id, cents) SELECT id, 1000 * id FROM companies");
            s.execute("ANALYZE");
            try (ResultSet rs = s.executeQuery("SELECT id FROM companies")) {
                while (rs.next()) {
                    companies.add(rs.getLong(1));
                }
            }
            try (ResultSet rs = s.executeQuery("SELECT company_id, id FROM campaigns")) {
                while (rs.next()) {
                    campaigns.computeIfAbsent(rs.getLong(1), k -> new CopyOnWriteArrayList<>()).add(rs.getLong(2));
                }
            }
            try (ResultSet rs = s.executeQuery("SELECT company_id, id FROM ads")) {
                while (rs.next()) {
                    ads.computeIfAbsent(rs.getLong(1), k -> new CopyOnWriteArrayList<>()).add(rs.getLong(2));
                }
            }
        }
    }

    /** From now on the writers go through the router, as the application after its switch. */
    void switchTo(ShardedDataSource router) {
        this.router = router;
    }

    /** Rows acknowledged from now on are checked against their owner's id range. */
    void markAfter() {
        after = true;
    }

    void start(int writers) {
        for (int i = 0; i < writers; i++) {
            Thread t = new Thread(this::write, "legacy-writer-" + i);
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
    }

    void awaitOps(long more) throws InterruptedException {
        long target = ops.get() + more;
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (ops.get() < target && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
    }

    void stop() throws InterruptedException {
        stop.set(true);
        for (Thread t : threads) {
            t.join(30_000);
        }
        threads.clear();
        stop.set(false);
    }

    private void write() {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        while (!stop.get()) {
            long company = companies.get(r.nextInt(companies.size()));
            int dice = r.nextInt(100);
            ShardedDataSource via = router;
            try {
                if (dice < 40) {
                    List<Long> mine = campaigns.get(company);
                    long campaign = mine.get(r.nextInt(mine.size()));
                    long id = insert(via, company, "INSERT INTO ads (company_id, campaign_id, body) VALUES (?, ?, ?)"
                            + " RETURNING id", company, campaign, "ad of campaign " + campaign);
                    Row row = new Row("ads", company, id);
                    acknowledged(row);
                    clicks.put(row, new AtomicLong());
                    ads.computeIfAbsent(company, k -> new CopyOnWriteArrayList<>()).add(id);
                } else if (dice < 55) {
                    long id = insert(via, company, "INSERT INTO campaigns (company_id, name) VALUES (?, ?) RETURNING id",
                            company, "campaign " + r.nextInt());
                    acknowledged(new Row("campaigns", company, id));
                    campaigns.get(company).add(id);
                } else if (dice < 65) {
                    long id = insert(via, company, "INSERT INTO invoices (company_id, cents) VALUES (?, ?) RETURNING id",
                            company, (long) r.nextInt(100_000));
                    acknowledged(new Row("invoices", company, id));
                } else if (dice < 95) {
                    List<Long> mine = ads.get(company);
                    long ad = mine.get(r.nextInt(mine.size()));
                    int n = update(via, company, "UPDATE ads SET clicks = clicks + 1 WHERE company_id = ? AND id = ?",
                            company, ad);
                    if (n != 1) {
                        throw new IllegalStateException("ad " + ad + " of company " + company + " not found: " + n);
                    }
                    clicks.computeIfAbsent(new Row("ads", company, ad), k -> new AtomicLong()).incrementAndGet();
                } else {
                    long id = newCompany(via, r);
                    acknowledged(new Row("companies", id, id));
                    long campaign = insert(via, id, "INSERT INTO campaigns (company_id, name) VALUES (?, ?)"
                            + " RETURNING id", id, "first campaign");
                    acknowledged(new Row("campaigns", id, campaign));
                    long ad = insert(via, id, "INSERT INTO ads (company_id, campaign_id, body) VALUES (?, ?, ?)"
                            + " RETURNING id", id, campaign, "first ad");
                    acknowledged(new Row("ads", id, ad));
                    campaigns.put(id, new CopyOnWriteArrayList<>(List.of(campaign)));
                    ads.put(id, new CopyOnWriteArrayList<>(List.of(ad)));
                    companies.add(id);
                }
                ops.incrementAndGet();
            } catch (SQLException | RuntimeException e) {
                errors.incrementAndGet();
                if (errorSamples.size() < 10) {
                    errorSamples.add((via == null ? "direct: " : "routed: ") + e);
                }
            }
        }
    }

    private void acknowledged(Row row) {
        acknowledged.add(row);
        if (after) {
            insertedAfter.add(row);
        }
    }

    /** A new tenant: before the switch its id comes from the table's sequence, after it from the router. */
    private long newCompany(ShardedDataSource via, ThreadLocalRandom r) throws SQLException {
        long plan = 1 + r.nextInt(3);
        if (via == null) {
            return insert(null, 0, "INSERT INTO companies (name, plan_id) VALUES (?, ?) RETURNING id", "new company",
                    plan);
        }
        long id = via.newKey();
        events.add(System.currentTimeMillis() + " company " + id + " via " + via.nodeFor(id) + " v"
                + via.topology().version() + "\n");
        via.inTransaction(id, c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "INSERT INTO companies (id, name, plan_id) VALUES (?, ?, ?)")) {
                ps.setLong(1, id);
                ps.setString(2, "new company");
                ps.setLong(3, plan);
                return ps.executeUpdate();
            }
        });
        return id;
    }

    private long insert(ShardedDataSource via, long company, String sql, Object... args) throws SQLException {
        if (via != null) {
            return via.inTransaction(company, c -> returning(c, sql, args));
        }
        try (Connection c = direct.getConnection()) {
            return returning(c, sql, args);
        }
    }

    private int update(ShardedDataSource via, long company, String sql, Object... args) throws SQLException {
        if (via != null) {
            return via.inTransaction(company, c -> executeUpdate(c, sql, args));
        }
        try (Connection c = direct.getConnection()) {
            return executeUpdate(c, sql, args);
        }
    }

    private static long returning(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement ps = bind(c, sql, args); ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static int executeUpdate(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement ps = bind(c, sql, args)) {
            return ps.executeUpdate();
        }
    }

    private static PreparedStatement bind(Connection c, String sql, Object... args) throws SQLException {
        PreparedStatement ps = c.prepareStatement(sql);
        for (int i = 0; i < args.length; i++) {
            ps.setObject(i + 1, args[i]);
        }
        return ps;
    }

    @Override
    public void close() throws InterruptedException {
        stop();
        direct.close();
    }
}
