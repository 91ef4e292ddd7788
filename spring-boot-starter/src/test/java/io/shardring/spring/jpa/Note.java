package io.shardring.spring.jpa;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.IdClass;
import jakarta.persistence.Table;
import java.io.Serializable;
import java.util.Objects;

/** A tenant's note, its id given by the caller: Hibernate inserts it when it flushes, at commit. */
@Entity
@Table(name = "notes")
@IdClass(Note.Key.class)
public class Note {
    @Id
    @Column(name = "tenant_id")
    private long tenantId;
    @Id
    private long id;
    private String body;

    protected Note() {
    }

    public Note(long tenantId, long id, String body) {
        this.tenantId = tenantId;
        this.id = id;
        this.body = body;
    }

    public long getTenantId() {
        return tenantId;
    }

    public long getId() {
        return id;
    }

    public String getBody() {
        return body;
    }

    /** The composite key, the tenant first as in the table's primary key. */
    public static class Key implements Serializable {
        private static final long serialVersionUID = 1L;
        private long tenantId;
        private long id;

        protected Key() {
        }

        public Key(long tenantId, long id) {
            this.tenantId = tenantId;
            this.id = id;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && k.tenantId == tenantId && k.id == id;
        }

        @Override
        public int hashCode() {
            return Objects.hash(tenantId, id);
        }
    }
}
