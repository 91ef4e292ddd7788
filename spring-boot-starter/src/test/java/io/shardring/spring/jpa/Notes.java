package io.shardring.spring.jpa;

import io.shardring.spring.ShardKey;
import jakarta.persistence.EntityManager;
import jakarta.persistence.PersistenceContext;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.hibernate.engine.spi.SessionImplementor;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.annotation.Propagation;
import org.springframework.transaction.annotation.Transactional;

/** An application's service on JPA, written as if there were one database. */
public class Notes {
    @PersistenceContext
    private EntityManager em;
    private final NoteRepository repository;
    private final JdbcTemplate jdbc;

    /** Each run's Hibernate session: a run again must get a persistence context of its own. */
    final List<UUID> sessions = new CopyOnWriteArrayList<>();
    /** Runs that reached the end of the method: a refusal after that came at commit. */
    final AtomicInteger returned = new AtomicInteger();

    public Notes(NoteRepository repository, JdbcTemplate jdbc) {
        this.repository = repository;
        this.jdbc = jdbc;
    }

    /** Through methods: the test holds the CGLIB proxy, whose own fields are unset. */
    public List<UUID> sessions() {
        return sessions;
    }

    public AtomicInteger returned() {
        return returned;
    }

    /** The insert waits for the flush, at commit. */
    @Transactional
    public void write(@ShardKey long tenant, long id, String body) {
        sessions.add(em.unwrap(SessionImplementor.class).getSessionIdentifier());
        em.persist(new Note(tenant, id, body));
        returned.incrementAndGet();
    }

    /** Spring Data's repository flushes inside the method: a refusal comes out of the repository's proxy. */
    @Transactional
    public void writeThroughRepository(@ShardKey long tenant, long id, String body) {
        sessions.add(em.unwrap(SessionImplementor.class).getSessionIdentifier());
        repository.saveAndFlush(new Note(tenant, id, body));
        returned.incrementAndGet();
    }

    @Transactional(readOnly = true)
    public List<Note> notes(@ShardKey long tenant) {
        return repository.findByTenantIdOrderById(tenant);
    }

    /** A persist in a read-only transaction is never flushed; JDBC in it sees the transaction's connection. */
    @Transactional(readOnly = true)
    public String persistInReadOnly(@ShardKey long tenant, long id) {
        em.persist(new Note(tenant, id, "never written"));
        return jdbc.queryForObject("SHOW transaction_read_only", String.class);
    }

    /** JDBC in a JPA transaction runs on the transaction's connection, so it sees what Hibernate flushed. */
    @Transactional
    public long flushedThenCountedByJdbc(@ShardKey long tenant, long id) {
        em.persist(new Note(tenant, id, "flushed"));
        em.flush();
        return jdbc.queryForObject("SELECT count(*) FROM notes WHERE tenant_id = ? AND id = ?", Long.class, tenant,
                id);
    }

    /** No key parameter: the tenant must be bound by the caller. */
    @Transactional
    public long countOfBoundTenant(long tenant) {
        return repository.findByTenantIdOrderById(tenant).size();
    }

    @Transactional
    public void writeInside(@ShardKey long tenant, Notes self, long other) {
        em.persist(new Note(tenant, 1, "outer"));
        self.write(other, 1, "inner");
    }

    /** A nested transaction of its own commits, then the outer one is refused: it must not run again. */
    @Transactional
    public void refusedAfterANestedCommit(@ShardKey long tenant, Notes self) {
        returned.incrementAndGet();
        self.writeOnItsOwn(tenant, 1);
        em.createNativeQuery("DO $$ BEGIN RAISE EXCEPTION 'not the owner (test)' USING ERRCODE = 'SR001'; END $$")
                .executeUpdate();
    }

    @Transactional(propagation = Propagation.REQUIRES_NEW)
    public void writeOnItsOwn(@ShardKey long tenant, long id) {
        em.persist(new Note(tenant, id, "committed on its own"));
    }
}
