package io.shardring.examples.jpa;

import java.util.List;
import org.springframework.data.jpa.repository.JpaRepository;

/** Every query names the company: the shard holds other companies' campaigns too. */
public interface CampaignRepository extends JpaRepository<Campaign, CampaignId> {
    List<Campaign> findByCompanyIdOrderById(long companyId);

    boolean existsByCompanyIdAndId(long companyId, long id);
}
