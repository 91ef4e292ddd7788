package io.shardring.examples.jpa;

import io.shardring.spring.ShardKey;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/**
 * The app's business logic on Spring Data repositories, written as if there were one database. Each method is a
 * whole unit of work on one company: the starter runs it on the company's shard and, during a rebalance's cutover,
 * runs it again on the new owner, so it creates its entities itself and has no effect outside the database.
 */
@Service
public class CampaignService {
    /** A campaign as the API returns it, with its ads. */
    public record CampaignView(long companyId, long id, String name, List<AdView> ads) {
    }

    /** An ad as the API returns it. */
    public record AdView(long companyId, long id, long campaignId, String text) {
    }

    /** What {@link #createCampaign} wrote. */
    public record NewCampaign(long companyId, long campaignId, long adId) {
    }

    /** A company or campaign that does not exist. */
    public static class NotFound extends RuntimeException {
        private static final long serialVersionUID = 1L;

        NotFound(String message) {
            super(message);
        }
    }

    /** A company id that is taken. */
    public static class Conflict extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Conflict(String message) {
            super(message);
        }
    }

    private final CompanyRepository companies;
    private final CampaignRepository campaigns;
    private final AdRepository ads;

    public CampaignService(CompanyRepository companies, CampaignRepository campaigns, AdRepository ads) {
        this.companies = companies;
        this.campaigns = campaigns;
        this.ads = ads;
    }

    /** The company's id is the caller's: it decides the shard, so it must be known before the first write. */
    @Transactional
    public void createCompany(@ShardKey long companyId, String name) {
        if (companies.existsById(companyId)) {
            throw new Conflict("company " + companyId + " exists");
        }
        companies.save(new Company(companyId, name));
    }

    /**
     * A campaign and its first ad in one transaction: both rows or neither. The campaign is flushed first, so its
     * row is in the database when the ad is inserted, at commit; an ad the database refuses (its text breaks
     * {@code ads_text_length}) rolls the campaign back with it.
     */
    @Transactional
    public NewCampaign createCampaign(@ShardKey long companyId, String name, String firstAdText) {
        requireCompany(companyId);
        Campaign campaign = campaigns.saveAndFlush(new Campaign(companyId, name));
        Ad ad = ads.save(new Ad(companyId, campaign.getCampaignId(), firstAdText));
        return new NewCampaign(companyId, campaign.getCampaignId(), ad.getAdId());
    }

    @Transactional
    public AdView createAd(@ShardKey long companyId, long campaignId, String text) {
        if (!campaigns.existsByCompanyIdAndId(companyId, campaignId)) {
            throw new NotFound("campaign " + campaignId + " of company " + companyId + " does not exist");
        }
        Ad ad = ads.save(new Ad(companyId, campaignId, text));
        return new AdView(companyId, ad.getAdId(), campaignId, text);
    }

    /** Read-only: Hibernate neither flushes nor keeps snapshots, and the connection is read-only. */
    @Transactional(readOnly = true)
    public List<CampaignView> campaigns(@ShardKey long companyId) {
        requireCompany(companyId);
        Map<Long, List<AdView>> byCampaign = ads.findByCompanyIdOrderById(companyId).stream()
                .map(a -> new AdView(companyId, a.getAdId(), a.getCampaignId(), a.getText()))
                .collect(Collectors.groupingBy(AdView::campaignId));
        return campaigns.findByCompanyIdOrderById(companyId).stream()
                .map(c -> new CampaignView(companyId, c.getCampaignId(), c.getName(),
                        byCampaign.getOrDefault(c.getCampaignId(), List.of())))
                .toList();
    }

    private void requireCompany(long companyId) {
        if (!companies.existsById(companyId)) {
            throw new NotFound("company " + companyId + " does not exist; create it with POST /companies first");
        }
    }
}
