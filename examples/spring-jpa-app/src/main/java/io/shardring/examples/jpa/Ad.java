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

/** An ad of a campaign; keyed like {@link Campaign}, its id from the shard's {@code ads_id_seq}. */
@Entity
@Table(name = "ads")
@IdClass(AdId.class)
public class Ad implements Persistable<AdId> {
    @Id
    @Column(name = "company_id")
    private long companyId;
    @Id
    @GeneratedValue(strategy = GenerationType.SEQUENCE, generator = "ad_ids")
    @SequenceGenerator(name = "ad_ids", sequenceName = "ads_id_seq", allocationSize = 1)
    private Long id;
    @Column(name = "campaign_id")
    private long campaignId;
    private String text;

    protected Ad() {
    }

    public Ad(long companyId, long campaignId, String text) {
        this.companyId = companyId;
        this.campaignId = campaignId;
        this.text = text;
    }

    @Override
    public AdId getId() {
        return new AdId(companyId, id);
    }

    public long getCompanyId() {
        return companyId;
    }

    /** The id within the company, null until persisted. */
    public Long getAdId() {
        return id;
    }

    public long getCampaignId() {
        return campaignId;
    }

    public String getText() {
        return text;
    }

    @Override
    public boolean isNew() {
        return id == null;
    }
}
