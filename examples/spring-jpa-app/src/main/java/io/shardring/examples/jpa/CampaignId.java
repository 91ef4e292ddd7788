package io.shardring.examples.jpa;

import java.io.Serializable;
import java.util.Objects;

/** The key of {@link Campaign}: the company first, as in the table's primary key. */
public class CampaignId implements Serializable {
    private static final long serialVersionUID = 1L;
    private long companyId;
    private Long id;

    protected CampaignId() {
    }

    public CampaignId(long companyId, Long id) {
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
        return o instanceof CampaignId c && c.companyId == companyId && Objects.equals(c.id, id);
    }

    @Override
    public int hashCode() {
        return Objects.hash(companyId, id);
    }
}
