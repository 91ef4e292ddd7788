package io.shardring.examples.jpa;

import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.PostLoad;
import jakarta.persistence.PostPersist;
import jakarta.persistence.Table;
import jakarta.persistence.Transient;
import org.springframework.data.domain.Persistable;

/** The tenant: its id, given by the caller, is the shard key. */
@Entity
@Table(name = "companies")
public class Company implements Persistable<Long> {
    @Id
    private long id;
    private String name;
    /**
     * The id is assigned, so Spring Data cannot tell a new company by it; without this, save() would merge, and
     * creating a company twice would rename it instead of failing.
     */
    @Transient
    private boolean isNew = true;

    protected Company() {
    }

    public Company(long id, String name) {
        this.id = id;
        this.name = name;
    }

    @Override
    public Long getId() {
        return id;
    }

    public String getName() {
        return name;
    }

    @Override
    public boolean isNew() {
        return isNew;
    }

    @PostLoad
    @PostPersist
    void stored() {
        isNew = false;
    }
}
