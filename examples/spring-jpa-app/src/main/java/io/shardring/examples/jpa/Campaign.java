package io.shardring.examples.jpa;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.IdClass;
import jakarta.persistence.SequenceGenerator;
import jakarta.persistence.Table;
import org.springframework.data.domain.Persistable;

/**
 * A company's campaign. Its key is (company_id, id); the id comes from the shard's {@code campaigns_id_seq}
 * (the bigserial's sequence), one value per insert: see README.md for why not IDENTITY and why allocationSize 1.
 */
@Entity
@Table(name = "campaigns")
@IdClass(CampaignId.class)
public class Campaign implements Persistable<CampaignId> {
    @Id
    @Column(name = "company_id")
    private long companyId;
    @Id
    @GeneratedValue(strategy = GenerationType.SEQUENCE, generator = "campaign_ids")
    @SequenceGenerator(name = "campaign_ids", sequenceName = "campaigns_id_seq", allocationSize = 1)
    private Long id;
    private String name;

    protected Campaign() {
    }

    public Campaign(long companyId, String name) {
        this.companyId = companyId;
        this.name = name;
    }

    @Override
    public CampaignId getId() {
        return new CampaignId(companyId, id);
    }

    public long getCompanyId() {
        return companyId;
    }

    /** The id within the company, null until persisted. */
    public Long getCampaignId() {
        return id;
    }

    public String getName() {
        return name;
    }

    /** New until the sequence gave it an id (the company part is always set, so Spring Data cannot tell). */
    @Override
    public boolean isNew() {
        return id == null;
    }
}
