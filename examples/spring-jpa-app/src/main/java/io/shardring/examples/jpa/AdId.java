package io.shardring.examples.jpa;

import java.io.Serializable;
import java.util.Objects;

/** The key of {@link Ad}: the company first, as in the table's primary key. */
public class AdId implements Serializable {
    private static final long serialVersionUID = 1L;
    private long companyId;
    private Long id;

    protected AdId() {
    }

    public AdId(long companyId, Long id) {
        this.companyId = companyId;
        this.id = id;
    }

    public long getCompanyId() {
        return companyId;
    }

    public Long getId() {
        return id;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AdId c && c.companyId == companyId && Objects.equals(c.id, id);
    }

    @Override
    public int hashCode() {
        return Objects.hash(companyId, id);
    }
}
